"""The scaling study's statistics on plain run tables.

A run table has one row per run: a method column, point columns (e.g.
pool_size and budget, or one ``point`` label), a replicate column and
metric columns. Replicate ``r`` of two methods at one point share the
replicate's draws (sub-pool order, selection draws, training seed), so
methods are compared by *paired* differences over replicates.

- :func:`mean_ci`: mean and t interval of a sample.
- :func:`method_means`: :func:`mean_ci` per method and point.
- :func:`paired_difference`: per point, method - reference over the
  replicates both have, with its t interval; ``holds`` when the interval
  excludes 0.
- :func:`margin_slope`: OLS slope of the replicate-level margin on
  log2(pool size), with its t interval (statsmodels). The OLS interval
  treats the replicate-level margins as independent; margins of one
  replicate at different sizes share that replicate's draws, which this
  interval ignores (with a handful of replicates a cluster-robust interval
  is no better).
- :func:`pooled_reference`: the reference's runs averaged over pool sizes
  per replicate, for a tighter baseline when its expected value does not
  depend on pool size.

Sign: differences are method - reference in the metric's own units; for a
loss a negative difference means the method is better. Rows whose metric is
NaN count as missing. A pair with one side missing is never silently
dropped: it is counted in ``n_missing``. Two rows for the same method,
point and replicate are an error.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["mean_ci", "method_means", "paired_difference", "margin_slope", "pooled_reference"]

_CI = ["n", "mean", "sd", "se", "half_width", "ci_low", "ci_high"]


def _t_quantile(level: float, df: int) -> float:
    from scipy import stats

    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    return float(stats.t.ppf(0.5 + level / 2, df)) if df >= 1 else math.nan


def mean_ci(values, level: float = 0.95) -> dict:
    """{n, mean, sd, se, half_width, ci_low, ci_high, n_missing} of the
    finite values (NaN ones are counted in n_missing): the t interval
    mean +- t_{(1+level)/2, n-1} * sd / sqrt(n). n = 1 gives a NaN sd and
    half-width (no error); n = 0 gives NaN throughout."""
    x = np.asarray(values, dtype=float).ravel()
    finite = x[~np.isnan(x)]
    n = int(finite.size)
    mean = float(finite.mean()) if n else math.nan
    sd = float(finite.std(ddof=1)) if n > 1 else math.nan
    se = sd / math.sqrt(n) if n > 1 else math.nan
    half = _t_quantile(level, n - 1) * se if n > 1 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "se": se, "half_width": half,
            "ci_low": mean - half, "ci_high": mean + half, "n_missing": int(x.size - n)}


def _check(table: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"run table has no column(s) {missing}; it has {list(table.columns)}")


def _values(table, method, keys, metric, method_col) -> pd.Series:
    """The metric of one method indexed by ``keys``; duplicates raise."""
    rows = table[table[method_col] == method]
    if rows.empty:
        raise ValueError(f"no run of method {method!r} in the table (methods: {sorted(table[method_col].unique())})")
    dup = rows.duplicated(list(keys), keep=False)
    if dup.any():
        first = rows.loc[dup, list(keys)].iloc[0].to_dict()
        raise ValueError(f"method {method!r}: {int(dup.sum())} rows share their {list(keys)}, e.g. {first}")
    return rows.set_index(list(keys))[metric].astype(float)


def _pairs(table, method, reference, keys, metric, method_col) -> pd.DataFrame:
    """One row per key present for either method: value_method,
    value_reference and margin (NaN where either side is missing)."""
    _check(table, [method_col, metric, *keys])
    a = _values(table, method, keys, metric, method_col).rename("value_method")
    b = _values(table, reference, keys, metric, method_col).rename("value_reference")
    pairs = pd.concat([a, b], axis=1, join="outer").sort_index()
    pairs["margin"] = pairs["value_method"] - pairs["value_reference"]
    return pairs.reset_index()


def _groups(frame: pd.DataFrame, by: Sequence[str]):
    if not by:
        yield {}, frame
        return
    for key, group in frame.groupby(list(by), sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key)), group


def method_means(table: pd.DataFrame, by: Sequence[str] = ("point",), *, metric: str,
                 method_col: str = "method", level: float = 0.95) -> pd.DataFrame:
    """Mean and t interval of ``metric`` per method and point: columns
    method, *by, n, mean, sd, se, half_width, ci_low, ci_high, n_missing."""
    by = list(by)
    _check(table, [method_col, metric, *by])
    rows = [{**key, **mean_ci(g[metric], level)} for key, g in _groups(table, [method_col, *by])]
    return pd.DataFrame(rows, columns=[method_col, *by, *_CI, "n_missing"])


def paired_difference(table: pd.DataFrame, method: str, reference: str, by: Sequence[str] = ("point",),
                      replicate: str = "replicate", *, metric: str, method_col: str = "method",
                      level: float = 0.95) -> pd.DataFrame:
    """Per point (``by``), the paired difference method - reference over
    the replicates where both have a finite metric.

    Columns: *by, method, reference, metric, n (pairs), n_missing
    (replicates where only one side has a value), mean_method,
    mean_reference (over the pairs), diff (mean paired difference), sd,
    se, half_width, ci_low, ci_high (t interval at ``level``), p (two-sided
    paired t test) and holds (the interval excludes 0; False when n < 2).
    """
    from scipy import stats

    by = list(by)
    pairs = _pairs(table, method, reference, [*by, replicate], metric, method_col)
    rows = []
    for key, g in _groups(pairs, by):
        ok = g["margin"].notna()
        ci = mean_ci(g.loc[ok, "margin"], level)
        if ci["n"] < 2:
            p = math.nan
        elif ci["sd"] > 0:
            p = float(stats.ttest_1samp(g.loc[ok, "margin"], 0.0).pvalue)
        else:  # identical margins: certain unless they are all 0
            p = 0.0 if ci["mean"] != 0 else math.nan
        rows.append({
            **key, "method": method, "reference": reference, "metric": metric, "n": ci["n"],
            "n_missing": int((~ok).sum()),
            "mean_method": float(g.loc[ok, "value_method"].mean()) if ci["n"] else math.nan,
            "mean_reference": float(g.loc[ok, "value_reference"].mean()) if ci["n"] else math.nan,
            "diff": ci["mean"], **{k: ci[k] for k in ("sd", "se", "half_width", "ci_low", "ci_high")},
            "p": p, "holds": bool(ci["n"] > 1 and (ci["ci_low"] > 0 or ci["ci_high"] < 0)),
        })
    return pd.DataFrame(rows)


def margin_slope(table: pd.DataFrame, method: str, reference: str | None, x: str = "pool_size",
                 replicate: str = "replicate", *, metric: str, by: Sequence[str] = (),
                 method_col: str = "method", level: float = 0.95) -> pd.DataFrame:
    """OLS slope of the replicate-level margin (method - reference at the
    same x and replicate) on log2(x): the margin's change per doubling of
    x. ``reference=None`` fits the method's own metric (e.g. does random's
    loss depend on pool size?). One row per group of ``by`` (other point
    columns, e.g. budget; rows sharing x and replicate within a group are
    an error, never averaged).

    Columns: *by, method, reference, metric, n_points (distinct x),
    n_replicates (distinct replicate ids), n_obs (margins fitted),
    n_missing (unpaired), x_ratio (max x / min x), intercept, slope, se,
    ci_low, ci_high, p (two-sided t test of slope = 0, n_obs - 2 degrees of
    freedom) and holds (the interval excludes 0; False with < 2 points or
    < 3 margins).
    """
    import statsmodels.api as sm

    by = list(by)
    keys = [*by, x, replicate]
    if reference is None:
        _check(table, [method_col, metric, *keys])
        frame = _values(table, method, keys, metric, method_col).rename("margin").reset_index()
    else:
        frame = _pairs(table, method, reference, keys, metric, method_col)
    rows = []
    for key, g in _groups(frame, by):
        ok = g["margin"].notna()
        d = g[ok]
        out = {**key, "method": method, "reference": reference, "metric": metric,
               "n_points": int(d[x].nunique()), "n_replicates": int(d[replicate].nunique()),
               "n_obs": int(len(d)), "n_missing": int((~ok).sum()),
               "x_ratio": float(d[x].max() / d[x].min()) if len(d) else math.nan,
               "intercept": math.nan, "slope": math.nan, "se": math.nan,
               "ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "holds": False}
        if (d[x] <= 0).any():
            raise ValueError(f"{x} must be positive for log2, got {sorted(d.loc[d[x] <= 0, x].unique())}")
        if out["n_points"] >= 2 and out["n_obs"] >= 3:
            design = sm.add_constant(np.log2(d[x].to_numpy(dtype=float)))
            fit = sm.OLS(d["margin"].to_numpy(dtype=float), design).fit()
            slope, se = float(fit.params[1]), float(fit.bse[1])
            half = _t_quantile(level, int(fit.df_resid)) * se
            with np.errstate(divide="ignore", invalid="ignore"):
                p = float(fit.pvalues[1]) if se > 0 else (0.0 if slope != 0 else math.nan)
            out.update(intercept=float(fit.params[0]), slope=slope, se=se, ci_low=slope - half,
                       ci_high=slope + half, p=p, holds=bool(slope - half > 0 or slope + half < 0))
        rows.append(out)
    return pd.DataFrame(rows)


def pooled_reference(table: pd.DataFrame, reference: str, over: str = "pool_size",
                     replicate: str = "replicate", by: Sequence[str] = (), *, metric: str,
                     method_col: str = "method") -> pd.DataFrame:
    """A copy of the run table in which every run of ``reference`` carries,
    as ``metric``, the mean of the reference's finite values over all
    ``over`` values (pool sizes) of its replicate and ``by`` group (e.g.
    budget). Other methods' rows are unchanged.

    Assumption: the reference's expected metric does not depend on
    ``over`` (random selection from an i.i.d. pool draws the same
    distribution at every pool size); check it first with
    ``margin_slope(table, reference, None, x=over, ...)``, whose interval
    should include 0. Each pooled value then averages len(over) runs, so
    the paired differences are tighter; the differences at different pool
    sizes share one reference value per replicate and are not independent.
    In a balanced table the margin slope then equals the slope of the
    method's own metric (the pooled term is constant in pool size within a
    replicate). Pooling trades the pairing's cancellation of noise shared
    by two runs at one (pool size, replicate) for averaging the reference's
    own noise: it is tighter only where that shared noise is small.
    """
    keys = [*by, replicate]
    _check(table, [method_col, metric, over, *keys])
    out = table.copy()
    rows = out[method_col] == reference
    if not rows.any():
        raise ValueError(f"no run of method {reference!r} in the table")
    pooled = out[rows].groupby(keys, sort=True, dropna=False)[metric].transform("mean")
    out.loc[rows, metric] = pooled
    return out
