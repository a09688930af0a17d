"""Helpers that run the real workflow (snakemake) in a temporary working
directory and read its dry-run plans."""

import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(workdir, *args, configfiles=("configs/smoke.yaml",), timeout=900, check=True, repo=ROOT):
    """Run the workflow of `repo` (its Snakefile; relative config files are
    taken from it) in `workdir`."""
    cmd = SNAKEMAKE + ["-s", str(Path(repo) / "Snakefile"), "--directory", str(workdir), "--cores", "2"]
    cmd += list(args)  # targets before --configfile, which takes every word after it
    if configfiles:
        cmd += ["--configfile", *[str(Path(repo) / c) if not os.path.isabs(c) else c for c in configfiles]]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}")
    return proc


#: a rule of one group of fine-tunes, e.g. regression_finetune_g03 (rules/regression.smk)
def planned_jobs(proc) -> dict[str, int]:
    """Stage -> job count of a dry run (ila.plumbing.dryrun.stage_counts)."""
    from ila.plumbing.dryrun import stage_counts

    return stage_counts(proc.stdout + proc.stderr)


