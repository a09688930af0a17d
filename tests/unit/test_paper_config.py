"""The real-scale config builds its whole DAG (a dry run; it cannot run
without the hub and GPUs)."""

import subprocess
import sys
from pathlib import Path

from ila.plumbing.dryrun import stage_counts

ROOT = Path(__file__).resolve().parents[2]


def test_paper_config_dry_run_builds_the_full_dag(tmp_path):
    cmd = [sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--cores", "16", "--configfile", str(ROOT / "configs/paper.yaml")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    text = proc.stdout + proc.stderr
    jobs = stage_counts(text)
    assert int(jobs["embed_shard"]) == 16 and int(jobs["score_shard"]) == 32
    # one fine-tune a job at real scale (finetune.runs_per_job: 1): each its own GPUs and torchrun launch
    assert int(jobs["regression_finetune"]) == 36
    # 9 methods x (3 budgets at the full pool + 2 smaller pools at the fixed budget) x 2 seeds
    assert int(jobs["scaling_finetune"]) == 90 and int(jobs["benchmark_run"]) == 90
    assert "pretrain" not in jobs and "tokenizer" not in jobs  # a hub base model is not trained here
    assert "gpu=4" in text  # fine-tunes ask one GPU per torchrun process
