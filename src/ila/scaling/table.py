"""One row per run of the study: the table every summary and figure reads,
and the wall-clock timings in a table of their own (so every other table
is byte-identical between two runs of the same config)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from .grid import parse_key

#: response-loss columns of a held-out set (``<set>_loss`` ...), as the runs report them (ila.finetune.core)
LOSS_SUFFIXES = ("loss", "loss_domain_mean", "loss_example_mean", "loss_clipped")
TEST_COLUMNS = tuple(f"test_{s}" for s in LOSS_SUFFIXES)
#: multiple-choice benchmark columns (ila.mc.summarize)
MC_COLUMNS = ("mc_accuracy", "mc_accuracy_se", "mc_acc_norm", "mc_chance", "answer_loss", "gold_loss",
              "mc_answer_accuracy", "mc_answer_accuracy_se", "mc_answer_chance")
LEADING = ["method", "pool_fraction", "pool_size", "budget", "replicate", "n_selected", "short_by", *TEST_COLUMNS,
           *MC_COLUMNS, "accuracy"]
KEY = ["method", "pool_fraction", "budget", "replicate"]
#: wall-clock columns: in tables/scaling_timings.csv only
TIMING_COLUMNS = ("selection_seconds", "train_seconds", "eval_seconds")


def _point(s: dict, r: dict) -> dict:
    point = parse_key(r["key"])
    return {"method": r["method"], "pool_fraction": point.fraction, "pool_size": s["pool_size"],
            "budget": point.budget, "replicate": point.replicate}


def _join(selections: Sequence[dict], runs: Sequence[dict]) -> list[tuple[dict, dict]]:
    sel = {(s["method"], s["key"]): s for s in selections}
    if len(sel) != len(selections):
        raise ValueError("two selection records share a (method, key)")
    pairs = []
    for r in runs:
        k = (r["method"], r["key"])
        if k not in sel:
            raise KeyError(f"run {k[0]}/{k[1]} has no selection record")
        pairs.append((sel[k], r))
    if not pairs:
        raise ValueError("no scaling runs")
    return pairs


def scaling_table(selections: Sequence[dict], runs: Sequence[dict]) -> pd.DataFrame:
    """One row per run: the grid point; the test losses; the multiple-choice
    benchmark (accuracy, its standard error, chance, ``mc_accuracy_<family>``,
    the answer-line and gold-response losses) and its answer-line variant
    (``mc_answer_accuracy`` ...: the final answer after the gold steps); the loss on each held-out
    benchmark of a real pool (``benchmark_loss`` and
    ``benchmark_loss_<benchmark>``); exact-match accuracy where measured
    (``accuracy``, a diagnostic); the selection's coverage_occupied, cells,
    mean_RID and ``excluded_<reason>`` counts; training facts. Null where a
    run did not measure a column. Selections and runs are joined by
    (method, key). No wall-clock column (see :func:`timing_table`)."""
    rows = []
    for s, r in _join(selections, runs):
        info = s.get("info", {})
        row = {**_point(s, r), "n_selected": s["n_selected"], "short_by": info.get("short_by", 0)}
        for c in TEST_COLUMNS:
            row[c] = r.get(c)
        mc = r.get("mc") or {}
        row.update({"mc_accuracy": mc.get("mc_accuracy"), "mc_accuracy_se": mc.get("mc_accuracy_se"),
                    "mc_acc_norm": mc.get("acc_norm"), "mc_chance": mc.get("chance"),
                    "answer_loss": mc.get("answer_loss"), "gold_loss": mc.get("gold_loss")})
        for fam, acc in sorted((mc.get("per_family") or {}).items()):
            row[f"mc_accuracy_{fam}"] = acc["accuracy"] if isinstance(acc, dict) else acc
        answer = r.get("mc_answer") or {}
        row.update({"mc_answer_accuracy": answer.get("mc_accuracy"), "mc_answer_accuracy_se": answer.get("mc_accuracy_se"),
                    "mc_answer_chance": answer.get("chance")})
        for fam, acc in sorted((answer.get("per_family") or {}).items()):
            row[f"mc_answer_accuracy_{fam}"] = acc
        if "benchmark_loss" in r:
            row["benchmark_loss"] = r["benchmark_loss"]
            for bench, loss in sorted(r.get("benchmark_per_domain", {}).items()):
                row[f"benchmark_loss_{bench}"] = loss
        acc = r.get("accuracy")
        row["accuracy"] = acc["accuracy"] if acc else None
        for fam, st in sorted((acc or {}).get("per_family", {}).items()):
            row[f"accuracy_{fam}"] = st["accuracy"]
        row["no_answer"] = acc["no_answer"] if acc else None
        row["coverage_occupied"] = info.get("coverage_occupied")
        row["cells"] = info.get("cells_reached")
        row["cells_occupied"] = info.get("cells_occupied")
        row["mean_RID"] = info.get("mean_RID")
        row["excluded_total"] = int(sum(s.get("excluded", {}).values()))
        for reason, n in sorted(s.get("excluded", {}).items()):
            row[f"excluded_{reason}"] = n
        for c in ("train_loss", "steps", "train_examples", "train_response_tokens", "truncated", "untrainable",
                  "run_seed"):
            row[c] = r.get(c)
        rows.append(row)
    table = pd.DataFrame(rows)
    groups = [sorted(c for c in table.columns if c.startswith(p) and c not in LEADING)
              for p in ("mc_accuracy_", "mc_answer_accuracy_", "benchmark_loss", "accuracy_")]
    excl = sorted(c for c in table.columns if c.startswith("excluded_") and c != "excluded_total")
    placed = set(LEADING) | {c for g in groups for c in g} | set(excl)
    rest = [c for c in table.columns if c not in placed]
    table = table[LEADING + [c for g in groups for c in g] + rest + excl]
    return table.sort_values(KEY, kind="stable").reset_index(drop=True)


def timing_table(selections: Sequence[dict], runs: Sequence[dict]) -> pd.DataFrame:
    """The wall-clock seconds of every run: selection, training, evaluation
    (one row per run, keyed like :func:`scaling_table`)."""
    rows = [{**_point(s, r), "selection_seconds": s.get("seconds"), "train_seconds": r.get("train_seconds"),
             "eval_seconds": r.get("eval_seconds")} for s, r in _join(selections, runs)]
    return pd.DataFrame(rows).sort_values(KEY, kind="stable").reset_index(drop=True)
