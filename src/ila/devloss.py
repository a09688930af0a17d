"""The dev-loss model of dev-loss-modelled ILA (METHOD.md, "ILA selection").

A linear model of a fine-tuned model's *dev* loss on three properties of its
training selection, fitted on runs that were evaluated on the dev split
only (the calibration selections, tilted and banded, and the regression
study's designed subsets):

- ``log_coverage``: log of the share of the pool's occupied cells the
  selection reaches (coverage saturates: the log fits it better);
- ``mean_RID``: the selection's mean relative depth;
- ``shift``: total-variation distance between the selection's domain mix
  and the dev set's (a selection tilted toward a few domains is judged on
  all of them).

``ila`` uses it to pick its knob: it predicts the dev loss of the selection
each knob would make and takes the lowest. Nothing here reads the test set;
:func:`check` compares the model's predictions with the test losses the
scaling study measured afterwards (out of sample).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

FEATURES = ("log_coverage", "mean_RID", "shift")
#: smallest coverage share used in the log (a selection reaching no cell)
MIN_COVERAGE = 1e-3


def domain_mix(domains: Sequence[str]) -> dict[str, float]:
    """Share of each domain among ``domains`` (sorted keys)."""
    s = pd.Series(list(domains), dtype=object)
    if s.empty:
        return {}
    counts = s.value_counts()
    return {str(d): float(counts[d] / len(s)) for d in sorted(counts.index)}


def total_variation(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Total-variation distance of two distributions over domains, in [0, 1]."""
    keys = sorted(set(a) | set(b))  # a fixed order: a set's order changes with the hash seed, and so would the sum's last bits
    return 0.5 * math.fsum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in keys)


def features(domains: Sequence[str], cells: Sequence, rid: Sequence[float], n_occupied: int,
             dev_mix: Mapping[str, float]) -> dict[str, float]:
    """The model's regressors for one selection: its members' domains, cells
    and RIDs; ``n_occupied``: cells occupied by the pool it was drawn from."""
    if n_occupied < 1:
        raise ValueError("the pool occupies no cell")
    reached = len({c for c in cells if c is not None and not (isinstance(c, float) and math.isnan(c))})
    r = np.asarray(rid, dtype=float)
    r = r[np.isfinite(r)]
    return {
        "log_coverage": math.log(max(reached / n_occupied, MIN_COVERAGE)),
        "mean_RID": float(r.mean()) if len(r) else 0.5,
        "shift": total_variation(domain_mix(domains), dev_mix),
    }


def fit(table: pd.DataFrame, response: str = "dev_loss") -> dict:
    """OLS of ``response`` on :data:`FEATURES` (statsmodels) over the rows of
    ``table`` (one per dev-evaluated run). Returns a JSON-ready model: coef
    (const and each feature), their standard errors, r2, adj_r2, n, the
    response, and the sources of its rows (``source`` column counts)."""
    import statsmodels.api as sm

    missing = [c for c in (*FEATURES, response) if c not in table.columns]
    if missing:
        raise KeyError(f"dev-loss model: the runs table has no column(s) {missing}")
    data = table.dropna(subset=[*FEATURES, response])
    if len(data) < len(FEATURES) + 2:
        raise ValueError(f"dev-loss model: {len(data)} usable runs, need at least {len(FEATURES) + 2}")
    X = sm.add_constant(data[list(FEATURES)].astype(float), has_constant="add")
    res = sm.OLS(data[response].astype(float), X).fit()
    return {
        "response": response,
        "features": list(FEATURES),
        "coef": {k: float(v) for k, v in res.params.items()},
        "se": {k: float(v) for k, v in res.bse.items()},
        "r2": float(res.rsquared),
        "adj_r2": float(res.rsquared_adj),
        "n": int(len(data)),
        "sources": {str(k): int(v) for k, v in data["source"].value_counts().sort_index().items()}
        if "source" in data else {},
    }


def predict(model: Mapping, feats: Mapping[str, float]) -> float:
    """The model's dev loss for one selection's features."""
    coef = model["coef"]
    return float(coef["const"] + sum(coef[f] * float(feats[f]) for f in model["features"]))


def check(model: Mapping, runs: pd.DataFrame, observed: str = "test_loss",
          by: Sequence[str] = ("pool_fraction", "budget", "replicate")) -> tuple[pd.DataFrame, dict]:
    """Out of sample: the model's predicted loss against the loss the runs
    measured on the test set. ``runs`` has the :data:`FEATURES`, ``method``
    and ``observed``. Per group ``by`` (one grid point and replicate): the
    Spearman correlation of predicted vs observed over the methods; overall:
    the mean of those, the mean absolute error (predicted dev loss against
    observed test loss; both are clean held-out sets of the same tasks) and
    the share of groups where the method the model ranks first is the one
    that was best."""
    from scipy.stats import spearmanr

    t = runs.copy()
    t["predicted"] = [predict(model, r) for r in t[list(FEATURES)].to_dict("records")]
    rows = []
    for key, g in t.groupby(list(by), sort=True):
        g = g.dropna(subset=[observed])
        if len(g) < 3:
            continue
        rho = spearmanr(g["predicted"], g[observed]).statistic
        best_pred = g.loc[g["predicted"].idxmin(), "method"]
        best_obs = g.loc[g[observed].idxmin(), "method"]
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))), "n_methods": int(len(g)),
                     "spearman": float(rho) if np.isfinite(rho) else None,
                     "mae": float((g["predicted"] - g[observed]).abs().mean()),
                     "predicted_best": best_pred, "observed_best": best_obs})
    per = pd.DataFrame(rows)
    rhos = per["spearman"].dropna() if len(per) else pd.Series(dtype=float)
    summary = {
        "observed": observed,
        "groups": int(len(per)),
        "spearman_mean": float(rhos.mean()) if len(rhos) else None,
        "spearman_min": float(rhos.min()) if len(rhos) else None,
        "mae": float((t["predicted"] - t[observed]).abs().mean()) if t[observed].notna().any() else None,
        "first_is_best": float((per["predicted_best"] == per["observed_best"]).mean()) if len(per) else None,
    }
    return t, summary


#: methods that choose their knob with the dev-loss model, and the variant each means
MODELLED = {"ila": None, "ila-modelled-tilt": "tilt", "ila-modelled-band": "band"}


def dev_domain_mix(pool: pd.DataFrame, dev_ids: Sequence[str]) -> dict[str, float]:
    """The dev set's domain mix (dev rows joined by id with the pool)."""
    from ila.records import rows_by_id

    return domain_mix(rows_by_id(pool, list(dev_ids), "pool")["domain"].fillna("").astype(str).tolist())


def method_params(method: str, params: Mapping, settings: Mapping, model: Mapping | None,
                  dev_mix: Mapping[str, float] | None) -> dict:
    """The parameters a selection method runs with: the config's
    ``selection.params`` of the method, and for the modelled ILA methods the
    knob grid of ``selection.ila`` (``settings``), the dev-loss model and
    the dev set's domain mix."""
    out = dict(params)
    if method in MODELLED:
        if model is None:
            raise ValueError(f"selection method {method!r} needs the dev-loss model (selection.ila.calibration)")
        variant = MODELLED[method] or settings["variant"]
        out.update(variant=variant, kappas=list(settings["kappas"]), windows=[list(w) for w in settings["windows"]],
                   quotas=settings["quotas"], model=dict(model), dev_mix=dict(dev_mix or {}))
    return out


def calibration_knobs(settings: Mapping) -> list[tuple[str, str, dict]]:
    """The calibration selections' (name stem, method, params): every tilt
    kappa and every band window of ``selection.ila``, so the model sees the
    selections it will choose between."""
    out = []
    for k in settings["kappas"]:
        label = "inf" if str(k).lower() in ("inf", "infinity") else f"{float(k):g}"
        out.append((f"tilt-k{label}", "ila-tilt", {"kappa": k, "quotas": settings["quotas"]}))
    for lo, hi in settings["windows"]:
        out.append((f"band-{float(lo):.3g}-{float(hi):.3g}", "ila-band", {"window": [lo, hi]}))
    return out


def calibration_names(settings: Mapping) -> list[str]:
    """``<knob>-s<seed>`` of every calibration run."""
    return [f"{stem}-s{s}" for stem, _, _ in calibration_knobs(settings) for s in settings["calibration_seeds"]]


def needs_model(config: Mapping) -> bool:
    """Whether a method the config uses (a scaling method or the export
    method) chooses its knob with the dev-loss model."""
    sel = config["selection"]
    return bool((set(sel["methods"]) | {sel["export_method"]}) & set(MODELLED))


def check_config(config: Mapping) -> None:
    """A config whose ILA reading needs the dev-loss model must give it
    enough dev-evaluated runs to fit (at least len(FEATURES) + 2): every
    calibration run, plus the regression study's subsets when
    selection.ila.model_data has them and regression.enabled. Too few is a
    ValueError naming the keys, before any job (the fit would fail after
    every calibration fine-tune). A model given in selection.ila.calibration
    needs no runs."""
    settings = config["selection"]["ila"]
    if not needs_model(config) or settings["calibration"]:
        return
    n_cal = len(calibration_names(settings))
    reg = config["regression"]
    n_reg = 0
    if "regression" in settings["model_data"] and reg["enabled"]:
        from ila.regression.design import subset_names

        n_reg = len(subset_names(reg["design"], reg["coverage_levels"], list(reg["depth_bands"]), reg["seeds"],
                                 reg["n_random"]))
    need = len(FEATURES) + 2
    if n_cal + n_reg < need:
        raise ValueError(
            f"the dev-loss model needs at least {need} dev-evaluated runs to fit, this config gives it {n_cal + n_reg} "
            f"({n_cal} calibration runs: selection.ila.kappas x windows x calibration_seeds; {n_reg} regression "
            f"subsets: regression.enabled {reg['enabled']}, selection.ila.model_data {list(settings['model_data'])}); "
            "add calibration knobs or seeds, enable the regression study, or give a fitted model in "
            "selection.ila.calibration"
        )


def selection_features(record: Mapping, domains: Sequence[str], dev_mix: Mapping[str, float]) -> dict[str, float]:
    """Features of a selection from its record (coverage_occupied and
    mean_RID, as :func:`ila.selection.select` measured them on the pool it
    drew from) and its members' domains."""
    info = record.get("info", record)
    cov = info.get("coverage_occupied")
    rid = info.get("mean_RID")
    return {
        "log_coverage": math.log(max(float(cov), MIN_COVERAGE)) if cov is not None else math.nan,
        "mean_RID": float(rid) if rid is not None else math.nan,
        "shift": total_variation(domain_mix(domains), dev_mix),
    }


def model_markdown(model: Mapping, knobs: pd.DataFrame | None = None) -> str:
    """The fitted model and the calibration runs, as Markdown."""
    coef = model["coef"]
    lines = ["# Dev-loss model (fitted on dev-evaluated runs only)", "",
             f"{model['response']} = {coef['const']:.4f} "
             + " ".join(f"{'+' if coef[f] >= 0 else '-'} {abs(coef[f]):.4f} {f}" for f in model["features"]),
             "", f"R^2 {model['r2']:.3f} (adjusted {model['adj_r2']:.3f}), n = {model['n']} runs: "
             + ", ".join(f"{k} {v}" for k, v in model["sources"].items()), "",
             "| term | coefficient | standard error |", "|---|---|---|"]
    lines += [f"| {k} | {coef[k]:+.4f} | {model['se'][k]:.4f} |" for k in ["const", *model["features"]]]
    if knobs is not None and len(knobs):
        lines += ["", "Calibration runs (mean over seeds):", "", "| knob | dev loss | predicted | log coverage | mean RID | shift |",
                  "|---|---|---|---|---|---|"]
        for knob, g in knobs.groupby("knob", sort=False):
            lines.append(f"| {knob} | {g['dev_loss'].mean():.4f} | {g['predicted'].mean():.4f} | "
                         f"{g['log_coverage'].mean():.3f} | {g['mean_RID'].mean():.3f} | {g['shift'].mean():.3f} |")
    return "\n".join(lines) + "\n"


def check_markdown(summary: Mapping) -> str:
    """The out-of-sample check as Markdown."""
    def f(x, fmt="{:.3f}"):
        return "n/a" if x is None else fmt.format(x)

    return "\n".join([
        "# Dev-loss model, out of sample on the test set", "",
        f"Over {summary['groups']} grid points x replicates, the Spearman correlation of the model's predicted loss "
        f"with the methods' observed {summary['observed']}: mean {f(summary['spearman_mean'])}, lowest "
        f"{f(summary['spearman_min'])}; mean absolute error {f(summary['mae'], '{:.4f}')} nats; the method the model "
        f"ranks first was the best one in {f(summary['first_is_best'], '{:.0%}')} of them.", "",
    ])
