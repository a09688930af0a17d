"""The ILA selection families and the dev-loss-modelled choice of their knob,
on hand-made landscapes with a known answer; balanced random's domain counts."""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from ila import devloss
from ila.selection import select
from ila.selection.methods.random_balanced import balanced_quotas


def landscape(n=600, cells=12, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cell = np.minimum(rng.geometric(0.15, n) - 1, cells - 1)
    domain = np.array(["arith", "dates", "sort", "count"])[rng.integers(0, 4, n) if seed % 2 else cell % 4]
    return pd.DataFrame({"id": [f"x{i:05d}" for i in range(n)], "cell": cell, "RID": rng.random(n), "domain": domain})


def per_cell(df, ids):
    return df.set_index("id").loc[ids, "cell"].value_counts().sort_index()


def test_tilt_with_infinite_kappa_is_round_robin_top_rid():
    df = landscape()
    for k in (7, 60, 250):
        assert select("ila-tilt", df, k, 3, kappa="inf").ids == select("ila-roundrobin", df, k, 3).ids


def test_tilt_with_kappa_zero_is_stratified_random():
    df = landscape()
    zero = select("ila-tilt", df, 120, 3, kappa=0)
    # the cell quotas of round-robin ...
    assert per_cell(df, zero.ids).to_dict() == per_cell(df, select("ila-roundrobin", df, 120, 3).ids).to_dict()
    # ... and inside a cell nothing depends on RID: shuffle RID, same selection
    shuffled = df.assign(RID=np.random.default_rng(0).permutation(df["RID"].to_numpy()))
    assert select("ila-tilt", shuffled, 120, 3, kappa=0).ids == zero.ids
    # a mean RID near the pool's (0.5), unlike the top-RID end
    assert abs(zero.info["mean_RID"] - 0.5) < 0.08
    assert select("ila-tilt", df, 120, 3, kappa="inf").info["mean_RID"] > 0.8


def test_tilt_strength_moves_depth_monotonically_and_proportional_quotas_follow_cell_size():
    df = landscape()
    depth = [select("ila-tilt", df, 120, 5, kappa=k).info["mean_RID"] for k in (0, 1, 4, 16, "inf")]
    assert depth == sorted(depth) and depth[-1] - depth[0] > 0.3
    prop = per_cell(df, select("ila-tilt", df, 120, 5, kappa=2, quotas="proportional").ids)
    sizes = df["cell"].value_counts().sort_index()
    expected = sizes * 120 / sizes.sum()
    assert (prop.reindex(sizes.index, fill_value=0) - expected).abs().max() < 1.0 + 1e-9
    with pytest.raises(ValueError, match="kappa"):
        select("ila-tilt", df, 10, 0, kappa=-1)


def test_band_takes_only_rid_inside_its_window_round_robin_over_cells():
    df = landscape()
    sel = select("ila-band", df, 100, 2, window=[1 / 3, 2 / 3])
    rid = df.set_index("id").loc[sel.ids, "RID"]
    assert rid.between(1 / 3, 2 / 3).all()
    assert sel.excluded["outside_window"] == int((~df["RID"].between(1 / 3, 2 / 3)).sum())
    inside = df[df["RID"].between(1 / 3, 2 / 3)]
    counts = per_cell(inside, sel.ids)
    available = inside["cell"].value_counts().reindex(counts.index)
    # round-robin: every cell gets the same count (+-1) unless it ran out of in-window candidates
    short = counts < counts.max() - 1
    assert (counts[short] == available[short]).all() and short.sum() < len(counts)
    with pytest.raises(ValueError, match="window"):
        select("ila-band", df, 10, 0, window=[0.8, 0.2])


def test_balanced_random_takes_equal_domain_counts_and_redistributes_leftovers():
    q = balanced_quotas({"a": 100, "b": 100, "c": 5}, 90)
    assert q["c"] == 5 and q["a"] + q["b"] + q["__left__"] == 85
    df = pd.DataFrame({"id": [f"i{k:04d}" for k in range(400)],
                       "domain": ["big"] * 300 + ["mid"] * 90 + ["tiny"] * 10})
    sel = select("random-balanced", df, 120, 7)
    counts = df.set_index("id").loc[sel.ids, "domain"].value_counts().to_dict()
    assert counts == {"tiny": 10, "mid": 55, "big": 55}
    assert sel.info["per_domain"] == {"big": 55, "mid": 55, "tiny": 10}
    sel2 = select("random-balanced", df, 61, 7)
    c2 = df.set_index("id").loc[sel2.ids, "domain"].value_counts()
    assert c2.sum() == 61 and c2["tiny"] == 10 and abs(c2["big"] - c2["mid"]) <= 1


def _model(coef_rid: float, coef_shift: float = 0.0) -> dict:
    return {"response": "dev_loss", "features": list(devloss.FEATURES),
            "coef": {"const": 2.0, "log_coverage": -0.5, "mean_RID": coef_rid, "shift": coef_shift}}


def test_the_modelled_ila_takes_the_knob_with_the_lowest_predicted_dev_loss():
    df = landscape()
    mix = devloss.domain_mix(df["domain"])
    deep = select("ila", df, 100, 1, model=_model(-1.0), dev_mix=mix, kappas=[0, 2, "inf"])
    assert deep.info["knob"] == "inf" and deep.ids == select("ila-tilt", df, 100, 1, kappa="inf").ids
    shallow = select("ila", df, 100, 1, model=_model(+1.0), dev_mix=mix, kappas=[0, 2, "inf"])
    assert shallow.info["knob"] == 0
    preds = {str(k["knob"]): k["predicted_dev_loss"] for k in shallow.info["knobs"]}
    assert preds["0"] == min(preds.values())
    # each knob's prediction is the model applied to that selection's features
    for k in shallow.info["knobs"]:
        assert k["predicted_dev_loss"] == pytest.approx(devloss.predict(_model(1.0), k))
    band = select("ila", df, 100, 1, model=_model(-1.0), dev_mix=mix, variant="band", windows=[[0, 1], [0.5, 1]])
    assert band.info["knob"] == [0.5, 1.0]
    with pytest.raises(ValueError, match="dev-loss model"):
        select("ila", df, 10, 0)


def test_the_fitted_knob_is_reproducible_from_the_dev_data_alone():
    """Fit the model twice from the same dev-evaluated runs (rows shuffled):
    the same coefficients and the same chosen knob."""
    rng = np.random.default_rng(4)
    runs = pd.DataFrame({"log_coverage": np.log(rng.uniform(0.2, 1, 20)), "mean_RID": rng.uniform(0.3, 0.9, 20),
                         "shift": rng.uniform(0, 0.3, 20), "source": "calibration"})
    runs["dev_loss"] = 2 - 0.3 * runs["log_coverage"] - 0.2 * runs["mean_RID"] + 0.5 * runs["shift"] + rng.normal(0, 0.01, 20)
    a, b = devloss.fit(runs), devloss.fit(runs.sample(frac=1, random_state=1))
    assert a["coef"] == pytest.approx(b["coef"], rel=1e-9) and a["n"] == 20 and a["r2"] > 0.9
    assert a["coef"]["mean_RID"] == pytest.approx(-0.2, abs=0.05)
    df = landscape()
    mix = devloss.domain_mix(df["domain"])
    knob_a = select("ila", df, 100, 1, model=a, dev_mix=mix).info["knob"]
    assert knob_a == select("ila", df.sample(frac=1, random_state=2), 100, 1, model=b, dev_mix=mix).info["knob"]


def test_features_and_out_of_sample_check():
    f = devloss.features(["a", "a", "b"], [1, 2, 2], [0.2, 0.4, 0.9], 4, {"a": 0.5, "b": 0.5})
    assert f["log_coverage"] == pytest.approx(math.log(0.5)) and f["mean_RID"] == pytest.approx(0.5)
    assert f["shift"] == pytest.approx(1 / 6)
    model = _model(-1.0)
    runs = pd.DataFrame({"method": ["a", "b", "c"] * 2, "pool_fraction": 1.0, "budget": 10, "replicate": [0] * 3 + [1] * 3,
                         "log_coverage": 0.0, "mean_RID": [0.9, 0.5, 0.1] * 2, "shift": 0.0})
    runs["test_loss"] = [1.1, 1.5, 1.9, 1.2, 1.4, 1.95]  # the model's order: a < b < c
    _, summary = devloss.check(model, runs)
    assert summary["groups"] == 2 and summary["spearman_mean"] == pytest.approx(1.0)
    assert summary["first_is_best"] == 1.0
    assert summary["mae"] == pytest.approx(np.mean(np.abs(np.array([1.1, 1.5, 1.9, 1.1, 1.5, 1.9]) - runs["test_loss"])))


def test_domain_shift_has_the_same_bits_under_every_hash_seed():
    """The shift term sums over domains in a fixed order: summed in a set's
    order its last bits changed with PYTHONHASHSEED, and with them the
    fitted dev-loss model of two runs of the same config."""
    import subprocess
    import sys

    code = ("from ila.devloss import total_variation as tv\n"
            "a = {f'domain{i}': (i + 1) / 55 for i in range(10)}\n"
            "b = {f'domain{i}': 0.1 for i in range(10)}\n"
            "print(repr(tv(a, b)), repr(tv(dict(reversed(list(a.items()))), b)))\n")
    outs = {subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONHASHSEED": str(s)},
                           capture_output=True, text=True, check=True).stdout for s in range(6)}
    assert len(outs) == 1
    first, reordered = outs.pop().split()
    assert first == reordered and math.isclose(float(first), 0.5 * sum(abs((i + 1) / 55 - 0.1) for i in range(10)))
