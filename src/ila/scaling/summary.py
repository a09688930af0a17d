"""The study's summary, with the intervals of :mod:`ila.stats`.

Per method and grid point: the mean of each metric over the replicates with
its 95% t interval. Per method and point: the difference to the baseline
(method - baseline, paired by replicate) with its interval; it *holds* only
where the interval excludes 0. For accelerated scaling, at the fixed budget:
the slope of each method's paired margin to the baseline on log2(pool size),
and the baseline's own slope, with intervals. The predictions written in the
config before the run are checked against those numbers: each *held*,
*failed* (the interval lies on the other side, or excludes 0 where no effect
was predicted) or is *not shown* (the interval includes 0).
"""

from __future__ import annotations

import math
from typing import Sequence

import pandas as pd

from ila import stats

#: metrics where lower is better (the sign of "better" in the headline)
LOWER_IS_BETTER = {"test_loss": True, "test_loss_domain_mean": True, "test_loss_example_mean": True,
                   "test_loss_clipped": True, "answer_loss": True, "gold_loss": True, "benchmark_loss": True,
                   "mc_accuracy": False, "mc_acc_norm": False, "mc_answer_accuracy": False, "accuracy": False}
POINT = ["pool_fraction", "pool_size", "budget"]
EXPECTATIONS = ("negative", "positive", "zero")


def _finite(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _records(frame: pd.DataFrame) -> list[dict]:
    out = []
    for row in frame.to_dict("records"):
        out.append({k: (_finite(v) if isinstance(v, float) else v) for k, v in row.items()})
    return out


def available_metrics(table: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    """The metrics of ``metrics`` the table measured (a column with a value)."""
    return [m for m in metrics if m in table.columns and pd.to_numeric(table[m], errors="coerce").notna().any()]


def outcome(expect: str, ci_low: float | None, ci_high: float | None) -> str:
    """held / failed / not shown, for a predicted sign of an interval."""
    if expect not in EXPECTATIONS:
        raise ValueError(f"a prediction expects one of {EXPECTATIONS}, got {expect!r}")
    if ci_low is None or ci_high is None:
        return "not shown"
    excludes = ci_low > 0 or ci_high < 0
    if expect == "zero":
        return "failed" if excludes else "held"
    if not excludes:
        return "not shown"
    return "held" if (ci_high < 0) == (expect == "negative") else "failed"


def _largest_pool(table: pd.DataFrame, budget: int) -> dict:
    sub = table[table["budget"] == budget]
    top = sub["pool_fraction"].max()
    row = sub[sub["pool_fraction"] == top].iloc[0]
    return {"pool_fraction": float(row["pool_fraction"]), "pool_size": int(row["pool_size"]), "budget": int(budget)}


def check_predictions(predictions: Sequence[dict], differences: pd.DataFrame, slopes: pd.DataFrame,
                      table: pd.DataFrame, fixed_budget: int) -> list[dict]:
    """Each prediction with the numbers that decide it and its outcome.

    A prediction: {id, text, kind: difference | slope, method, reference
    (a method, or null for a slope of the method's own metric), metric,
    expect: negative | positive | zero}; a difference is read at the
    largest pool and the fixed budget unless it names pool_fraction and
    budget."""
    out = []
    for p in predictions:
        kind, metric, method, ref = p["kind"], p["metric"], p["method"], p.get("reference")
        row = None
        if kind == "difference":
            where = {"pool_fraction": p.get("pool_fraction"), "budget": p.get("budget")}
            if where["pool_fraction"] is None or where["budget"] is None:
                where = {k: v for k, v in _largest_pool(table, fixed_budget).items() if k != "pool_size"}
            sel = differences[(differences["method"] == method) & (differences["reference"] == ref)
                              & (differences["metric"] == metric)
                              & (differences["pool_fraction"] == where["pool_fraction"])
                              & (differences["budget"] == where["budget"])]
            row = sel.iloc[0].to_dict() if len(sel) else None
            value = "diff"
        elif kind == "slope":
            sel = slopes[(slopes["method"] == method) & (slopes["metric"] == metric)
                         & (slopes["reference"].isna() if ref is None else slopes["reference"] == ref)]
            row = sel.iloc[0].to_dict() if len(sel) else None
            value = "slope"
        else:
            raise ValueError(f"prediction {p.get('id')}: kind must be 'difference' or 'slope', got {kind!r}")
        lo = _finite(row["ci_low"]) if row else None
        hi = _finite(row["ci_high"]) if row else None
        out.append({**p, "value": _finite(row[value]) if row else None, "ci_low": lo, "ci_high": hi,
                    "n": int(row.get("n", row.get("n_replicates", 0)) or 0) if row else 0,
                    "outcome": outcome(p["expect"], lo, hi) if row else "not measured"})
    return out


def summarize(table: pd.DataFrame, metrics: Sequence[str], baseline: str, fixed_budget: int,
              notes: Sequence[str] = (), predictions: Sequence[dict] = (), level: float = 0.95) -> dict:
    """The study's summary (JSON-ready); see the module docstring. ``table``:
    :func:`ila.scaling.scaling_table`; ``metrics``: the columns to
    summarise (the first is the primary one); ``baseline``: the method every
    other is paired with."""
    metrics = available_metrics(table, metrics)
    if not metrics:
        raise ValueError("the scaling table has none of the summary metrics")
    methods = sorted(table["method"].unique())
    if baseline not in methods:
        raise ValueError(f"scaling.baseline {baseline!r} is not among the methods {methods}")
    t = table.copy()
    means, diffs, slopes = [], [], []
    at_fixed = t[t["budget"] == fixed_budget]
    for metric in metrics:
        means.append(stats.method_means(t, POINT, metric=metric, level=level).assign(metric=metric))
        for m in methods:
            if m != baseline:
                diffs.append(stats.paired_difference(t, m, baseline, POINT, metric=metric, level=level))
        if at_fixed["pool_size"].nunique() >= 2:
            slopes.append(stats.margin_slope(at_fixed, baseline, None, "pool_size", metric=metric, level=level))
            for m in methods:
                if m != baseline:
                    slopes.append(stats.margin_slope(at_fixed, m, baseline, "pool_size", metric=metric,
                                                     level=level))
    # pairs a prediction names besides those with the baseline (e.g. ila - ila-roundrobin)
    extra = sorted({(p["method"], p["reference"], p["metric"], p["kind"]) for p in predictions
                    if p.get("reference") not in (None, baseline) and p["metric"] in metrics
                    and p["method"] in methods and p["reference"] in methods})
    for m, ref, metric, kind in extra:
        if kind == "difference":
            diffs.append(stats.paired_difference(t, m, ref, POINT, metric=metric, level=level))
        elif at_fixed["pool_size"].nunique() >= 2:
            slopes.append(stats.margin_slope(at_fixed, m, ref, "pool_size", metric=metric, level=level))
    means_f = pd.concat(means, ignore_index=True)
    diffs_f = pd.concat(diffs, ignore_index=True) if diffs else pd.DataFrame()
    slopes_f = pd.concat(slopes, ignore_index=True) if slopes else pd.DataFrame(
        columns=["method", "reference", "metric", "slope", "ci_low", "ci_high"])
    checked = check_predictions(predictions, diffs_f, slopes_f, t, fixed_budget) if len(diffs_f) else []
    summary = {
        "metrics": metrics,
        "primary": metrics[0],
        "baseline": baseline,
        "fixed_budget": int(fixed_budget),
        "level": level,
        "n_runs": int(len(t)),
        "methods": methods,
        "replicates": sorted(int(r) for r in t["replicate"].unique()),
        "means": _records(means_f),
        "differences": _records(diffs_f),
        "slopes": _records(slopes_f),
        "predictions": checked,
        "notes": list(notes),
    }
    summary["headline"] = headline(summary)
    return summary


def _fmt(x, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:+.{digits}f}"


def headline(s: dict) -> list[str]:
    """Short lines: per metric at the largest pool and fixed budget, which
    methods beat the baseline with an interval excluding 0; the slopes; the
    predictions."""
    lines = []
    for metric in s["metrics"]:
        rows = [d for d in s["differences"] if d["metric"] == metric and d["budget"] == s["fixed_budget"]
                and d["reference"] == s["baseline"]]
        if not rows:
            continue
        top = max(d["pool_fraction"] for d in rows)
        rows = [d for d in rows if d["pool_fraction"] == top]
        lower = LOWER_IS_BETTER.get(metric, True)
        better = [d["method"] for d in rows if d["holds"] and ((d["diff"] < 0) == lower)]
        worse = [d["method"] for d in rows if d["holds"] and ((d["diff"] < 0) != lower)]
        lines.append(f"{metric} at the largest pool, budget {s['fixed_budget']}: better than {s['baseline']} "
                     f"(95% CI excludes 0): {', '.join(better) or 'none'}; worse: {', '.join(worse) or 'none'}; "
                     f"the rest within noise.")
    for p in s["predictions"]:
        lines.append(f"prediction {p['id']} ({p['text']}): {p['outcome']} "
                     f"[{p['kind']} {_fmt(p['value'])}, CI {_fmt(p['ci_low'])}..{_fmt(p['ci_high'])}]")
    return lines


def _ci(d: dict, key: str = "diff") -> str:
    v, lo, hi = d.get(key), d.get("ci_low"), d.get("ci_high")
    if v is None:
        return "n/a"
    if lo is None or hi is None:
        return f"{v:+.4f}"
    return f"{v:+.4f} [{lo:+.4f}, {hi:+.4f}]" + (" *" if lo > 0 or hi < 0 else "")


def summary_markdown(s: dict) -> str:
    """The summary as Markdown: predictions, headline, then per metric the
    means and differences to the baseline at every point and the slopes."""
    replicates = s["replicates"]
    out = [
        "# Selection and accelerated-scaling study",
        "",
        f"{s['n_runs']} runs; methods {', '.join(s['methods'])}; {len(replicates)} replicates {replicates}; "
        f"baseline **{s['baseline']}**. Means with {int(s['level'] * 100)}% t intervals over replicates; "
        f"differences are method - {s['baseline']}, paired by replicate; `*` marks an interval that excludes 0.",
        "",
    ]
    if s["predictions"]:
        out += ["## Predictions (written before the run)", "", "| id | prediction | measured | 95% CI | outcome |",
                "|---|---|---|---|---|"]
        for p in s["predictions"]:
            out.append(f"| {p['id']} | {p['text']} | {_fmt(p['value'])} | {_fmt(p['ci_low'])}..{_fmt(p['ci_high'])} "
                       f"| **{p['outcome']}** |")
        out.append("")
    out += ["## Headline", "", *[f"- {line}" for line in s["headline"]], ""]
    if s["notes"]:
        out += ["## Notes", "", *[f"- {n}" for n in s["notes"]], ""]
    for metric in s["metrics"]:
        out += [f"## {metric}", ""]
        points = sorted({(m["budget"], m["pool_fraction"], m["pool_size"]) for m in s["means"] if m["metric"] == metric})
        head = "| method | " + " | ".join(f"b{b} pool {n}" for b, _, n in points) + " |"
        out += ["Mean [95% CI]:", "", head, "|---" * (len(points) + 1) + "|"]
        for method in s["methods"]:
            cells = []
            for b, f, _ in points:
                m = next((x for x in s["means"] if x["metric"] == metric and x["method"] == method
                          and x["budget"] == b and x["pool_fraction"] == f), None)
                cells.append("n/a" if not m or m["mean"] is None else
                             f"{m['mean']:.4f}" + ("" if m["half_width"] is None else f" ± {m['half_width']:.4f}"))
            out.append(f"| {method} | " + " | ".join(cells) + " |")
        out += ["", f"Difference to {s['baseline']} [95% CI]:", "", head, "|---" * (len(points) + 1) + "|"]
        for method in s["methods"]:
            if method == s["baseline"]:
                continue
            cells = []
            for b, f, _ in points:
                d = next((x for x in s["differences"] if x["metric"] == metric and x["method"] == method
                          and x["reference"] == s["baseline"] and x["budget"] == b and x["pool_fraction"] == f), None)
                cells.append("n/a" if not d else _ci(d))
            out.append(f"| {method} | " + " | ".join(cells) + " |")
        sl = [x for x in s["slopes"] if x["metric"] == metric]
        if sl:
            out += ["", f"Slope on log2(pool size) at budget {s['fixed_budget']} (per doubling) [95% CI]:", ""]
            for x in sl:
                what = f"{x['method']} - {x['reference']}" if x.get("reference") else f"{x['method']} alone"
                out.append(f"- {what}: {_ci(x, 'slope')} over a {x.get('x_ratio') or 0:g}x pool range, "
                           f"{x.get('n_replicates')} replicates")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
