"""The toy task benchmark as the evaluation reads it: exact-match problems
and multiple-choice rows, built from the held-out benchmark rows of the
ingest (``heldout.parquet``, split ``benchmark``) and the raw items the
generator wrote."""

from __future__ import annotations

import json

import pandas as pd

from .choices import MC_KEYS, mc_rows
from .generator import final_answer, solve


def _read_items(path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def benchmark_problems(
    heldout: pd.DataFrame, mc_path, per_family: int, template, tokenizer=None
) -> tuple[list[dict], list[dict], dict]:
    """(problems, mc_rows, ledger).

    problems: ``per_family`` benchmark problems of each family for exact
    match, depths cycling (within a depth in id order), each with id,
    instruction, input, output, domain, labels, steps and answer (recomputed
    by the independent solver, which must agree with the response). mc_rows:
    one row per benchmark problem (:data:`ila.pool.toy.choices.MC_KEYS`),
    ordered by family then id, the prompt rendered by ``template`` (and
    ``tokenizer``, for ``model.prompt.chat_template``). Raises ValueError
    when a family has fewer than ``per_family`` problems, when a benchmark
    answer is wrong, or when the raw items and the benchmark rows do not
    name the same ids."""
    if isinstance(per_family, bool) or not isinstance(per_family, int) or per_family < 0:
        raise ValueError(f"per_family must be a non-negative int (0: no exact-match problems), got {per_family!r}")
    bench = heldout[heldout["split"] == "benchmark"].sort_values("id", kind="stable")
    recs: list[dict] = []
    for row in bench.to_dict(orient="records"):
        rec = {k: row[k] for k in ("id", "instruction", "input", "output", "domain")}
        rec["labels"] = [str(x) for x in row["labels"]]
        rec["steps"] = sum(line.startswith("Step ") for line in rec["output"].split("\n"))
        rec["answer"] = solve(rec)
        if final_answer(rec["output"]) != rec["answer"]:
            raise ValueError(f"benchmark row {rec['id']}: response answer {final_answer(rec['output'])!r} "
                             f"is not the solver's {rec['answer']!r}")
        recs.append(rec)
    problems: list[dict] = []
    per_fam: dict[str, int] = {}
    for fam in sorted({r["domain"] for r in recs}):
        depths = sorted({r["steps"] for r in recs if r["domain"] == fam})
        queues = [[r for r in recs if r["domain"] == fam and r["steps"] == d] for d in depths]
        taken: list[dict] = []
        while len(taken) < per_family and any(queues):
            for q in queues:
                if q and len(taken) < per_family:
                    taken.append(q.pop(0))
        if len(taken) < per_family:
            raise ValueError(f"benchmark family {fam!r} has {len(taken)} problems; "
                             f"scaling.eval_per_family asks for {per_family} (raise split.benchmark_per_family)")
        problems.extend(taken)
        per_fam[fam] = len(taken)
    items = _read_items(mc_path)
    item_ids, bench_ids = {it["id"] for it in items}, set(bench["id"])
    if item_ids != bench_ids:
        raise ValueError(f"{mc_path}: {len(item_ids - bench_ids)} items without a benchmark row, "
                         f"{len(bench_ids - item_ids)} benchmark rows without an item")
    rows = sorted(mc_rows(items, template, tokenizer), key=lambda r: (r["family"], r["id"]))
    ledger = {
        "drawn": len(recs),
        "kept": len(problems),
        "per_family": per_fam,
        "mc_items": len(rows),
        "mc_chance": 0.25,
        "mc_keys": list(MC_KEYS),
        "mc_per_family": {f: sum(r["family"] == f for r in rows) for f in sorted(per_fam)},
    }
    return problems, rows, ledger
