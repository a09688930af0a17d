"""The time budget of the default config: foundation and regression study
from scratch in at most 10 minutes on 2 cores, with the study's coefficients
in the expected direction. About 9 minutes, so marked ``bench`` (not in the
default run): ``pytest -m bench tests/workflow/test_budget.py``."""

import json
import time

import pytest
import yaml
from workflow_support import snakemake

pytestmark = [pytest.mark.workflow, pytest.mark.bench]

BUDGET_SECONDS = 600


def test_default_foundation_and_regression_study_fit_the_budget(tmp_path):
    override = tmp_path / "no-scaling.yaml"
    override.write_text(yaml.safe_dump({"name": "budget", "scaling": {"enabled": False}}))
    t0 = time.perf_counter()
    snakemake(tmp_path, configfiles=("config.yaml", str(override)), timeout=2 * BUDGET_SECONDS)
    seconds = time.perf_counter() - t0
    summary = json.loads((tmp_path / "results/budget/tables/regression_summary.json").read_text())
    print(f"[budget] foundation + regression study: {seconds:.0f} s, R^2 {summary['r2']:.3f}")
    assert summary["n"] == 36
    assert summary["coefficients"]["coverage_occupied"]["coef"] < 0
    assert summary["coefficients"]["mean_RID"]["coef"] < 0
    assert seconds <= BUDGET_SECONDS, f"{seconds:.0f} s > {BUDGET_SECONDS} s"
