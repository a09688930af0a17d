"""``ila``, the dev-loss-modelled ILA: the knob of its family with the lowest
predicted dev loss, reproducible from the dev data alone."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ila import devloss
from ila.selection import select

from test_devloss import dev_loss_model

from ..pools import four_domain_landscape


def test_the_modelled_ila_takes_the_knob_with_the_lowest_predicted_dev_loss():
    df = four_domain_landscape()
    mix = devloss.domain_mix(df["domain"])
    deep = select("ila", df, 100, 1, model=dev_loss_model(-1.0), dev_mix=mix, kappas=[0, 2, "inf"])
    assert deep.info["knob"] == "inf" and deep.ids == select("ila-tilt", df, 100, 1, kappa="inf").ids
    shallow = select("ila", df, 100, 1, model=dev_loss_model(+1.0), dev_mix=mix, kappas=[0, 2, "inf"])
    assert shallow.info["knob"] == 0
    preds = {str(k["knob"]): k["predicted_dev_loss"] for k in shallow.info["knobs"]}
    assert preds["0"] == min(preds.values())
    # each knob's prediction is the model applied to that selection's features
    for k in shallow.info["knobs"]:
        assert k["predicted_dev_loss"] == pytest.approx(devloss.predict(dev_loss_model(1.0), k))
    band = select("ila", df, 100, 1, model=dev_loss_model(-1.0), dev_mix=mix, variant="band",
                  windows=[[0, 1], [0.5, 1]])
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
    df = four_domain_landscape()
    mix = devloss.domain_mix(df["domain"])
    knob_a = select("ila", df, 100, 1, model=a, dev_mix=mix).info["knob"]
    assert knob_a == select("ila", df.sample(frac=1, random_state=2), 100, 1, model=b, dev_mix=mix).info["knob"]


def test_the_modelled_tilt_and_band_fix_their_family_whatever_the_variant():
    df = four_domain_landscape()
    mix = devloss.domain_mix(df["domain"])
    model = dev_loss_model(-1.0)
    kappas, windows = [0, 2, "inf"], [[0, 1], [0.5, 1]]
    tilt = select("ila-modelled-tilt", df, 100, 1, model=model, dev_mix=mix, kappas=kappas, variant="band")
    assert tilt.info["variant"] == "tilt" and tilt.info["knob"] == "inf"
    assert tilt.ids == select("ila", df, 100, 1, model=model, dev_mix=mix, kappas=kappas).ids
    band = select("ila-modelled-band", df, 100, 1, model=model, dev_mix=mix, windows=windows, variant="tilt")
    assert band.info["variant"] == "band" and band.info["knob"] == [0.5, 1.0]
    assert band.ids == select("ila", df, 100, 1, model=model, dev_mix=mix, variant="band", windows=windows).ids
    assert [k["knob"] for k in band.info["knobs"]] == [[0.0, 1.0], [0.5, 1.0]]
