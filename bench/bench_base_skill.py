"""Does a stand-in base model read the prompt? How its pretraining recipe was chosen.

The scaling study's multiple-choice benchmark asks whether a model prefers
the gold response over another problem's correct response, the gold steps
with a wrong answer, and the flipped task's response. A tiny model
pretrained on docstrings alone reads at chance, fine-tuned or not
(bench_mc_capacity.py). This benchmark pretrains bases by the workflow's own
code (corpus, tokenizer, pretraining) under several recipes, fine-tunes each
on the study's budget of *random* candidates of a finished run's pool (the
realistic pool, corruptions included, as the random selector would), and
scores **probe items**: benchmark-style items built from problems drawn from
a stream of their own (``ila.probe.mc``), disjoint from the pool, dev, test
and benchmark rows. The recipe is chosen on these probes, never on the
benchmark or the test set the study is judged on.

A recipe is ``WORKEDxSTEPS`` or ``WORKEDxSTEPS@LR``: worked toy problems in
the corpus (model.tiny.worked_problems), pretraining steps and peak learning
rate (model.pretrain.steps, lr). The tokenizer is trained on each recipe's
corpus, as the workflow does.

    python bench/bench_base_skill.py --results results/default --recipes 0x500 20000x1600 \
        --out results/bench/base_skill.json
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path


def _args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default="results/default", help="a finished run of the workflow (toy pool)")
    p.add_argument("--recipes", nargs="+", default=["0x500", "20000x1600"], help="WORKEDxSTEPS[@LR]")
    p.add_argument("--probe-per-family", type=int, default=28, help="probe items per task family")
    p.add_argument("--subsets", type=int, default=3, help="random fine-tuning subsets per recipe")
    p.add_argument("--budget", type=int, default=200, help="examples per fine-tune (the study's budget)")
    p.add_argument("--layers", type=int, default=4, help="layers of the tiny model (config.yaml: 4)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="write the report here (JSON)")
    return p.parse_args(argv)


def parse_recipe(text: str) -> tuple[int, int, float]:
    """``WORKEDxSTEPS[@LR]`` -> (worked problems, steps, lr; 3e-3 by default)."""
    head, _, lr = text.partition("@")
    worked, _, steps = head.partition("x")
    try:
        return int(worked), int(steps), float(lr) if lr else 3e-3
    except ValueError:
        raise SystemExit(f"--recipes {text!r}: expected WORKEDxSTEPS or WORKEDxSTEPS@LR") from None


def probe_items(pool, heldout, per_family: int, families, seed: int = 0):
    """Benchmark-style items (ila.pool.toy.choices) of problems drawn from the
    ``ila.probe.mc`` stream, none of whose (instruction, input) is a pool or
    held-out row's; and the banned set grown by them."""
    from ila.pool.toy import choices
    from ila.pool.toy.generator import draw_cells

    banned = set(zip(pool["instruction"], pool["input"])) | set(zip(heldout["instruction"], heldout["input"]))
    plan = [(f, 1 + j % 5) for j in range(per_family) for f in families]
    drawn = draw_cells(plan, f"ila.probe.mc:{seed}", banned)
    banned |= {(r["instruction"], r["input"]) for r, _ in drawn}
    items, _ = choices.mc_items(drawn, seed)
    return items, banned


def score(model, tokenizer, items, mc_rows, answer_rows) -> dict:
    from ila import mc

    kinds = {it["id"]: it["distractors"] for it in items}
    out = {}
    for name, rows in (("mc", mc_rows), ("mc_answer", answer_rows)):
        frame = mc.score_items(model, tokenizer, rows)
        summary = mc.summarize(frame)
        out[name] = {"items": summary["n"], "accuracy": summary["mc_accuracy"], "se": summary["mc_accuracy_se"],
                     "chance": summary["chance"], "per_family": summary["per_family"]}
        if name == "mc":
            out[name]["picked"] = dict(sorted(collections.Counter(
                kinds[r["id"]][int(x.pred)] for r, x in zip(rows, frame.itertuples()) if x.scored).items()))
    return out


def main(argv=None) -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ila import io
    from ila.lm import corpus, jobs, pretrain
    from ila.lm.model import ModelShape
    from ila.lm.prompt import PromptTemplate
    from ila.lm.tokenizer import train_tokenizer
    from ila.lm.train import FinetuneSettings, finetune_model
    from ila.pool.toy import choices
    from ila.pool.toy.worked import worked_problems

    a = _args(argv)
    torch.set_num_threads(a.threads)
    results = Path(a.results)
    pool = io.read_parquet(results / "pool/pool.parquet")
    heldout = io.read_parquet(results / "pool/heldout.parquet")
    truth = io.read_parquet(results / "pool/truth.parquet")
    families = sorted(truth["domain"].unique())
    items, banned = probe_items(pool, heldout, a.probe_per_family, families)
    template = PromptTemplate()
    mc_rows = choices.mc_rows(items, template)
    answer_rows, _ = choices.answer_rows(items, template)
    candidates = pool[pool["id"].isin(set(io.read_ids(results / "pool/candidate_ids.txt")))]
    shape = ModelShape(max_position=256, hidden=64, layers=a.layers, heads=4, ffn=256)  # config.yaml's tiny model
    docstrings = corpus.generic_corpus()
    report = {"results": str(results), "probe_items": len(mc_rows), "probe_answer_items": len(answer_rows),
              "budget": a.budget, "subsets": a.subsets, "shape": shape.__dict__, "recipes": []}
    for text in a.recipes:
        worked_n, steps, lr = parse_recipe(text)
        t0 = time.perf_counter()
        # the corpus's worked problems avoid the probes too (they are drawn after them)
        worked = worked_problems(worked_n, 0, banned) if worked_n else []
        texts = jobs.pretraining_corpus(docstrings, worked, 0)
        with tempfile.TemporaryDirectory(prefix="ila-base-skill-") as scratch:
            tok_dir, base = f"{scratch}/tokenizer", f"{scratch}/base"
            train_tokenizer(texts, 2048, tok_dir)
            met = pretrain.pretrain(tok_dir, texts, shape, pretrain.PretrainSettings(steps=steps, lr=lr), seed=0,
                                    out_dir=base, threads=a.threads)
            tokenizer = AutoTokenizer.from_pretrained(base)
            row = {"recipe": text, "worked_problems": worked_n, "steps": steps, "lr": lr,
                   "pretrain_seconds": met["seconds"], "pretrain_last_loss": met["last_loss"],
                   "tokens_per_candidate": sum(len(tokenizer(template.render(r) + r["output"])["input_ids"])
                                               for r in candidates.head(500).to_dict("records")) / 500,
                   "base": score(AutoModelForCausalLM.from_pretrained(base), tokenizer, items, mc_rows, answer_rows),
                   "finetuned": []}
            for s in range(a.subsets):
                records = candidates.sample(n=a.budget, random_state=s).to_dict("records")
                trainer, tok, _ = finetune_model(base, records, FinetuneSettings(epochs=2), seed=s, threads=a.threads)
                row["finetuned"].append(score(trainer.model, tok, items, mc_rows, answer_rows))
        for name in ("mc", "mc_answer"):
            accs = [r[name]["accuracy"] for r in row["finetuned"]]
            row[f"finetuned_{name}_mean"] = sum(accs) / len(accs)
        row["seconds"] = time.perf_counter() - t0
        report["recipes"].append(row)
        print(json.dumps({k: v for k, v in row.items() if k not in ("base", "finetuned")}), file=sys.stderr)
    text = json.dumps(report, indent=2, sort_keys=True)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
