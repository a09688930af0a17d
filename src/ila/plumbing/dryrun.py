"""How many jobs of each rule a Snakemake run or dry run plans: its "Job
stats" table, which both print (the workflow and cluster tests count with
it). What would be rerun and why, file by file, is ila.plumbing.rerun: the
detailed summary has one row per output file and no job ids, so it cannot
count the jobs of a rule whose jobs write several files."""

from __future__ import annotations

import re


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
