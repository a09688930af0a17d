"""Killing the workflow in the middle of a group of fine-tunes and running
it again keeps the runs the job had finished and finishes the other from
its newest Trainer checkpoint, with the same final metrics as an
uninterrupted run; the killed job's outputs are never taken as complete."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest
import yaml
from workflow_support import ROOT, SNAKEMAKE, snakemake

from ila import timing
from ila.regression.design import subset_names

pytestmark = pytest.mark.workflow

R = "results/smoke"


def _command(workdir, extra, target):
    return SNAKEMAKE + [
        "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2", "--rerun-incomplete", target,
        "--configfile", str(ROOT / "configs/smoke.yaml"), str(extra),
    ]


def test_killed_group_keeps_finished_runs_and_resumes_the_unfinished_one(smoke_run, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(smoke_run, work, symlinks=True)
    r = yaml.safe_load((ROOT / "configs/smoke.yaml").read_text())["regression"]
    # the first group of two, in study order (rules/regression.smk)
    first, second = subset_names("factorial", r["coverage_levels"], list(r["depth_bands"]), r["seeds"])[:2]
    targets = [f"{R}/regression/runs/{s}.json" for s in (first, second)]
    staging = work / R / "checkpoints/regression"
    # two runs a job, enough steps to stop in the second run; checkpoint after every step
    extra = tmp_path / "interrupt.yaml"
    settings = {"epochs": 12, "batch_size": 4, "runs_per_job": 2}
    extra.write_text(yaml.safe_dump({"finetune": {**settings, "checkpoint_steps": 1}}))

    proc = subprocess.Popen(_command(work, extra, targets[1]), cwd=work, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    killed_at = None
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        states = sorted((staging / second).glob("trainer/checkpoint-*/trainer_state.json"))
        if (staging / first / "finished.json").exists() and states:
            killed_at = states[-1].parent.parent.name
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert killed_at is not None, "the group finished, or never checkpointed its second run, before it could be killed"
    kept = json.loads((staging / first / "metrics.json").read_text())
    # the killed job left no output that looks complete
    assert not any((work / t).exists() for t in targets)

    snakemake(work, "--unlock", configfiles=("configs/smoke.yaml", str(extra)))
    snakemake(work, "--rerun-incomplete", targets[1], configfiles=("configs/smoke.yaml", str(extra)))
    done = [json.loads((work / t).read_text()) for t in targets]
    clock = json.loads((work / targets[0].replace(f"{R}/", f"{R}/timings/", 1)).read_text())
    assert done[0] == timing.split(kept)[0], "the run the killed job had finished is kept as it was"
    assert clock == timing.split(kept)[1], "... with the same wall-clock seconds (in its timing file): not retrained"
    assert done[0]["resumed"] is False and done[1]["resumed"] is True
    assert not (staging / first).exists() and not (staging / second).exists(), "staging is removed once the group is done"

    # the same group without interruption (checkpointing is an execution setting: only this job reruns)
    for t in targets:
        (work / t).unlink()
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({"finetune": {**settings, "checkpoint_steps": 0}}))
    snakemake(work, targets[1], configfiles=("configs/smoke.yaml", str(plain)))
    straight = [json.loads((work / t).read_text()) for t in targets]
    assert straight[1]["resumed"] is False
    for got, want in zip(done, straight):
        for key in ("dev_loss", "dev_loss_clipped", "dev_loss_domain_mean", "dev_per_domain", "steps", "train_ids_sha256"):
            assert got[key] == want[key], key
