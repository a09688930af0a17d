"""The study's summary: per method and point, comparisons with the reference."""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd


from .table import DEV_COLUMNS

LOWER_IS_BETTER = {c: True for c in DEV_COLUMNS} | {"accuracy": False}


def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _stats(values: Sequence[float]) -> dict | None:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    if not len(v):
        return None
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else None,
        "min": float(v.min()),
        "max": float(v.max()),
        "n": int(len(v)),
    }


def _compare(ref: pd.Series, other: pd.Series, lower_is_better: bool) -> dict | None:
    """Paired by seed: diff = reference - other, for the seeds both have."""
    both = pd.concat([ref.rename("ref"), other.rename("other")], axis=1, join="inner").dropna()
    if both.empty:
        return None
    diff = (both["ref"] - both["other"]).to_numpy(dtype=np.float64)
    better = diff < 0 if lower_is_better else diff > 0
    worse = diff > 0 if lower_is_better else diff < 0
    mean = float(diff.mean())
    if mean == 0:
        verdict = "tie"
    elif (mean < 0) == lower_is_better:
        verdict = "reference_better"
    else:
        verdict = "reference_worse"
    return {
        "mean_diff": mean,
        "diffs": {str(int(s)): float(d) for s, d in zip(both.index, diff)},
        "min_diff": float(diff.min()),
        "max_diff": float(diff.max()),
        "std_diff": float(diff.std(ddof=1)) if len(diff) > 1 else None,
        "n_seeds": int(len(diff)),
        "reference_wins": int(better.sum()),
        "reference_losses": int(worse.sum()),
        "ties": int(len(diff) - better.sum() - worse.sum()),
        "verdict": verdict,
    }


def _cell(table: pd.DataFrame, fraction: float, budget: int, metrics: Sequence[str], reference: str) -> dict:
    sub = table[(table["pool_fraction"] == fraction) & (table["budget"] == budget)]
    by = {m: g.set_index("seed") for m, g in sub.groupby("method", sort=True)}
    out: dict[str, Any] = {
        "pool_fraction": float(fraction),
        "pool_size": int(sub["pool_size"].iloc[0]),
        "budget": int(budget),
        "methods": {},
        "vs": {},
    }
    for m, g in by.items():
        out["methods"][m] = {k: _stats(g[k].map(_num).tolist()) for k in metrics}
        out["methods"][m]["coverage_occupied"] = _stats(g["coverage_occupied"].map(_num).tolist())
        out["methods"][m]["mean_RID"] = _stats(g["mean_RID"].map(_num).tolist())
    if reference in by:
        ref = by[reference]
        for m, g in by.items():
            if m == reference:
                continue
            out["vs"][m] = {
                k: _compare(ref[k].map(_num), g[k].map(_num), LOWER_IS_BETTER[k]) for k in metrics
            }
    ranked = sorted(
        ((out["methods"][m][metrics[0]]["mean"], m) for m in by if out["methods"][m][metrics[0]] is not None),
        reverse=not LOWER_IS_BETTER[metrics[0]],
    )
    out["rank"] = [m for _, m in ranked]
    return out


def _margin(cell: dict, baseline: str, metric: str) -> float | None:
    """Reference's improvement over the baseline (positive = reference
    better) in one cell."""
    cmp = cell["vs"].get(baseline, {}).get(metric)
    if cmp is None:
        return None
    return -cmp["mean_diff"] if LOWER_IS_BETTER[metric] else cmp["mean_diff"]


def _trend(xs: Sequence[float], ys: Sequence[float | None]) -> dict:
    pts = [(x, y) for x, y in zip(xs, ys) if y is not None]
    if len(pts) < 2:
        return {"grows": None, "monotone": None, "change": None, "slope_per_doubling": None}
    x = np.log2([p[0] for p in pts])
    y = np.array([p[1] for p in pts], dtype=np.float64)
    slope = float(np.polyfit(x, y, 1)[0]) if len(set(x)) > 1 else None
    steps = np.diff(y)
    return {
        "grows": bool(y[-1] > y[0]),
        "monotone": bool((steps > 0).all()),
        "change": float(y[-1] - y[0]),
        "slope_per_doubling": slope,
    }


def summarize(
    table: pd.DataFrame,
    metric: str = "dev_loss",
    reference: str = "ila",
    baseline: str = "random",
    fixed_budget: int | None = None,
    notes: Sequence[str] = (),
) -> dict:
    """Does the reference selector (ILA) beat random and each baseline, by
    how much, and does its margin over ``baseline`` grow with the pool?

    For every (pool fraction, budget) cell of ``table``
    (:func:`scaling_table`): each method's mean/std/min/max over seeds of
    ``metric`` and accuracy, and for each other method the seed-paired
    difference reference - method (``mean_diff``; lower dev loss and higher
    accuracy are better; ``verdict`` reference_better / reference_worse /
    tie on the mean, wins/losses counted per seed). ``by_budget``: the cells
    at the largest pool fraction. ``pool_scaling``: at ``fixed_budget``
    (default: the budget present at the most pool fractions, the largest on
    ties), the reference's margin over ``baseline`` at each pool size
    (positive = reference better) and whether it grows from the smallest to
    the largest pool (``grows``), at every step (``monotone``), and its
    least-squares slope per doubling of the pool; and for every method how
    much its score improves from the smallest to the largest pool.
    ``notes``: caveats carried into the summary and its Markdown (e.g. that
    Deita ran with a proxy scorer)."""
    if metric not in DEV_COLUMNS:
        raise ValueError(f"metric must be one of {DEV_COLUMNS}, got {metric!r}")
    have_acc = "accuracy" in table.columns and table["accuracy"].map(_num).notna().any()
    metrics = [metric] + (["accuracy"] if have_acc else [])
    methods = sorted(table["method"].unique())
    cells_idx = table[["pool_fraction", "budget"]].drop_duplicates().sort_values(["pool_fraction", "budget"])
    cells = [_cell(table, f, int(b), metrics, reference) for f, b in cells_idx.itertuples(index=False)]
    top = float(table["pool_fraction"].max())
    by_budget = [c for c in cells if c["pool_fraction"] == top]
    if fixed_budget is None:
        counts = cells_idx.groupby("budget").size()
        fixed_budget = int(counts[counts == counts.max()].index.max())
    pool_cells = sorted((c for c in cells if c["budget"] == fixed_budget), key=lambda c: c["pool_size"])
    sizes = [c["pool_size"] for c in pool_cells]
    pool = {"budget": int(fixed_budget), "pool_fractions": [c["pool_fraction"] for c in pool_cells], "pool_sizes": sizes}
    for k in metrics:
        margins = [_margin(c, baseline, k) for c in pool_cells]
        pool[k] = {"margin_over_baseline": margins, **_trend(sizes, margins)}
        pool[k]["method_gain_small_to_large_pool"] = {}
        for m in methods:
            vals = [c["methods"].get(m, {}).get(k) for c in pool_cells]
            vals = [v["mean"] if v else None for v in vals]
            if len(vals) >= 2 and vals[0] is not None and vals[-1] is not None:
                gain = vals[0] - vals[-1] if LOWER_IS_BETTER[k] else vals[-1] - vals[0]
                pool[k]["method_gain_small_to_large_pool"][m] = float(gain)
    summary = {
        "metric": metric,
        "metrics": metrics,
        "lower_is_better": {k: LOWER_IS_BETTER[k] for k in metrics},
        "reference": reference,
        "baseline": baseline,
        "reference_present": reference in methods,
        "baseline_present": baseline in methods,
        "methods": methods,
        "seeds": sorted(int(s) for s in table["seed"].unique()),
        "n_runs": int(len(table)),
        "largest_pool_fraction": top,
        "cells": cells,
        "by_budget": by_budget,
        "pool_scaling": pool,
        "notes": list(notes),
    }
    summary["headline"] = _headline(summary)
    return summary


def _fmt(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:+.{digits}f}"


def _headline(s: dict) -> list[str]:
    ref, base = s["reference"], s["baseline"]
    if not s["reference_present"]:
        return [f"The reference method {ref!r} is not among the methods {s['methods']}: no comparison."]
    lines = []
    for k in s["metrics"]:
        better = "lower" if s["lower_is_better"][k] else "higher"
        for cell in s["by_budget"]:
            wins = [m for m, v in cell["vs"].items() if v.get(k) and v[k]["verdict"] == "reference_better"]
            losses = [m for m, v in cell["vs"].items() if v.get(k) and v[k]["verdict"] == "reference_worse"]
            ties = [m for m, v in cell["vs"].items() if v.get(k) and v[k]["verdict"] == "tie"]
            text = f"{k} ({better} is better), budget {cell['budget']}, pool {cell['pool_size']}: {ref} beats {len(wins)} of {len(cell['vs'])} methods"
            if losses:
                text += "; loses to " + ", ".join(f"{m} ({_fmt(cell['vs'][m][k]['mean_diff'])})" for m in losses)
            if ties:
                text += "; ties " + ", ".join(ties)
            cmp = cell["vs"].get(base, {}).get(k)
            if cmp:
                text += f"; vs {base}: mean diff {_fmt(cmp['mean_diff'])} ({cmp['reference_wins']}/{cmp['n_seeds']} seeds better)"
            lines.append(text + ".")
        p = s["pool_scaling"].get(k)
        if p and p["grows"] is not None:
            margins = ", ".join(f"{n}: {_fmt(m)}" for n, m in zip(s["pool_scaling"]["pool_sizes"], p["margin_over_baseline"]))
            verb = "grows" if p["grows"] else "does not grow"
            lines.append(
                f"{k}: at budget {s['pool_scaling']['budget']} the margin of {ref} over {base} {verb} with pool size "
                f"(pool size: margin, positive = {ref} better: {margins}; monotone: {p['monotone']})."
            )
    return lines


def summary_markdown(summary: dict) -> str:
    """The summary as Markdown: headline, then one table per budget at the
    largest pool and one for the pool sizes at the fixed budget."""
    s = summary
    ref = s["reference"]
    out = [
        "# Selection and accelerated-scaling study",
        "",
        (
            f"Reference method **{ref}**, baseline **{s['baseline']}**, metric **{s['metric']}**; "
            f"{s['n_runs']} runs, methods {', '.join(s['methods'])}, seeds {s['seeds']}. "
            f"Diff = {ref} - method, paired by seed (dev loss: negative = {ref} better; "
            f"accuracy: positive = {ref} better)."
        ),
        "",
        "## Headline",
        "",
        *[f"- {line}" for line in s["headline"]],
        "",
    ]
    if s.get("notes"):
        out += ["## Notes", "", *[f"- {n}" for n in s["notes"]], ""]

    def table_for(cells: list[dict], label: str) -> list[str]:
        lines = []
        for cell in cells:
            lines += [f"### {label(cell)}", ""]
            head = "| method | " + " | ".join(
                f"{k} mean | {k} spread | diff vs {ref} | {ref} wins" for k in s["metrics"]
            ) + " | coverage | mean RID |"
            lines += [head, "|" + "---|" * (1 + 4 * len(s["metrics"]) + 2)]
            for m in cell["rank"] + [m for m in cell["methods"] if m not in cell["rank"]]:
                st = cell["methods"][m]
                parts = [m]
                for k in s["metrics"]:
                    v = st.get(k)
                    spread = "n/a"
                    if v and v["n"] > 1:
                        spread = f"{v['min']:.4f}..{v['max']:.4f} (sd {v['std']:.4f})"
                    parts.append("n/a" if not v else f"{v['mean']:.4f}")
                    parts.append(spread)
                    cmp = cell["vs"].get(m, {}).get(k)
                    parts.append("-" if m == ref else _fmt(cmp["mean_diff"]) if cmp else "n/a")
                    parts.append("-" if m == ref else f"{cmp['reference_wins']}/{cmp['n_seeds']}" if cmp else "n/a")
                cov, rid = st.get("coverage_occupied"), st.get("mean_RID")
                parts.append("n/a" if not cov else f"{cov['mean']:.3f}")
                parts.append("n/a" if not rid else f"{rid['mean']:.3f}")
                lines.append("| " + " | ".join(parts) + " |")
            lines.append("")
        return lines

    out += ["## By budget (largest pool)", ""]
    out += table_for(s["by_budget"], lambda c: f"budget {c['budget']}, pool {c['pool_size']} (fraction {c['pool_fraction']:g})")
    p = s["pool_scaling"]
    pool_cells = [c for c in s["cells"] if c["budget"] == p["budget"]]
    pool_cells.sort(key=lambda c: c["pool_size"])
    out += [f"## By pool size (budget {p['budget']})", ""]
    for k in s["metrics"]:
        q = p[k]
        out.append(
            f"- {k}: margin of {ref} over {s['baseline']} by pool size "
            + ", ".join(f"{n}: {_fmt(m)}" for n, m in zip(p["pool_sizes"], q["margin_over_baseline"]))
            + f"; grows: {q['grows']}, monotone: {q['monotone']}, slope per doubling: {_fmt(q['slope_per_doubling'])}"
        )
        gains = q["method_gain_small_to_large_pool"]
        if gains:
            out.append(
                f"- {k}: improvement from the smallest to the largest pool: "
                + ", ".join(f"{m} {_fmt(g)}" for m, g in sorted(gains.items(), key=lambda t: -t[1]))
            )
    out.append("")
    out += table_for(pool_cells, lambda c: f"pool {c['pool_size']} (fraction {c['pool_fraction']:g}), budget {c['budget']}")
    return "\n".join(out).rstrip() + "\n"


