"""Fit on dev, judge on test, through the DAG: the job that lists the test and
benchmark ids (heldout_ids) and the one that builds the task benchmark
(toy_eval_set) are upstream of the scaling study's final evaluation only,
never of a selection, the warm-up model, the depth scores or the regression."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELD_OUT = {"heldout_ids", "toy_eval_set"}
#: rules that fit, calibrate or select: nothing of the test set or the benchmark may reach them
FIT = re.compile(r"^(select_\w+|regression_\w+|calibration_\w+|devloss_model|warmup(_set)?|score_\w+|depth_table|cells|project|embed_\w+|split_dev)$")


def job_dag(config: str, workdir: Path) -> tuple[dict[int, str], dict[int, set[int]]]:
    """(job id -> rule, job id -> its direct dependencies) of a config's whole
    DAG, from Snakemake's machine-readable --d3dag output."""
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--d3dag",
           "--configfile", str(ROOT / config)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    dag = json.loads(proc.stdout)
    rules = {n["id"]: n["value"]["rule"] for n in dag["nodes"]}
    parents: dict[int, set[int]] = {i: set() for i in rules}
    for e in dag["edges"]:
        parents[e["v"]].add(e["u"])
    return rules, parents


def ancestors(job: int, parents: dict[int, set[int]]) -> set[int]:
    seen, todo = set(), list(parents[job])
    while todo:
        j = todo.pop()
        if j not in seen:
            seen.add(j)
            todo.extend(parents[j])
    return seen


@pytest.mark.parametrize("config", ["configs/smoke.yaml", "config.yaml"])
def test_no_fit_selection_or_regression_job_has_the_test_set_upstream(config, tmp_path):
    rules, parents = job_dag(config, tmp_path)
    fit_jobs = [j for j, r in rules.items() if FIT.match(r)]
    assert {"select_method", "warmup", "depth_table"} <= {rules[j] for j in fit_jobs}
    assert any(rules[j].startswith("regression_finetune_") for j in fit_jobs)
    for j in fit_jobs:
        leaked = {rules[a] for a in ancestors(j, parents)} & HELD_OUT
        assert not leaked, f"{rules[j]} has {leaked} upstream"
    # positive control: every scaling fine-tune is judged on the held-out sets
    judged = [j for j, r in rules.items() if r.startswith("scaling_finetune_")]
    assert judged and all(HELD_OUT <= {rules[a] for a in parents[j]} for j in judged)
