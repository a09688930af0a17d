"""Killing the workflow in the middle of a fine-tune and running it again
finishes the job from its newest Trainer checkpoint, with the same final
metrics as an uninterrupted run; the killed job's output is never taken as
complete."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest
import yaml
from workflow_support import ROOT, SNAKEMAKE, snakemake

pytestmark = pytest.mark.workflow

R = "results/smoke"


def _command(workdir, extra, target):
    return SNAKEMAKE + [
        "-s", str(ROOT / "Snakefile"), "--directory", str(workdir), "--cores", "2", "--rerun-incomplete", target,
        "--configfile", str(ROOT / "configs/smoke.yaml"), str(extra),
    ]


def test_killed_finetune_resumes_with_the_same_metrics(smoke_run, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(smoke_run, work, symlinks=True)
    subset = sorted(p.stem for p in (work / R / "regression/runs").glob("*.json"))[0]
    target = f"{R}/regression/runs/{subset}.json"
    ckpt = work / R / "checkpoints/regression" / subset
    # enough steps to stop in the middle; checkpoint after every step
    extra = tmp_path / "interrupt.yaml"
    extra.write_text(yaml.safe_dump({"finetune": {"epochs": 12, "batch_size": 4, "checkpoint_steps": 1}}))

    proc = subprocess.Popen(_command(work, extra, target), cwd=work, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    killed_at = None
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        states = sorted(ckpt.glob("checkpoint-*/trainer_state.json"))
        if states:
            killed_at = states[-1].parent.name
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert killed_at is not None, "the fine-tune finished or never checkpointed before it could be killed"
    # the killed job left no output that looks complete
    assert not (work / target).exists()

    snakemake(work, "--unlock", configfiles=("configs/smoke.yaml", str(extra)))
    snakemake(work, "--rerun-incomplete", target, configfiles=("configs/smoke.yaml", str(extra)))
    resumed = json.loads((work / target).read_text())
    assert resumed["resumed"] is True
    assert not ckpt.exists(), "checkpoints are removed once the run has finished"

    # the same run without interruption (checkpointing is an execution setting: only this job reruns)
    (work / target).unlink()
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({"finetune": {"epochs": 12, "batch_size": 4, "checkpoint_steps": 0}}))
    snakemake(work, target, configfiles=("configs/smoke.yaml", str(plain)))
    straight = json.loads((work / target).read_text())
    assert straight["resumed"] is False
    for key in ("dev_loss", "dev_loss_clipped", "dev_loss_domain_mean", "steps", "train_ids_sha256"):
        assert resumed[key] == straight[key], key
