"""The GPU check (bench/gpu_check.sh) is a script for a machine this suite
never has. What can break without a GPU is checked here: its config
overlay for 1 and 2 GPUs is a config the workflow accepts, with the DAG the
script's comments promise (every run, on CPU, is a dry run: the config and
the plan, not a run), and ``--cpu`` runs the whole script end to end (both
parts, the summary) with every GPU-only setting swapped for its CPU
counterpart. What stays unchecked: CUDA, bf16, NCCL, FSDP and the 8-minute
sizing, which need the GPU itself."""

import os
import re
import subprocess

import pytest
import yaml
from workflow_support import ROOT, planned_jobs, snakemake

SCRIPT = ROOT / "bench" / "gpu_check.sh"
PAPER = yaml.safe_load((ROOT / "configs/paper.yaml").read_text())


def _overlay(gpus: int, work) -> dict:
    out = subprocess.run(["bash", str(SCRIPT), "--print-config", str(gpus), str(work)], capture_output=True,
                         text=True, check=True, timeout=60)
    assert yaml.safe_load(out.stdout) == yaml.safe_load((work / "gpu.yaml").read_text())
    return yaml.safe_load(out.stdout)


@pytest.mark.parametrize("gpus", [1, 2])
def test_gpu_overlay_is_a_config_the_workflow_plans(gpus, tmp_path):
    over = _overlay(gpus, tmp_path)
    ft = over["finetune"]
    assert over["device"] == "cuda" and ft["bf16"] is True
    assert ft["processes"] == gpus and ft["batch_size"] == 16 * gpus
    if gpus > 1:  # paper.yaml's FSDP wrapping, inside the workflow's fine-tunes
        assert ft["trainer_args"]["fsdp"] is True
        assert ft["trainer_args"]["fsdp_config"]["transformer_layer_cls_to_wrap"] == \
            PAPER["finetune"]["trainer_args"]["fsdp_config"]["transformer_layer_cls_to_wrap"]
    else:
        assert ft["trainer_args"] == {"activation_checkpointing": True}
    plan = planned_jobs(snakemake(tmp_path, "-n", configfiles=("configs/rehearsal.yaml", str(tmp_path / "gpu.yaml"))))
    methods, keys = len(over["selection"]["methods"]), len(over["scaling"]["pool_fractions"])
    assert plan["scaling_finetune"] == methods * keys and plan["benchmark_run"] == methods * keys
    assert plan["regression_finetune"] == 6 and plan["warmup"] == 1  # the rehearsal's 2 levels x 3 bands


def _rate(text: str, label: str) -> float:
    m = re.search(re.escape(label) + r".*?= ([\d,]+) tokens/s", text)
    assert m, f"no tokens/s line for {label!r} in:\n{text}"
    return float(m.group(1).replace(",", ""))


@pytest.mark.rehearsal
def test_gpu_check_runs_end_to_end_with_cpu_stand_ins(tmp_path):
    env = dict(os.environ, CORES="2")
    proc = subprocess.run(["bash", str(SCRIPT), "--cpu", str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=1800)
    text = proc.stdout + proc.stderr
    assert proc.returncode == 0, text[-6000:]
    assert re.search(r"^part 1 \(rehearsal on cpu\): \d+ s$", text, re.M)
    assert re.search(r"^part 2 \(torchrun, gloo, DDP \+ activation checkpointing\): \d+ s$", text, re.M)
    over = yaml.safe_load((tmp_path / "gpu.yaml").read_text())
    assert over["device"] == "cpu" and over["finetune"]["processes"] == 2
    methods, keys = len(over["selection"]["methods"]), len(over["scaling"]["pool_fractions"])
    # the per-stage table: stage, jobs, seconds
    table = dict(re.findall(r"^(\w+)\s+(\d+)\s+[\d.]+\s+[\d.]+$", text, re.M))
    assert int(table["scaling_finetune"]) == methods * keys and int(table["benchmark_run"]) == methods * keys
    assert int(table["warmup"]) == 1 and int(table["regression_finetune"]) == 6
    for label in ("depth scoring", "Deita scoring", "training, warm-up",
                  f"training, {methods * keys} scaling fine-tunes (2 process(es) each)", "training, part 2 (2 rank(s)"):
        assert _rate(text, label) > 0
    m = re.search(r"training, part 2 \(2 rank\(s\), (\d+) examples\)", text)
    assert m and int(m.group(1)) == over["scaling"]["fixed_budget"]  # the ILA selection at the whole pool
    m = re.search(r"dev loss ([\d.]+)", text)
    assert m and 0 < float(m.group(1)) < 20
    assert re.search(r"lm-eval: (\d+) benchmark rows, tasks \['gsm8k_rehearsal', 'mmlu_rehearsal'\]", text)
