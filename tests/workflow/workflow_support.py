"""Helpers that run the real workflow (snakemake) in a temporary working
directory and read its dry-run plans."""

import os
import re
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
GROUP_RULE = re.compile(r"^(\w+_finetune)_g\d+$")


def stage_of(rule: str) -> str:
    """The stage a rule belongs to: the group rules of a study's fine-tunes
    count as one stage (regression_finetune_g00 -> regression_finetune)."""
    m = GROUP_RULE.match(rule)
    return m.group(1) if m else rule


def planned_jobs(proc) -> dict[str, int]:
    """Stage -> job count from a dry run's 'Job stats' table (group rules
    summed per stage, see stage_of)."""
    text = proc.stdout + proc.stderr
    if "Nothing to be done" in text:
        return {}
    jobs = {}
    block = text.split("Job stats:", 1)
    if len(block) < 2:
        raise AssertionError(f"no job stats in dry-run output:\n{text[-3000:]}")
    for line in block[1].splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)\s*$", line)
        if not m:
            if jobs:
                break
            continue
        if m.group(1) != "total":
            stage = stage_of(m.group(1))
            jobs[stage] = jobs.get(stage, 0) + int(m.group(2))
    return jobs


