"""OLS of dev loss on coverage and depth, with the reviewers' diagnostics.

:func:`fit_study` fits ``response ~ regressors`` over the training subsets
with statsmodels and returns a JSON-ready dict: the fit (R^2, adjusted R^2,
F-test p-value, AIC, coefficients with confidence intervals), leave-one-out
cross-validated R^2 (PRESS through the hat-matrix identity
``e_i / (1 - h_ii)``, exact for OLS), each regressor alone, variance
inflation factors, Cook's distance of every subset, and the fit without the
most influential subset. Values that are undefined (e.g. a VIF of perfectly
collinear regressors) are ``None`` so the dict serialises as strict JSON.

Regressors (and the response) can be transformed: "log" (values must be
> 0) or "logit" (values must lie strictly between 0 and 1). A transformed
column ``c`` enters the model as the term ``log(c)`` / ``logit(c)``;
coefficients are keyed by term, ``single`` and ``vif`` by regressor, and
``terms`` maps each regressor to its term.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

TRANSFORMS = ("none", "log", "logit")
INTERCEPT = "Intercept"


def _num(x: Any) -> float | None:
    """A finite float, or None."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def term_name(column: str, transform: str) -> str:
    """Name of a column as it enters the model: ``c``, ``log(c)``, ``logit(c)``."""
    return column if transform == "none" else f"{transform}({column})"


def transform_column(values: pd.Series, column: str, transform: str, subsets: pd.Series | None = None) -> pd.Series:
    """Apply a transform to one numeric column, validating its domain.

    Raises ValueError naming the column (and a subset, when given) for
    values outside the transform's domain."""
    if transform not in TRANSFORMS:
        raise ValueError(f"transform of {column!r} must be one of {TRANSFORMS}, got {transform!r}")
    v = values.astype(np.float64)
    if transform == "none":
        return v
    if transform == "log":
        bad = ~(v > 0)
        why = "log needs values > 0"
    else:
        bad = ~((v > 0) & (v < 1))
        why = "logit needs values strictly between 0 and 1"
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        where = f" (subset {subsets.iloc[first]!r})" if subsets is not None else ""
        raise ValueError(
            f"column {column!r}: {why}; {int(bad.sum())} value(s) are not, e.g. {v.iloc[first]!r}{where}"
        )
    if transform == "log":
        return np.log(v)
    return np.log(v / (1.0 - v))


def prepare(
    table: pd.DataFrame,
    response: str,
    regressors: Sequence[str],
    transforms: dict[str, str] | None = None,
) -> tuple[pd.Series, pd.DataFrame, dict[str, str], dict[str, str]]:
    """Validated model inputs, sorted by subset.

    Returns (y, X, terms, transforms): y the (transformed) response indexed by
    subset, X the design matrix with an ``Intercept`` column first and one
    column per term, terms {column: term name} for the response and every
    regressor, and the full transform map (``"none"`` filled in)."""
    regressors = list(regressors)
    if not regressors:
        raise ValueError("no regressors given")
    if len(set(regressors)) != len(regressors):
        raise ValueError(f"regressors are not distinct: {regressors}")
    if response in regressors:
        raise ValueError(f"the response {response!r} is also a regressor")
    if "subset" not in table.columns:
        raise ValueError("the study table needs a 'subset' column naming each training subset")
    cols = [response] + regressors
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ValueError(f"study table lacks column(s) {missing}; has {list(table.columns)}")
    transforms = dict(transforms or {})
    unknown = sorted(set(transforms) - set(cols))
    if unknown:
        raise ValueError(f"transforms name column(s) {unknown} that are neither the response nor a regressor")
    full = {c: transforms.get(c, "none") for c in cols}

    df = table[["subset"] + cols].copy()
    df["subset"] = df["subset"].astype(str)
    if df["subset"].duplicated().any():
        raise ValueError(f"subset {df['subset'][df['subset'].duplicated()].iloc[0]!r} appears twice in the study table")
    df = df.sort_values("subset", kind="mergesort").reset_index(drop=True)
    for c in cols:
        v = pd.to_numeric(df[c], errors="coerce")
        bad = v.isna() | ~np.isfinite(v.astype(np.float64))
        if bad.any():
            raise ValueError(
                f"column {c!r} has {int(bad.sum())} missing or non-numeric value(s), "
                f"e.g. subset {df['subset'][bad].iloc[0]!r}"
            )
        df[c] = v.astype(np.float64)

    terms = {c: term_name(c, full[c]) for c in cols}
    if len(set(terms.values())) != len(terms):
        raise ValueError(f"two columns give the same model term: {terms}")
    y = transform_column(df[response], response, full[response], df["subset"])
    y.index = df["subset"].to_numpy()
    y.name = terms[response]
    X = pd.DataFrame({INTERCEPT: np.ones(len(df))}, index=df["subset"].to_numpy())
    for c in regressors:
        X[terms[c]] = transform_column(df[c], c, full[c], df["subset"]).to_numpy()
    n, k = X.shape
    if n <= k:
        raise ValueError(
            f"{n} subsets are too few for {len(regressors)} regressor(s): OLS needs "
            f"n > number of regressors + 1 = {k}"
        )
    return y, X, terms, full


def _press_r2(y: np.ndarray, resid: np.ndarray, hat: np.ndarray) -> tuple[float | None, float | None]:
    """(PRESS, LOO R^2 = 1 - PRESS / SS_tot); None where undefined (a point
    of leverage 1, or a constant response)."""
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    denom = 1.0 - hat
    if np.any(denom <= 1e-10) or ss_tot <= 0:
        return None, None
    press = float(np.sum((resid / denom) ** 2))
    return press, 1.0 - press / ss_tot


def _fit(y: pd.Series, X: pd.DataFrame):
    res = sm.OLS(y, X).fit()
    hat = res.get_influence().hat_matrix_diag
    press, loo = _press_r2(y.to_numpy(), res.resid.to_numpy(), hat)
    return res, press, loo


def fit_study(
    table: pd.DataFrame,
    response: str,
    regressors: list[str],
    transforms: dict[str, str] | None = None,
    alpha: float = 0.05,
) -> dict:
    """Fit ``response ~ regressors`` by OLS over the study table.

    Args:
        table: one row per training subset with a ``subset`` column, the
            response and the regressors; row order does not matter.
        response: e.g. "dev_loss".
        regressors: e.g. ["coverage_occupied", "mean_RID"].
        transforms: column -> "none" | "log" | "logit" (response included).
        alpha: confidence intervals are (1 - alpha).

    Returns a JSON-ready dict with: n, response, regressors, transforms,
    terms, formula, r2, r2_adj, f_pvalue, aic, df_resid, residual_std,
    ss_tot, press, loo_cv_r2, coefficients {term: {coef, se, t, p, ci_low,
    ci_high}} (Intercept included), single {regressor: {r2, coef, p,
    loo_cv_r2}}, vif {regressor: value}, cooks_distance {subset: d},
    most_influential {subset, cooks_d, r2_without, loo_cv_r2_without},
    predicted {subset: fitted value, on the scale of the response term}.

    Raises ValueError on missing columns, non-numeric or missing values,
    values outside a transform's domain, duplicated subsets, a constant
    response, or n <= number of regressors + 1.
    """
    y, X, terms, full = prepare(table, response, regressors, transforms)
    if float(np.ptp(y.to_numpy())) == 0.0:
        raise ValueError(f"response {response!r} is constant over the subsets: R^2 is undefined")
    res, press, loo = _fit(y, X)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    ci = res.conf_int(alpha=alpha)
    coefficients = {
        name: {
            "coef": _num(res.params[name]),
            "se": _num(res.bse[name]),
            "t": _num(res.tvalues[name]),
            "p": _num(res.pvalues[name]),
            "ci_low": _num(ci.loc[name, 0]),
            "ci_high": _num(ci.loc[name, 1]),
        }
        for name in X.columns
    }

    single = {}
    for c in regressors:
        t = terms[c]
        r1, _, loo1 = _fit(y, X[[INTERCEPT, t]])
        single[c] = {
            "r2": _num(r1.rsquared),
            "coef": _num(r1.params[t]),
            "p": _num(r1.pvalues[t]),
            "loo_cv_r2": _num(loo1),
        }

    exog = X.to_numpy()
    vif = {}
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, c in enumerate(regressors, start=1):
            vif[c] = _num(variance_inflation_factor(exog, j))

    cooks = res.get_influence().cooks_distance[0]
    cooks_by = {s: _num(d) for s, d in zip(X.index, cooks)}
    finite = np.where(np.isfinite(cooks), cooks, -np.inf)
    top = int(np.argmax(finite))  # first of ties, in subset order
    keep = np.ones(len(X), dtype=bool)
    keep[top] = False
    y_wo, X_wo = y[keep], X[keep]
    if float(np.ptp(y_wo.to_numpy())) > 0:
        r_wo, _, loo_wo = _fit(y_wo, X_wo)
        r2_wo = _num(r_wo.rsquared)
    else:
        r2_wo, loo_wo = None, None
    most = {
        "subset": str(X.index[top]),
        "cooks_d": _num(cooks[top]),
        "r2_without": r2_wo,
        "loo_cv_r2_without": _num(loo_wo),
    }

    return {
        "n": int(res.nobs),
        "response": response,
        "regressors": list(regressors),
        "transforms": full,
        "terms": terms,
        "formula": f"{terms[response]} ~ " + " + ".join(terms[c] for c in regressors),
        "alpha": float(alpha),
        "r2": _num(res.rsquared),
        "r2_adj": _num(res.rsquared_adj),
        "f_pvalue": _num(res.f_pvalue),
        "aic": _num(res.aic),
        "df_resid": _num(res.df_resid),
        "residual_std": _num(math.sqrt(res.scale)),
        "ss_tot": _num(ss_tot),
        "press": _num(press),
        "loo_cv_r2": _num(loo),
        "coefficients": coefficients,
        "single": single,
        "vif": vif,
        "cooks_distance": cooks_by,
        "most_influential": most,
        "predicted": {s: _num(v) for s, v in res.fittedvalues.items()},
    }


# --------------------------------------------------------------------------- report


def _fmt(x: Any, digits: int = 4) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return str(int(x))
    v = float(x)
    if not math.isfinite(v):
        return "n/a"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
        return f"{v:.{digits - 1}e}"
    return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits}f}"


def _fmt_p(p: Any) -> str:
    if p is None:
        return "n/a"
    return "<1e-16" if p < 1e-16 else _fmt(p, 3)


def summary_markdown(summary: dict, table: pd.DataFrame) -> str:
    """A human-readable Markdown report of a :func:`fit_study` result.

    `table` is the study table the summary was fitted on; its rows give the
    observed response (and design columns such as level and band, when
    present) of the most influential subsets. Raises ValueError when the
    table lacks a subset the summary names."""
    response = summary["response"]
    if "subset" not in table.columns or response not in table.columns:
        raise ValueError(f"study table needs columns 'subset' and {response!r}")
    tab = table.copy()
    tab["subset"] = tab["subset"].astype(str)
    tab = tab.set_index("subset")
    missing = sorted(set(summary["cooks_distance"]) - set(tab.index))
    if missing:
        raise ValueError(f"study table lacks {len(missing)} subset(s) of the fit, e.g. {missing[0]!r}")
    level = 100 * (1 - summary.get("alpha", 0.05))

    lines = [
        f"# Regression study: `{summary['formula']}`",
        "",
        f"- subsets: {summary['n']}",
        f"- R^2: {_fmt(summary['r2'])}",
        f"- adjusted R^2: {_fmt(summary['r2_adj'])}",
        f"- leave-one-out cross-validated R^2: {_fmt(summary['loo_cv_r2'])}",
        f"- F-test p-value: {_fmt_p(summary['f_pvalue'])}",
        f"- AIC: {_fmt(summary['aic'])}",
        f"- residual standard deviation: {_fmt(summary['residual_std'])}",
    ]
    transformed = {c: t for c, t in summary["transforms"].items() if t != "none"}
    if transformed:
        lines.append("- transforms: " + ", ".join(f"{c} -> {t}" for c, t in transformed.items()))
    lines += [
        "",
        "## Coefficients",
        "",
        f"| term | coef | se | t | p | {level:g}% CI |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, c in summary["coefficients"].items():
        lines.append(
            f"| {name} | {_fmt(c['coef'])} | {_fmt(c['se'])} | {_fmt(c['t'])} | {_fmt_p(c['p'])} "
            f"| [{_fmt(c['ci_low'])}, {_fmt(c['ci_high'])}] |"
        )
    lines += [
        "",
        "## Each regressor alone",
        "",
        "| regressor | R^2 | LOO R^2 | coef | p |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, s in summary["single"].items():
        lines.append(
            f"| {summary['terms'][name]} | {_fmt(s['r2'])} | {_fmt(s['loo_cv_r2'])} | {_fmt(s['coef'])} "
            f"| {_fmt_p(s['p'])} |"
        )
    lines += ["", "## Variance inflation factors", "", "| regressor | VIF |", "|---|---:|"]
    for name, v in summary["vif"].items():
        lines.append(f"| {summary['terms'][name]} | {_fmt(v)} |")

    extra = [c for c in ("level", "band") if c in tab.columns]
    cooks = sorted(
        summary["cooks_distance"].items(),
        key=lambda kv: (-(kv[1] if kv[1] is not None else -math.inf), kv[0]),
    )[:5]
    lines += [
        "",
        "## Most influential subsets (Cook's distance)",
        "",
        "| subset | " + "".join(f"{c} | " for c in extra) + f"{response} | predicted | Cook's d |",
        "|---|" + "---|" * len(extra) + "---:|---:|---:|",
    ]
    for s, d in cooks:
        row = tab.loc[s]
        vals = "".join(f"{row[c] if not isinstance(row[c], float) else _fmt(row[c])} | " for c in extra)
        lines.append(
            f"| {s} | {vals}{_fmt(row[response])} | {_fmt(summary['predicted'][s])} | {_fmt(d)} |"
        )
    mi = summary["most_influential"]
    lines += [
        "",
        f"Without the most influential subset ({mi['subset']}, d = {_fmt(mi['cooks_d'])}): "
        f"R^2 = {_fmt(mi['r2_without'])}, LOO R^2 = {_fmt(mi['loo_cv_r2_without'])}.",
        "",
    ]
    if summary.get("robustness"):
        lines += ["## Robustness", "", "| variant | R^2 | adj. R^2 | LOO-CV R^2 | coefficients (p) |", "|---|---:|---:|---:|---|"]
        for name, fit in summary["robustness"].items():
            coefs = ", ".join(
                f"{k} {_fmt(v['coef'])} ({_fmt_p(v['p'])})" for k, v in fit["coefficients"].items() if k != "Intercept"
            )
            lines.append(f"| {name} | {_fmt(fit['r2'])} | {_fmt(fit['r2_adj'])} | {_fmt(fit['loo_cv_r2'])} | {coefs} |")
        lines.append("")
    return "\n".join(lines)


#: the dev-loss variants a study table carries
RESPONSES = ("dev_loss", "dev_loss_domain_mean", "dev_loss_clipped")


def study_summary(
    table: pd.DataFrame,
    response: str,
    regressors: list[str],
    transforms: dict[str, str] | None = None,
    controls: tuple[str, ...] = ("tokens",),
) -> dict:
    """The configured fit plus robustness checks that make its result easy
    to judge: the same regressors on every other dev-loss variant, and the
    fit with each control (e.g. the token count) added."""
    summary = fit_study(table, response, regressors, transforms)
    robustness = {}
    for other in RESPONSES:
        if other in table.columns and table[other].notna().all():
            fit = fit_study(table, other, regressors, transforms)
            robustness[f"response={other}"] = _headline(fit)
    for control in controls:
        if control in table.columns and control not in regressors:
            fit = fit_study(table, response, list(regressors) + [control], transforms)
            robustness[f"+{control}"] = _headline(fit)
    summary["robustness"] = robustness
    return summary


def _headline(fit: dict) -> dict:
    return {
        "r2": fit["r2"],
        "r2_adj": fit["r2_adj"],
        "loo_cv_r2": fit["loo_cv_r2"],
        "coefficients": {k: {"coef": v["coef"], "p": v["p"]} for k, v in fit["coefficients"].items()},
    }
