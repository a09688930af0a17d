"""The selection and accelerated-scaling study (METHOD.md, "Baselines and
evaluation"): select subsets of the candidate pool with ILA and the
baselines at several budgets and pool sizes, fine-tune the base model on
each, and compare dev loss and task accuracy.

Pieces, in the order the workflow uses them:

- **Candidates** (:func:`candidate_table`): the per-example table (every
  scored candidate, the warm-up set I0 excluded), joined by id with the
  pool's text, with a ledger of every pool row that is not a candidate.
- **Nested pool fractions** (:func:`pool_ranks`, :func:`pool_size`): the
  candidates in a seeded order of their ids; pool fraction ``f`` is the first
  ``round(f * N)`` of that order, so a smaller pool is always inside a larger
  one and the order does not depend on the row order of the input.
- **Grid** (:func:`grid`): (pool fraction, budget, replicate seed) points,
  the same for every method. ``axes``: every budget at the largest pool
  fraction plus every pool fraction at the fixed budget; ``full``: every
  fraction x every budget.
- **Selections** (:func:`select_grid`): one :func:`ila.selection.select` per
  point, on the candidates of the point's pool fraction.
- **Table, summary, figures** (:func:`scaling_table`, :func:`summarize`,
  :func:`summary_markdown`, :func:`plot_budget`, :func:`plot_pool`,
  :func:`plot_selection`).

Seeds: the pool order uses the master seed (so every replicate sees the same
nested pools); a selection uses :func:`selection_seed` (master seed,
replicate seed), the same for every method, fraction and budget, so random
selections at growing budgets are nested; a fine-tune uses
``derived_seed(master, "scaling", method, fraction, budget, replicate)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import records as rec

__all__ = [
    "GRID_DESIGNS",
    "GridPoint",
    "fraction_label",
    "parse_key",
    "grid",
    "fixed_budget_of",
    "pool_ranks",
    "pool_size",
    "pool_members",
    "candidate_table",
    "selection_seed",
    "run_seed",
    "deita_scores",
    "select_grid",
    "selection_record",
    "scaling_table",
    "summarize",
    "summary_markdown",
    "plot_budget",
    "plot_pool",
    "plot_selection",
]

GRID_DESIGNS = ("axes", "full")
POOL_ORDER_SALT = "pool_fraction"
TEXT_COLUMNS = ("instruction", "input", "output")


# --------------------------------------------------------------------------- grid


def fraction_label(fraction: float) -> str:
    """A pool fraction as it appears in file names: decimal, no trailing
    zeros (0.25 -> "0.25", 1.0 -> "1"). At most 6 decimals."""
    f = float(fraction)
    if not (0.0 < f <= 1.0) or not math.isfinite(f):
        raise ValueError(f"a pool fraction must be in (0, 1], got {fraction!r}")
    label = f"{f:.6f}".rstrip("0").rstrip(".")
    if float(label) != f:
        raise ValueError(f"pool fraction {fraction!r} has more than 6 decimals")
    return label


@dataclass(frozen=True, order=True)
class GridPoint:
    """One (pool fraction, budget, replicate seed) of the study."""

    fraction: float
    budget: int
    seed: int

    @property
    def key(self) -> str:
        """File stem of the point: ``f<fraction>-b<budget>-s<seed>``."""
        return f"f{fraction_label(self.fraction)}-b{self.budget}-s{self.seed}"


def parse_key(key: str) -> GridPoint:
    """Inverse of :attr:`GridPoint.key`."""
    try:
        f, b, s = key.split("-")
        if not (f[0] == "f" and b[0] == "b" and s[0] == "s"):
            raise ValueError
        point = GridPoint(float(f[1:]), int(b[1:]), int(s[1:]))
    except (ValueError, IndexError):
        raise ValueError(f"not a grid key (f<fraction>-b<budget>-s<seed>): {key!r}") from None
    if point.key != key:
        raise ValueError(f"grid key {key!r} is not in canonical form ({point.key!r})")
    return point


def _unique(name: str, values: Sequence) -> list:
    values = list(values)
    if not values:
        raise ValueError(f"scaling.{name} is empty")
    dup = sorted({v for v in values if values.count(v) > 1})
    if dup:
        raise ValueError(f"scaling.{name} lists {dup} more than once")
    return values


def grid(
    fractions: Sequence[float],
    budgets: Sequence[int],
    fixed_budget: int | None,
    seeds: Sequence[int],
    design: str = "axes",
) -> list[GridPoint]:
    """The study's grid points, sorted (fraction, budget, seed).

    ``axes``: every budget at the largest fraction, plus every fraction at
    ``fixed_budget`` (default: the largest budget); ``full``: every fraction
    x every budget (``fixed_budget`` then only names the budget of the pool
    scaling comparison, and must be one of the budgets)."""
    if design not in GRID_DESIGNS:
        raise ValueError(f"scaling.grid must be one of {GRID_DESIGNS}, got {design!r}")
    fractions = _unique("pool_fractions", [float(f) for f in fractions])
    for f in fractions:
        fraction_label(f)
    budgets = _unique("budgets", list(budgets))
    seeds = _unique("seeds", list(seeds))
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise ValueError(f"scaling.budgets: a budget must be a positive integer, got {b!r}")
    fixed = max(budgets) if fixed_budget is None else int(fixed_budget)
    if fixed < 1:
        raise ValueError(f"scaling.fixed_budget must be positive, got {fixed_budget!r}")
    if design == "full":
        if fixed not in budgets:
            raise ValueError(f"scaling.fixed_budget {fixed} is not one of scaling.budgets {budgets} (grid: full)")
        cells = {(f, int(b)) for f in fractions for b in budgets}
    else:
        top = max(fractions)
        cells = {(top, int(b)) for b in budgets} | {(f, fixed) for f in fractions}
    return sorted(GridPoint(f, b, int(s)) for f, b in cells for s in seeds)


def fixed_budget_of(budgets: Sequence[int], fixed_budget: int | None) -> int:
    """The budget at which pool sizes are compared: ``fixed_budget``, or the
    largest budget when it is None."""
    return max(budgets) if fixed_budget is None else int(fixed_budget)


# --------------------------------------------------------------------------- pools


def pool_ranks(ids: Sequence[str], seed: int) -> pd.Series:
    """Rank (0..N-1) of each candidate id in the seeded pool order
    (:func:`ila.records.seeded_order` with salt ``pool_fraction``); indexed
    by id. Independent of the input order."""
    ids = list(ids)
    if len(set(ids)) != len(ids):
        raise ValueError("pool_ranks: duplicate candidate ids")
    order = rec.seeded_order(ids, seed, POOL_ORDER_SALT)
    return pd.Series(np.arange(len(order), dtype=np.int64), index=pd.Index(order, name="id"), name="pool_rank")


def pool_size(n_candidates: int, fraction: float) -> int:
    """Candidates in pool fraction ``fraction`` of ``n_candidates``:
    ``round(fraction * N)`` (halves up), at least 1 when N > 0."""
    fraction_label(fraction)
    if n_candidates <= 0:
        return 0
    return max(1, int(math.floor(float(fraction) * n_candidates + 0.5)))


def pool_members(candidates: pd.DataFrame, fraction: float) -> pd.DataFrame:
    """Rows of ``candidates`` (with a ``pool_rank`` column) in pool fraction
    ``fraction``: pool_rank < pool_size(N, fraction)."""
    if "pool_rank" not in candidates.columns:
        raise ValueError("candidates need a 'pool_rank' column (see pool_ranks)")
    size = pool_size(len(candidates), fraction)
    return candidates[candidates["pool_rank"].to_numpy() < size]


def candidate_table(
    examples: pd.DataFrame,
    pool: pd.DataFrame,
    non_dev_ids: Sequence[str],
    dev_ids: Sequence[str],
    i0_ids: Sequence[str],
    seed: int,
) -> tuple[pd.DataFrame, dict]:
    """The selection candidates: every row of the per-example table, joined
    by id with the pool's instruction, input and output, with its
    ``pool_rank``; sorted by id.

    Ledger: pool rows = dev + non-dev; non-dev = warm-up I0 + candidates +
    not_scored (non-dev examples outside I0 missing from the per-example
    table). An example-table id that is not in the pool, in the dev set or in
    I0 is an error."""
    pool_ids = pd.Index(pool["id"])
    ex_ids = pd.Index(examples["id"])
    if not ex_ids.is_unique:
        raise ValueError("per-example table has duplicate ids")
    for name, other in (("dev set", dev_ids), ("warm-up set I0", i0_ids)):
        both = ex_ids.intersection(pd.Index(other))
        if len(both):
            raise ValueError(f"{len(both)} ids of the per-example table are in the {name}, e.g. {both[0]}")
    not_in_pool = ex_ids.difference(pool_ids)
    if len(not_in_pool):
        raise ValueError(f"{len(not_in_pool)} ids of the per-example table are not in the pool, e.g. {not_in_pool[0]}")
    non_dev = pd.Index(non_dev_ids)
    i0 = pd.Index(i0_ids)
    not_scored = non_dev.difference(i0).difference(ex_ids)
    text = rec.rows_by_id(pool, list(ex_ids), "pool")[["id", *TEXT_COLUMNS]]
    clash = sorted(set(TEXT_COLUMNS) & set(examples.columns))
    cand = examples.drop(columns=clash).merge(text, on="id", how="left", validate="one_to_one")
    ranks = pool_ranks(cand["id"].tolist(), seed)
    cand["pool_rank"] = ranks.loc[cand["id"]].to_numpy()
    cand = cand.sort_values("id", kind="stable").reset_index(drop=True)
    ledger = {
        "pool_rows": int(len(pool)),
        "dev": int(len(dev_ids)),
        "non_dev": int(len(non_dev)),
        "warmup_I0": int(len(i0)),
        "candidates": int(len(cand)),
        "not_scored": int(len(not_scored)),
        "candidates_without_RID": int(pd.to_numeric(cand["RID"], errors="coerce").isna().sum()) if "RID" in cand else None,
        "pool_order_seed": int(seed),
    }
    if ledger["pool_rows"] != ledger["dev"] + ledger["non_dev"]:
        raise ValueError(f"pool has {ledger['pool_rows']} rows but dev + non-dev = {ledger['dev'] + ledger['non_dev']}")
    return cand, ledger


# --------------------------------------------------------------------------- selections


def selection_seed(master_seed: int, replicate: int) -> int:
    """Seed handed to :func:`ila.selection.select` for a replicate: the same
    for every method, pool fraction and budget."""
    return rec.derived_seed(master_seed, "selection", replicate)


def run_seed(master_seed: int, method: str, point: GridPoint) -> int:
    """Training seed of one fine-tune of the study."""
    return rec.derived_seed(master_seed, "scaling", method, fraction_label(point.fraction), point.budget, point.seed)


def deita_scores(candidates: pd.DataFrame, settings: dict, device: str = "cpu") -> tuple[pd.DataFrame, dict]:
    """Deita complexity and quality of every candidate: (id, complexity,
    quality) and a description of the scorers.

    ``settings`` (config ``selection.deita``): ``scorer`` "proxy" (the
    offline :class:`ila.selection.scorers.ProxyScorer`, **not Deita**;
    features ``complexity_feature`` / ``quality_feature``) or "deita"
    (:class:`ila.selection.scorers.DeitaScorer` on ``complexity_model`` and
    ``quality_model``, ``batch_size``, ``max_length``)."""
    from .selection.scorers import DeitaScorer, ProxyScorer

    kind = settings.get("scorer", "proxy")
    if kind == "proxy":
        scorers = {
            "complexity": ProxyScorer("complexity", settings.get("complexity_feature")),
            "quality": ProxyScorer("quality", settings.get("quality_feature")),
        }
    elif kind == "deita":
        scorers = {
            k: DeitaScorer(
                settings[f"{k}_model"], device=device, kind=k,
                batch_size=int(settings.get("batch_size", 8)), max_length=settings.get("max_length"),
            )
            for k in ("complexity", "quality")
        }
    else:
        raise ValueError(f"selection.deita.scorer must be 'proxy' or 'deita', got {kind!r}")
    out = pd.DataFrame({"id": candidates["id"].to_numpy()})
    for k, scorer in scorers.items():
        out[k] = np.asarray(scorer.score(candidates), dtype=np.float64)
    info = {k: s.describe() for k, s in scorers.items()}
    info["n"] = int(len(out))
    info["missing"] = {k: int((~np.isfinite(out[k].to_numpy())).sum()) for k in scorers}
    return out, info


def _attach_scores(candidates: pd.DataFrame, scores: pd.DataFrame | None) -> pd.DataFrame:
    if scores is None:
        return candidates
    missing = pd.Index(candidates["id"]).difference(pd.Index(scores["id"]))
    if len(missing):
        raise ValueError(f"{len(missing)} candidates have no Deita score, e.g. {missing[0]}")
    cols = [c for c in ("complexity", "quality") if c in scores.columns]
    return candidates.drop(columns=[c for c in cols if c in candidates.columns]).merge(
        scores[["id", *cols]], on="id", how="left", validate="one_to_one"
    )


def select_grid(
    method: str,
    candidates: pd.DataFrame,
    points: Iterable[GridPoint],
    master_seed: int,
    embeddings: np.ndarray | None = None,
    dev_embeddings: np.ndarray | None = None,
    params: dict | None = None,
    allow_short: bool = False,
    scores: pd.DataFrame | None = None,
) -> list[tuple[GridPoint, Any]]:
    """Select with ``method`` at every grid point: on the candidates of the
    point's pool fraction, ``budget`` examples, seed
    :func:`selection_seed` (master, replicate).

    ``embeddings``: one row per row of ``candidates`` (aligned by the caller,
    e.g. with :func:`ila.embed.rows_for`); ``scores``: Deita scores (id,
    complexity, quality) joined by id. Returns (point, Selection) pairs; an
    infeasible budget raises ValueError naming the point."""
    from .selection import select

    cand = _attach_scores(candidates.reset_index(drop=True), scores)
    if embeddings is not None and len(embeddings) != len(cand):
        raise ValueError(f"embeddings have {len(embeddings)} rows for {len(cand)} candidates")
    out = []
    for point in points:
        mask = cand["pool_rank"].to_numpy() < pool_size(len(cand), point.fraction)
        sub = cand[mask]
        emb = embeddings[mask] if embeddings is not None else None
        try:
            sel = select(
                method, sub, point.budget, selection_seed(master_seed, point.seed), emb, dev_embeddings,
                allow_short=allow_short, **(params or {}),
            )
        except ValueError as exc:
            raise ValueError(
                f"selection {method!r} at pool fraction {fraction_label(point.fraction)} "
                f"({int(mask.sum())} candidates), budget {point.budget}, seed {point.seed}: {exc}"
            ) from exc
        out.append((point, sel))
    return out


def selection_record(method: str, point: GridPoint, selection, n_candidates: int) -> dict:
    """The JSON written beside a selection's ids: Selection.as_dict() without
    the ids, plus the grid point, pool size and a hash of the ids."""
    from .io import sha256_ids

    d = selection.as_dict()
    ids = d.pop("ids")
    d.update(
        method=method,
        key=point.key,
        pool_fraction=point.fraction,
        pool_size=pool_size(n_candidates, point.fraction),
        replicate_seed=point.seed,
        n_selected=len(ids),
        ids_sha256=sha256_ids(ids),
    )
    return d


# --------------------------------------------------------------------------- table

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


# --------------------------------------------------------------------------- summary

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


# --------------------------------------------------------------------------- figures

_LABELS = {
    "dev_loss": "dev loss (nats / response token)",
    "dev_loss_domain_mean": "dev loss, mean of domains",
    "dev_loss_example_mean": "dev loss, mean of examples",
    "dev_loss_clipped": "dev loss, clipped example mean",
    "accuracy": "task accuracy (exact match)",
    "coverage_occupied": "coverage (share of occupied cells)",
    "mean_RID": "mean RID of the selection",
}


def _style(methods: Sequence[str], reference: str) -> dict[str, dict]:
    styles = {}
    others = [m for m in methods if m != reference]
    for i, m in enumerate(others):
        styles[m] = {"color": f"C{(i + 1) % 10}", "lw": 1.2, "marker": "os^vD<>ph*"[i % 10], "ms": 4}
    styles[reference] = {"color": "C0", "lw": 2.4, "marker": "o", "ms": 6, "zorder": 5}
    return styles


def _curves(ax, table: pd.DataFrame, x: str, y: str, reference: str, logx: bool = True) -> None:
    methods = sorted(table["method"].unique())
    styles = _style(methods, reference)
    for m in [m for m in methods if m != reference] + ([reference] if reference in methods else []):
        g = table[table["method"] == m].groupby(x)[y]
        mean, lo, hi = g.mean(), g.min(), g.max()
        if mean.dropna().empty:
            continue
        st = styles[m]
        ax.plot(mean.index, mean.to_numpy(), label=m, **st)
        if (hi - lo).fillna(0).max() > 0:
            ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), color=st["color"], alpha=0.12, lw=0)
    if logx:
        ax.set_xscale("log", base=2)
        xs = sorted(table[x].unique())
        ax.set_xticks(xs)
        ax.set_xticklabels([str(int(v)) for v in xs], fontsize=8)
        ax.minorticks_off()
    ax.set_ylabel(_LABELS.get(y, y))
    ax.grid(alpha=0.3, lw=0.5)
    if y == "accuracy":
        top = table[y].map(_num).max()
        ax.set_ylim(-0.02, max(0.1, 1.15 * top) if pd.notna(top) else 0.1)


def _has_accuracy(table: pd.DataFrame) -> bool:
    return "accuracy" in table.columns and table["accuracy"].map(_num).notna().any()


def plot_budget(table: pd.DataFrame, metric: str, reference: str, png, pdf, dpi: int = 150) -> None:
    """Score against budget at the largest pool, one line per method (mean
    over seeds, band = min..max); a second panel with task accuracy when it
    was measured."""
    top = table["pool_fraction"].max()
    sub = table[table["pool_fraction"] == top]
    title = f"Score vs budget, pool of {int(sub['pool_size'].max())} candidates"
    _score_panels(sub, metric, reference, "budget", "budget (selected instructions)", title, png, pdf, dpi)


def plot_pool(table: pd.DataFrame, metric: str, reference: str, budget: int, png, pdf, dpi: int = 150) -> None:
    """Accelerated scaling: score against pool size at the fixed budget, one
    line per method; accuracy as a second panel when measured."""
    sub = table[table["budget"] == budget]
    if sub["pool_size"].nunique() < 1:
        raise ValueError(f"no runs at budget {budget}")
    title = f"Score vs pool size at budget {budget}"
    _score_panels(sub, metric, reference, "pool_size", "candidate pool size", title, png, pdf, dpi)


def _score_panels(sub, metric, reference, x, xlabel, title, png, pdf, dpi) -> None:
    """One panel of `metric` against `x` per method (accuracy as a second
    panel when measured), saved as PNG + PDF."""
    from .figures import plt, save

    panels = [metric] + (["accuracy"] if _has_accuracy(sub) else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for ax, y in zip(axes[0], panels):
        _curves(ax, sub, x, y, reference)
        ax.set_xlabel(xlabel)
    axes[0][0].legend(fontsize=8, ncol=2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, png, pdf, dpi)


def plot_selection(table: pd.DataFrame, reference: str, png, pdf, dpi: int = 150) -> None:
    """Coverage and mean RID of each method's selections against budget, at
    the largest pool."""
    from .figures import plt, save

    top = table["pool_fraction"].max()
    sub = table[table["pool_fraction"] == top]
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.2), squeeze=False)
    for ax, y in zip(axes[0], ("coverage_occupied", "mean_RID")):
        _curves(ax, sub, "budget", y, reference)
        ax.set_xlabel("budget (selected instructions)")
    axes[0][1].axhline(0.5, color="0.5", lw=0.8, ls="--", zorder=0)
    axes[0][0].legend(fontsize=8, ncol=2)
    fig.suptitle(f"What each method selects (pool of {int(sub['pool_size'].max())} candidates)", fontsize=10)
    fig.tight_layout()
    save(fig, png, pdf, dpi)
