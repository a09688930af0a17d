"""How much fine-tuning the toy benchmark needs before it reads above chance.

The scaling study's 4-way multiple-choice benchmark (``mc``: whole
responses; ``mc_answer``: the answer line after the gold steps) sits at
chance in the default run. This tells apart "the benchmark cannot measure"
from "the study's fine-tunes are too small to learn the skill": it
fine-tunes the run's base model on growing amounts of *clean* candidates
(ground truth from ``pool/truth.parquet``: no selector is involved, and no
dev, test or benchmark row), scores both benchmarks exactly as the study
does (:func:`ila.mc.score_items`), and reports accuracy with its standard
error and which distractor kind each model picked.

Reads a finished run of the workflow (``--results``, e.g. results/default).

    python bench/bench_mc_capacity.py --results results/default --out results/bench/mc_capacity.json
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import sys
import time
from pathlib import Path

#: (clean examples, epochs): the study's size (budget 200, 2 epochs), 10x and ~50x its example passes
DEFAULT_LEVELS = ("200x2", "2000x2", "3500x6")


def _args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default="results/default", help="a finished run of the workflow (toy pool)")
    p.add_argument("--levels", nargs="+", default=list(DEFAULT_LEVELS), help="fine-tunes as EXAMPLESxEPOCHS")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write the report here (JSON)")
    return p.parse_args(argv)


def _kinds(raw: dict, item: dict) -> list[str]:
    """The distractor kind of each of an item's choices (the answer-line
    variant holds only the final line of each raw choice)."""
    out = []
    for choice in item["choices"]:
        kind = next((k for c, k in zip(raw["choices"], raw["distractors"])
                     if c == choice or c.rstrip().split("\n")[-1] == choice.strip()), "unknown")
        out.append(kind)
    return out


def score(model, tokenizer, results: Path, raw: dict) -> dict:
    from ila import mc

    report = {}
    for name in ("eval_mc", "eval_mc_answer"):
        path = results / "scaling" / f"{name}.jsonl"
        if not path.exists():
            continue
        items = mc.read_items(path)
        frame = mc.score_items(model, tokenizer, items)
        scored = frame[frame["scored"]]
        n, p = len(scored), float(scored["correct"].mean())
        picked = collections.Counter(_kinds(raw[it["id"]], it)[int(row.pred)]
                                     for it, row in zip(items, frame.itertuples()) if row.scored)
        report[name] = {"items": n, "accuracy": p, "se": math.sqrt(p * (1 - p) / n) if n else None,
                        "chance": float((1 / scored["n_choices"]).mean()), "picked": dict(sorted(picked.items()))}
    return report


def main(argv=None) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ila import io, models
    from ila.lm.train import FinetuneSettings, finetune_model

    a = _args(argv)
    torch.set_num_threads(a.threads)
    results = Path(a.results)
    base = models.read_handle(results / "models/base.json")
    raw = {r["id"]: r for r in io.read_jsonl(results / "pool/raw/toy_mc.jsonl")}
    pool = io.read_parquet(results / "pool/pool.parquet")
    truth = io.read_parquet(results / "pool/truth.parquet")
    candidates = set(io.read_ids(results / "pool/candidate_ids.txt"))
    clean = pool[pool["id"].isin(set(truth.loc[truth["corruption"] == "none", "id"]) & candidates)]
    tokenizer = AutoTokenizer.from_pretrained(base)
    rows = [{"level": "base", "examples": 0, "epochs": 0, **score(AutoModelForCausalLM.from_pretrained(base), tokenizer,
                                                                  results, raw)}]
    for level in a.levels:
        n, epochs = level.split("x")
        n, epochs = int(n), float(epochs)
        if n > len(clean):
            raise SystemExit(f"--levels {level}: only {len(clean)} clean candidates")
        records = clean.sample(n=n, random_state=a.seed).to_dict("records")
        t0 = time.perf_counter()
        trainer, tok, metrics = finetune_model(base, records, FinetuneSettings(epochs=epochs), seed=a.seed,
                                               threads=a.threads)
        rows.append({"level": level, "examples": n, "epochs": epochs, "example_passes": int(n * epochs),
                     "train_seconds": time.perf_counter() - t0, "last_loss": metrics["last_loss"],
                     **score(trainer.model, tok, results, raw)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    report = {"results": str(results), "base": base, "clean_candidates": len(clean), "rows": rows}
    text = json.dumps(report, indent=2, sort_keys=True)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
