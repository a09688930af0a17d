"""OLS of the regression study against statsmodels' own numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from ila.regression.ols import fit_study, summary_markdown


def synthetic(n: int = 30, seed: int = 0) -> pd.DataFrame:
    """y = 2 + 3 x1 - x2 + noise, x1 > 0."""
    rng = np.random.default_rng(seed)
    x1 = rng.uniform(0.1, 1.0, n)
    x2 = rng.uniform(0.0, 1.0, n)
    y = 2 + 3 * x1 - x2 + rng.normal(0, 0.2, n)
    return pd.DataFrame(dict(subset=[f"s{i:02d}" for i in range(n)], x1=x1, x2=x2, y=y))


def close(a, b, tol=1e-10):
    return a == pytest.approx(b, rel=tol, abs=tol)


def test_matches_statsmodels_formula_fit():
    df = synthetic()
    s = fit_study(df, "y", ["x1", "x2"])
    ref = smf.ols("y ~ x1 + x2", data=df).fit()
    ci = ref.conf_int()
    assert s["n"] == 30 and s["formula"] == "y ~ x1 + x2"
    assert list(s["coefficients"]) == ["Intercept", "x1", "x2"]
    for name in ["Intercept", "x1", "x2"]:
        c = s["coefficients"][name]
        assert close(c["coef"], ref.params[name])
        assert close(c["se"], ref.bse[name])
        assert close(c["t"], ref.tvalues[name])
        assert close(c["p"], ref.pvalues[name], 1e-8)
        assert close(c["ci_low"], ci.loc[name, 0]) and close(c["ci_high"], ci.loc[name, 1])
    assert close(s["r2"], ref.rsquared) and close(s["r2_adj"], ref.rsquared_adj)
    assert close(s["f_pvalue"], ref.f_pvalue, 1e-8) and close(s["aic"], ref.aic)
    assert close(s["residual_std"], np.sqrt(ref.scale))
    assert s["coefficients"]["x1"]["coef"] == pytest.approx(3, abs=0.3)
    assert s["coefficients"]["x2"]["coef"] == pytest.approx(-1, abs=0.3)
    pred = ref.fittedvalues.set_axis(df["subset"])
    assert all(close(s["predicted"][k], pred[k]) for k in df["subset"])
    cooks = ref.get_influence().cooks_distance[0]
    assert all(close(s["cooks_distance"][k], d) for k, d in zip(df["subset"], cooks))
    json.dumps(s, allow_nan=False)  # strict JSON


def test_independent_of_row_order():
    df = synthetic()
    assert fit_study(df.iloc[::-1], "y", ["x1", "x2"]) == fit_study(df, "y", ["x1", "x2"])


def test_log_transform_applied():
    df = synthetic()
    s = fit_study(df, "y", ["x1", "x2"], {"x1": "log"})
    ref = smf.ols("y ~ lx1 + x2", data=df.assign(lx1=np.log(df.x1))).fit()
    assert s["formula"] == "y ~ log(x1) + x2"
    assert s["terms"]["x1"] == "log(x1)" and s["transforms"]["x1"] == "log"
    assert close(s["coefficients"]["log(x1)"]["coef"], ref.params["lx1"])
    assert close(s["r2"], ref.rsquared)
    lone = smf.ols("y ~ lx1", data=df.assign(lx1=np.log(df.x1))).fit()
    assert close(s["single"]["x1"]["r2"], lone.rsquared) and close(s["single"]["x1"]["coef"], lone.params["lx1"])


def test_logit_transform_and_domain_errors():
    df = synthetic()
    s = fit_study(df, "y", ["x1", "x2"], {"x1": "logit"})
    ref = smf.ols("y ~ z + x2", data=df.assign(z=np.log(df.x1 / (1 - df.x1)))).fit()
    assert close(s["coefficients"]["logit(x1)"]["coef"], ref.params["z"])
    bad = df.copy()
    bad.loc[4, "x2"] = 0.0
    with pytest.raises(ValueError, match=r"'x2'.*> 0.*s04"):
        fit_study(bad, "y", ["x1", "x2"], {"x2": "log"})
    with pytest.raises(ValueError, match="must be one of"):
        fit_study(df, "y", ["x1"], {"x1": "sqrt"})
    with pytest.raises(ValueError, match="neither the response nor a regressor"):
        fit_study(df, "y", ["x1"], {"x2": "log"})


def brute_force_loo_r2(df: pd.DataFrame, formula: str) -> float:
    y = df["y"].to_numpy()
    press = 0.0
    for i in range(len(df)):
        fit = smf.ols(formula, data=df.drop(index=df.index[i])).fit()
        press += (y[i] - float(fit.predict(df.iloc[[i]]).iloc[0])) ** 2
    return 1 - press / np.sum((y - y.mean()) ** 2)


def test_loo_cv_r2_equals_brute_force_refits():
    df = synthetic(n=20, seed=3)
    s = fit_study(df, "y", ["x1", "x2"])
    assert abs(s["loo_cv_r2"] - brute_force_loo_r2(df, "y ~ x1 + x2")) < 1e-10
    assert abs(s["single"]["x2"]["loo_cv_r2"] - brute_force_loo_r2(df, "y ~ x2")) < 1e-10
    assert s["loo_cv_r2"] < s["r2"]


def test_planted_outlier_is_most_influential():
    df = synthetic(n=25, seed=1)
    df.loc[7, "y"] += 4.0
    df.loc[7, "x1"] = 1.0  # high leverage as well
    s = fit_study(df, "y", ["x1", "x2"])
    cooks = s["cooks_distance"]
    assert max(cooks, key=cooks.get) == "s07"
    mi = s["most_influential"]
    assert mi["subset"] == "s07" and close(mi["cooks_d"], cooks["s07"])
    ref = smf.ols("y ~ x1 + x2", data=df.drop(index=7)).fit()
    assert close(mi["r2_without"], ref.rsquared)
    assert mi["r2_without"] > s["r2"] + 0.1
    assert abs(mi["loo_cv_r2_without"] - brute_force_loo_r2(df.drop(index=7), "y ~ x1 + x2")) < 1e-10


def test_vif():
    rng = np.random.default_rng(2)
    df = synthetic(n=40, seed=2)
    s = fit_study(df, "y", ["x1", "x2"])
    assert all(1.0 <= v < 1.5 for v in s["vif"].values())
    df["x3"] = df["x1"] + rng.normal(0, 0.01, len(df))
    s = fit_study(df, "y", ["x1", "x3"])
    assert s["vif"]["x1"] > 100 and s["vif"]["x3"] > 100
    one = fit_study(df, "y", ["x1"])
    assert one["vif"] == {"x1": pytest.approx(1.0)}


def test_too_few_subsets_and_bad_inputs():
    df = synthetic(n=3)
    with pytest.raises(ValueError, match=r"n > number of regressors \+ 1 = 3"):
        fit_study(df, "y", ["x1", "x2"])
    fit_study(synthetic(n=4), "y", ["x1", "x2"])  # df_resid = 1 is enough
    df = synthetic()
    with pytest.raises(ValueError, match="'subset' column"):
        fit_study(df.drop(columns="subset"), "y", ["x1"])
    with pytest.raises(ValueError, match="lacks column"):
        fit_study(df, "y", ["x9"])
    nan = df.copy()
    nan.loc[2, "x1"] = np.nan
    with pytest.raises(ValueError, match="'x1'.*s02"):
        fit_study(nan, "y", ["x1"])
    with pytest.raises(ValueError, match="constant"):
        fit_study(df.assign(y=1.0), "y", ["x1"])


def test_summary_markdown_reports_the_numbers():
    df = synthetic(n=12, seed=4)
    df["band"] = ["low", "high"] * 6
    s = fit_study(df, "y", ["x1", "x2"], {"x1": "log"})
    md = summary_markdown(s, df)
    assert f"R^2: {s['r2']:.4f}" in md
    assert f"leave-one-out cross-validated R^2: {s['loo_cv_r2']:.4f}" in md
    assert "| log(x1) |" in md and "| Intercept |" in md and "95% CI" in md
    top = sorted(s["cooks_distance"], key=lambda k: -s["cooks_distance"][k])[:5]
    rows = [line for line in md.splitlines() if line.startswith("| s0") or line.startswith("| s1")]
    assert [r.split("|")[1].strip() for r in rows] == top
    assert "| band |" in md
    with pytest.raises(ValueError, match="lacks"):
        summary_markdown(s, df.iloc[1:])
