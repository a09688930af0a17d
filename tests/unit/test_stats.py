"""The study's statistics on hand-made run tables with known answers. The
t quantiles are checked against closed forms: with 1 degree of freedom the
t distribution is Cauchy (q = tan(pi (p - 1/2))); with 2, its CDF is
1/2 + t / (2 sqrt(2 + t^2)), so the two-sided level-c quantile is
sqrt(2 c^2 / (1 - c^2))."""

import math

import numpy as np
import pandas as pd
import pytest

from ila import stats

T1_95 = math.tan(math.pi * 0.475)  # 12.7062...
T2_95 = math.sqrt(2 * 0.95**2 / (1 - 0.95**2))  # 4.3027...
T2_90 = math.sqrt(2 * 0.9**2 / (1 - 0.9**2))  # 2.9200...


def test_mean_ci_uses_exact_t_quantiles():
    ci = stats.mean_ci([1.0, 2.0, 3.0])
    assert (ci["n"], ci["mean"], ci["sd"]) == (3, 2.0, 1.0)
    assert ci["half_width"] == pytest.approx(T2_95 / math.sqrt(3), rel=1e-12)
    assert ci["ci_low"] == pytest.approx(2 - T2_95 / math.sqrt(3), rel=1e-12)
    assert stats.mean_ci([1.0, 2.0, 3.0], level=0.9)["half_width"] == pytest.approx(T2_90 / math.sqrt(3), rel=1e-12)
    two = stats.mean_ci([0.0, 2.0])
    assert two["se"] == pytest.approx(1.0) and two["half_width"] == pytest.approx(T1_95, rel=1e-12)


def test_mean_ci_of_one_value_has_nan_width_and_counts_nan():
    one = stats.mean_ci([0.7, float("nan")])
    assert one["n"] == 1 and one["mean"] == 0.7 and one["n_missing"] == 1
    assert math.isnan(one["half_width"]) and math.isnan(one["ci_low"])
    assert stats.mean_ci([])["n"] == 0


def runs(values: dict) -> pd.DataFrame:
    """{(method, point, replicate): loss} -> a run table."""
    return pd.DataFrame([{"method": m, "point": p, "replicate": r, "loss": v} for (m, p, r), v in values.items()])


def test_paired_difference_known_intervals_and_counted_missing_pairs():
    base = {0: 1.0, 1: 1.5, 2: 0.5, 3: 2.0}
    values = {}
    for r, b in base.items():
        values[("random", "A", r)] = b
        values[("random", "B", r)] = b + 1
    for r, d in zip(range(3), [1.0, 2.0, 3.0]):
        values[("ila", "A", r)] = base[r] + d
    values[("ila", "A", 3)] = float("nan")  # a failed run
    for r, d in zip(range(3), [2.0, 3.0, 4.0]):
        values[("ila", "B", r)] = base[r] + 1 + d  # replicate 3 never ran
    out = stats.paired_difference(runs(values), "ila", "random", metric="loss").set_index("point")
    half = T2_95 / math.sqrt(3)
    assert list(out["n"]) == [3, 3] and list(out["n_missing"]) == [1, 1]
    assert out.loc["A", "diff"] == pytest.approx(2.0) and out.loc["B", "diff"] == pytest.approx(3.0)
    assert out.loc["A", "half_width"] == pytest.approx(half) and out.loc["B", "ci_low"] == pytest.approx(3 - half)
    assert list(out["holds"]) == [False, True]  # 2 - 2.48 < 0 < 3 - 2.48
    assert out.loc["B", "mean_reference"] == pytest.approx(np.mean([2.0, 2.5, 1.5]))
    t = 3 / (1 / math.sqrt(3))  # two-sided p on 2 df: 1 - t / sqrt(2 + t^2)
    assert out.loc["B", "p"] == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)


def test_paired_difference_refuses_duplicate_runs():
    table = runs({("ila", "A", 0): 1.0, ("random", "A", 0): 0.5})
    table = pd.concat([table, table.iloc[:1]])
    with pytest.raises(ValueError, match="method 'ila': 2 rows share"):
        stats.paired_difference(table, "ila", "random", metric="loss")


def scaling_table(slope=0.1, sizes=(100, 200, 400, 800), replicates=5, budgets=(50,)):
    rng = np.random.default_rng(1)
    rows = []
    for b in budgets:
        for s in sizes:
            for r in range(replicates):
                ref = 2.0 + rng.normal(scale=0.05)  # noisy, but the margin is exact
                rows.append({"method": "random", "pool_size": s, "budget": b, "replicate": r, "loss": ref})
                rows.append({"method": "ila", "pool_size": s, "budget": b, "replicate": r,
                             "loss": ref - 0.3 + slope * math.log2(s)})
    return pd.DataFrame(rows)


def test_margin_slope_of_an_exact_margin_has_zero_width():
    out = stats.margin_slope(scaling_table(), "ila", "random", metric="loss").iloc[0]
    assert out["slope"] == pytest.approx(0.1, abs=1e-12) and out["ci_high"] - out["ci_low"] < 1e-12
    assert (out["n_points"], out["n_replicates"], out["n_obs"], out["n_missing"]) == (4, 5, 20, 0)
    assert out["x_ratio"] == 8.0 and out["holds"] and out["p"] < 1e-12
    assert out["intercept"] == pytest.approx(-0.3, abs=1e-12)


def test_margin_slope_counts_a_missing_replicate_and_groups_by_budget():
    table = scaling_table(budgets=(50, 100))
    table = table.drop(table.index[(table["method"] == "ila") & (table["budget"] == 100) & (table["replicate"] == 4)
                                   & (table["pool_size"] == 800)])
    out = stats.margin_slope(table, "ila", "random", metric="loss", by=("budget",)).set_index("budget")
    assert list(out["n_obs"]) == [20, 19] and list(out["n_missing"]) == [0, 1]
    assert np.allclose(out["slope"], 0.1)
    with pytest.raises(ValueError, match="rows share"):
        stats.margin_slope(table, "ila", "random", metric="loss")  # two budgets, no `by`: never averaged


def test_margin_slope_matches_the_closed_form_ols():
    """y = (0, 1, 1) on log2 x = (0, 1, 2): slope 1/2, intercept 1/6,
    residual variance 1/6 on 1 df, Sxx = 2, so se = sqrt(1/12)."""
    table = pd.DataFrame({"method": "random", "pool_size": [1, 2, 4], "replicate": 0, "loss": [0.0, 1.0, 1.0]})
    out = stats.margin_slope(table, "random", None, metric="loss").iloc[0]
    assert out["slope"] == pytest.approx(0.5) and out["intercept"] == pytest.approx(1 / 6)
    assert out["se"] == pytest.approx(math.sqrt(1 / 12))
    assert out["ci_high"] == pytest.approx(0.5 + T1_95 * math.sqrt(1 / 12))
    assert not out["holds"] and out["p"] == pytest.approx(1 - 2 * math.atan(0.5 / math.sqrt(1 / 12)) / math.pi)
    short = stats.margin_slope(table.iloc[:2], "random", None, metric="loss").iloc[0]
    assert math.isnan(short["slope"]) and not short["holds"]


def test_pooled_reference_averages_over_pool_sizes_per_replicate():
    table = scaling_table()
    pooled = stats.pooled_reference(table, "random", over="pool_size", metric="loss")
    rnd = table[table["method"] == "random"]
    expect = rnd.groupby("replicate")["loss"].mean()
    got = pooled[pooled["method"] == "random"]
    assert np.allclose(got["loss"], expect.loc[got["replicate"]].to_numpy())
    assert pooled[pooled["method"] == "ila"].equals(table[table["method"] == "ila"])
    # the pooled reference is constant in pool size within a replicate, so the
    # margin's slope becomes the method's own slope (balanced table)
    own = stats.margin_slope(table, "ila", None, metric="loss").iloc[0]["slope"]
    assert stats.margin_slope(pooled, "ila", "random", metric="loss").iloc[0]["slope"] == pytest.approx(own, abs=1e-12)
    assert abs(own - 0.1) > 1e-3  # ...which carries the reference's own noise


def test_method_means_per_method_and_point():
    out = stats.method_means(runs({("a", "P", 0): 1.0, ("a", "P", 1): 3.0, ("b", "P", 0): 5.0}), metric="loss")
    assert list(out["method"]) == ["a", "b"] and list(out["n"]) == [2, 1]
    assert out.loc[0, "mean"] == 2.0 and out.loc[0, "half_width"] == pytest.approx(T1_95 * 1.0)
    assert math.isnan(out.loc[1, "half_width"])
