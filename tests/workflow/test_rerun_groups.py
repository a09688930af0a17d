"""A changed selection or regression subset reruns the group of fine-tunes
it belongs to, never the whole study (dry runs on a finished smoke run)."""

import os

import pytest
from workflow_support import planned_jobs, snakemake

pytestmark = pytest.mark.workflow

R = "results/smoke"


def _dry_run_after_touching(smoke_run, rel):
    """Plan after making one input newer than every output; the file's
    times are put back afterwards, so the shared run stays complete."""
    path = smoke_run / rel
    st = path.stat()
    newest = max(p.stat().st_mtime for p in (smoke_run / R).rglob("*") if p.is_file())
    os.utime(path, (newest + 60, newest + 60))
    try:
        proc = snakemake(smoke_run, "-n", "--rerun-triggers", "mtime")
    finally:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    return planned_jobs(proc), proc.stdout + proc.stderr


def test_a_changed_selection_reruns_its_own_group_only(smoke_run):
    jobs, text = _dry_run_after_touching(smoke_run, f"{R}/selection/ila/f1-b40-s0.txt")
    assert jobs["scaling_finetune"] == 1, jobs
    assert "regression_finetune" not in jobs and "select_method" not in jobs
    assert {"scaling_table", "scaling_summary", "scaling_figures"} <= set(jobs)
    assert f"{R}/scaling/runs/ila/f1-b40-s0.json" in text
    assert f"{R}/scaling/runs/random/" not in text  # another method's group is untouched


def test_a_changed_regression_subset_reruns_its_own_group_only(smoke_run):
    jobs, _ = _dry_run_after_touching(smoke_run, f"{R}/regression/subsets/c1-high-s2.txt")
    assert jobs["regression_finetune"] == 1, jobs
    assert "scaling_finetune" not in jobs and "regression_design" not in jobs
    assert {"regression_table", "regression_ols", "regression_figures"} <= set(jobs)
