"""One row per run of the study: the table every summary and figure reads."""

from __future__ import annotations

from typing import Sequence

import pandas as pd


from .grid import parse_key

DEV_COLUMNS = ("dev_loss", "dev_loss_domain_mean", "dev_loss_example_mean", "dev_loss_clipped")
LEADING = ["method", "pool_fraction", "pool_size", "budget", "seed", "n_selected", "short_by", *DEV_COLUMNS, "accuracy"]


def scaling_table(selections: Sequence[dict], runs: Sequence[dict]) -> pd.DataFrame:
    """One row per run: the grid point, dev losses, accuracy (overall and
    ``accuracy_<family>``, null where not measured), the selection's
    coverage_occupied, cells, mean_RID, selection_seconds and
    ``excluded_<reason>`` counts (null where the method has no such reason),
    training facts. Selections and runs are joined by (method, key)."""
    sel = {(s["method"], s["key"]): s for s in selections}
    if len(sel) != len(selections):
        raise ValueError("two selection records share a (method, key)")
    rows = []
    for r in runs:
        k = (r["method"], r["key"])
        if k not in sel:
            raise KeyError(f"run {k[0]}/{k[1]} has no selection record")
        s = sel[k]
        point = parse_key(r["key"])
        info = s.get("info", {})
        row = {
            "method": r["method"],
            "pool_fraction": point.fraction,
            "pool_size": s["pool_size"],
            "budget": point.budget,
            "seed": point.seed,
            "n_selected": s["n_selected"],
            "short_by": info.get("short_by", 0),
        }
        for c in DEV_COLUMNS:
            row[c] = r.get(c)
        acc = r.get("accuracy")
        row["accuracy"] = acc["accuracy"] if acc else None
        for fam, st in sorted((acc or {}).get("per_family", {}).items()):
            row[f"accuracy_{fam}"] = st["accuracy"]
        row["no_answer"] = acc["no_answer"] if acc else None
        row["coverage_occupied"] = info.get("coverage_occupied")
        row["cells"] = info.get("cells_reached")
        row["cells_occupied"] = info.get("cells_occupied")
        row["mean_RID"] = info.get("mean_RID")
        row["selection_seconds"] = s.get("seconds")
        row["excluded_total"] = int(sum(s.get("excluded", {}).values()))
        for reason, n in sorted(s.get("excluded", {}).items()):
            row[f"excluded_{reason}"] = n
        for c in ("train_loss", "steps", "train_examples", "train_response_tokens", "truncated", "untrainable",
                  "train_seconds", "eval_seconds", "run_seed"):
            row[c] = r.get(c)
        rows.append(row)
    if not rows:
        raise ValueError("no scaling runs")
    table = pd.DataFrame(rows)
    acc_fam = sorted(c for c in table.columns if c.startswith("accuracy_"))
    excl = sorted(c for c in table.columns if c.startswith("excluded_") and c != "excluded_total")
    rest = [c for c in table.columns if c not in LEADING and c not in acc_fam and c not in excl]
    table = table[LEADING + acc_fam + rest + excl]
    return table.sort_values(["method", "pool_fraction", "budget", "seed"], kind="stable").reset_index(drop=True)


