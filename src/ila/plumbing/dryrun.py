"""What Snakemake would run: a dry run of a target, read into jobs with their
reasons and a per-rule count (one parser for the audit and the tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence


# --------------------------------------------------------------------------
# Snakemake dry run

_JOB_HEADER = re.compile(r"^(?:local)?rule (\S+):\s*$")
_JOB_FIELD = re.compile(r"^\s+(input|output|reason|wildcards): (.*)$")


def parse_dry_run(text: str) -> dict[str, Any]:
    """{"up_to_date": bool, "jobs": [{"rule", "output", "reason",
    "wildcards"}]} from the text of `snakemake -n`."""
    if "Nothing to be done" in text:
        return {"up_to_date": True, "jobs": []}
    jobs: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        m = _JOB_HEADER.match(line)
        if m:
            current = {"rule": m.group(1), "output": [], "reason": None, "wildcards": None}
            jobs.append(current)
            continue
        if current is None:
            continue
        f = _JOB_FIELD.match(line)
        if f:
            key, value = f.groups()
            if key == "output":
                current["output"] = [p.strip() for p in value.split(",") if p.strip()]
            elif key in ("reason", "wildcards"):
                current[key] = value.strip()
        elif line.strip() == "" or line.startswith("["):
            current = None
    return {"up_to_date": not jobs, "jobs": [j for j in jobs if j["rule"] != "all"]}


def snakemake_dry_run(
    target: str,
    workdir: Path,
    snakefile: Path,
    configfiles: Sequence[str] | None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Ask Snakemake whether `target` would be rebuilt: {"command",
    "returncode", "up_to_date", "jobs", "error"}."""
    cmd = [sys.executable, "-m", "snakemake", target, "-n", "--nolock", "-s", str(snakefile), "--directory", str(workdir)]
    if configfiles:
        cmd += ["--configfile", *[str(c) for c in configfiles]]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)
    except subprocess.TimeoutExpired:
        return {"command": cmd, "returncode": None, "up_to_date": None, "jobs": [], "error": f"timed out after {timeout:.0f} s"}
    text = proc.stdout + "\n" + proc.stderr
    out: dict[str, Any] = {"command": cmd, "returncode": proc.returncode, "error": None}
    if proc.returncode != 0:
        tail = "\n".join(line for line in text.strip().splitlines()[-15:])
        out.update(up_to_date=None, jobs=[], error=tail)
        return out
    out.update(parse_dry_run(text))
    return out


def job_counts(text: str) -> dict[str, int]:
    """Rule -> job count from the "Job stats" table of a dry run's text ({}
    when Snakemake has nothing to do; the "total" row is left out). Raises
    ValueError when the text holds neither."""
    if "Nothing to be done" in text:
        return {}
    block = text.split("Job stats:", 1)
    if len(block) < 2:
        raise ValueError(f"no job stats in the dry run's output:\n{text[-3000:]}")
    counts: dict[str, int] = {}
    for line in block[1].splitlines()[3:]:
        m = re.match(r"^(\S+)\s+(\d+)\s*$", line)
        if not m:
            if counts:
                break
            continue
        if m.group(1) != "total":
            counts[m.group(1)] = counts.get(m.group(1), 0) + int(m.group(2))
    return counts


#: a loop-defined rule that trains one group of a study's fine-tunes: <stage>_gNN
GROUP_RULE = re.compile(r"^(\w+_finetune)_g\d+$")


def stage_of(rule: str) -> str:
    """The stage a rule belongs to: the group rules of a study's fine-tunes
    count as one stage (regression_finetune_g00 -> regression_finetune)."""
    m = GROUP_RULE.match(rule)
    return m.group(1) if m else rule


def stage_counts(text: str) -> dict[str, int]:
    """Stage -> job count of a Snakemake run's or dry run's text: the
    :func:`job_counts` with group rules summed per stage."""
    out: dict[str, int] = {}
    for rule, n in job_counts(text).items():
        out[stage_of(rule)] = out.get(stage_of(rule), 0) + n
    return out
