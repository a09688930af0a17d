"""The dev-loss model (:mod:`ila.devloss`): a selection's features, the
out-of-sample check of a fitted model, and the domain shift's bits."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ila import devloss


def dev_loss_model(coef_rid: float, coef_shift: float = 0.0) -> dict:
    return {"response": "dev_loss", "features": list(devloss.FEATURES),
            "coef": {"const": 2.0, "log_coverage": -0.5, "mean_RID": coef_rid, "shift": coef_shift}}


def test_features_and_out_of_sample_check():
    f = devloss.features(["a", "a", "b"], [1, 2, 2], [0.2, 0.4, 0.9], 4, {"a": 0.5, "b": 0.5})
    assert f["log_coverage"] == pytest.approx(math.log(0.5)) and f["mean_RID"] == pytest.approx(0.5)
    assert f["shift"] == pytest.approx(1 / 6)
    model = dev_loss_model(-1.0)
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


def _resolved(*over):
    from ila.plumbing.configs import resolve_config

    root = Path(__file__).resolve().parents[2]
    return resolve_config(root, [str(root / o) for o in over])


def test_too_few_runs_for_the_dev_loss_model_fail_before_any_job(tmp_path):
    """The rehearsal's 3 calibration runs fit the model only with its 6
    regression subsets; without them the config is rejected naming the keys."""
    cfg = _resolved("configs/rehearsal.yaml")
    devloss.check_config(cfg)  # 3 calibration + 6 regression runs
    cfg["regression"]["enabled"] = False
    with pytest.raises(ValueError, match=r"at least 5 dev-evaluated runs.*gives it 3 .*selection\.ila\.kappas.*"
                                         r"regression\.enabled False"):
        devloss.check_config(cfg)
    ok = [dict(cfg, selection={**cfg["selection"], "ila": {**cfg["selection"]["ila"], "calibration_seeds": [0, 1]}}),
          dict(cfg, selection={**cfg["selection"], "ila": {**cfg["selection"]["ila"], "calibration": "model.json"}}),
          dict(cfg, selection={**cfg["selection"], "methods": ["random", "deita"], "export_method": "random"})]
    for c in ok:  # 6 calibration runs; a fitted model given; no method that needs the model
        devloss.check_config(c)
    cfg["regression"]["enabled"] = True
    cfg["selection"]["ila"]["model_data"] = ["calibration"]
    with pytest.raises(ValueError, match="gives it 3"):
        devloss.check_config(cfg)


def test_the_model_is_needed_when_a_scaling_or_the_export_method_is_modelled():
    def sel(methods, export):
        return {"selection": {"methods": methods, "export_method": export}}

    assert devloss.needs_model(sel(["ila", "random"], "random"))
    assert devloss.needs_model(sel(["random"], "ila"))  # the exported subset alone
    assert not devloss.needs_model(sel(["random", "ila-roundrobin"], "ila-roundrobin"))


@pytest.mark.parametrize("name", sorted(p.name for p in (Path(__file__).resolve().parents[2] / "configs").glob("*.yaml")))
def test_every_shipped_config_gives_the_dev_loss_model_enough_runs(name):
    devloss.check_config(_resolved(f"configs/{name}"))
