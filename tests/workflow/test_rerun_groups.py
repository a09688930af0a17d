"""A changed selection or regression subset reruns the groups of fine-tunes
it belongs to, never the whole study (dry runs on a finished smoke run)."""

import pytest
import yaml
from workflow_support import ROOT, planned_jobs, snakemake

pytestmark = pytest.mark.workflow

R = "results/smoke"


def _smoke():
    return yaml.safe_load((ROOT / "configs/smoke.yaml").read_text())


def test_new_selections_of_one_method_rerun_that_methods_groups_only(smoke_run):
    # the job that writes ila's selections runs again: its new files feed ila's groups only
    proc = snakemake(smoke_run, "-n", "--forcerun", f"{R}/selection/ila/f1-b40-s0.txt")
    jobs, text = planned_jobs(proc), proc.stdout + proc.stderr
    cfg = _smoke()
    n_points = 3 * len(cfg["scaling"]["replicates"])  # (0.5, 80), (1, 40), (1, 80) per replicate
    assert jobs["select_method"] == 1
    assert jobs["scaling_finetune"] == -(-n_points // cfg["finetune"]["runs_per_job"]), jobs  # ila's groups
    assert "regression_finetune" not in jobs and "calibration_finetune" not in jobs
    assert {"scaling_table", "scaling_summary", "scaling_figures"} <= set(jobs)
    assert f"output: {R}/scaling/runs/ila/" in text and f"output: {R}/scaling/runs/random/" not in text


def test_one_regression_run_reruns_its_own_group_only(smoke_run):
    proc = snakemake(smoke_run, "-n", "--forcerun", f"{R}/regression/runs/c1-high-s2.json")
    jobs, text = planned_jobs(proc), proc.stdout + proc.stderr
    assert jobs["regression_finetune"] == 1, jobs  # one group of finetune.runs_per_job subsets, not all 8
    assert "regression_design" not in jobs and "calibration_finetune" not in jobs
    assert {"regression_table", "regression_ols", "regression_figures", "devloss_model"} <= set(jobs)
    # the dev-loss model fits the regression runs too: only the modelled ILA's selections and runs follow
    cfg = _smoke()
    assert jobs["select_method"] == 1
    assert jobs["scaling_finetune"] == -(-3 * len(cfg["scaling"]["replicates"]) // cfg["finetune"]["runs_per_job"])
    assert f"output: {R}/scaling/runs/ila/" in text and f"output: {R}/scaling/runs/random/" not in text
