"""What Snakemake would rerun to make a target, file by file, and why: read
from the tab-separated table of ``snakemake --detailed-summary`` and the
file list of ``snakemake --list-changes code``, never from the wording of a
dry run.

The summary has one row per output file of every job in the target's DAG:
``output_file, date, rule, log-file(s), input-file(s), shellcmd, status,
plan``. ``plan`` says whether the file would be made again ("update
pending") or not ("no update"); ``status`` names the cause Snakemake checks
per file ("missing", "updated input files", "rule implementation changed",
"set of input files changed", "params changed", or "ok"). Its log and
input columns read "-" when Snakemake holds no metadata record for the file
(it was not written by Snakemake, or is missing).

Two causes the summary does not name are filled in: a script newer than the
file (Snakemake's code trigger for ``script:`` rules, which the summary
reports as "ok") from ``--list-changes code``, and an input that another
planned job makes again ("upstream"); anything else that plans a file the
summary calls "ok" (a changed software environment, a forced run) is
"other". ``--list-params-changes`` is not
used: Snakemake 9.27 lists every file with recorded params there, changed
or not. ``--summary`` also ignores incomplete files (a job killed while
writing them); ``--list-changes`` refuses them, so asking both makes an
incomplete file an error instead of "current".
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

COLUMNS = ("output_file", "date", "rule", "log-file(s)", "input-file(s)", "shellcmd", "status", "plan")
PLAN = {"update pending": True, "no update": False}

#: the summary's status -> the reason category of a file
STATUS_REASON = {
    "missing": "missing",
    "updated input files": "updated input",
    "rule implementation changed": "code",
    "set of input files changed": "input set",
    "params changed": "params",
    "removed temp file": "temp",
    "pipe file": "pipe",
    "service file": "service",
    "file local to node": "node-local",
}

#: reason categories of files that would not be rerun
CURRENT, UNTRACKED = "current", "untracked"
#: reasons of a planned file whose status is "ok"
CODE, UPSTREAM, OTHER = "code", "upstream", "other"


@dataclass(frozen=True)
class SummaryRow:
    """One row of ``--detailed-summary``. `inputs` are the recorded input
    files, None without a metadata record."""

    path: str
    date: str | None
    rule: str
    inputs: tuple[str, ...] | None
    status: str
    pending: bool


@dataclass(frozen=True)
class PlannedFile:
    """One output file of the target's DAG: its rule, whether Snakemake
    would make it again, the reason category, the summary's own status, and
    whether Snakemake holds metadata for it. The reason is STATUS_REASON's
    for a status other than "ok"; for "ok", code, upstream or other when the
    file would be rerun, current or untracked (no metadata) when not."""

    path: str
    rule: str
    rerun: bool
    reason: str
    status: str
    tracked: bool


def parse_summary(text: str) -> list[SummaryRow]:
    """The rows of ``snakemake --detailed-summary``'s stdout. Raises
    ValueError on text without the header or with a row it cannot read."""
    lines = text.splitlines()
    header = "\t".join(COLUMNS)
    try:
        start = lines.index(header) + 1
    except ValueError:
        raise ValueError(f"no detailed summary header in Snakemake's output:\n{text[-3000:]}") from None
    rows = []
    for line in lines[start:]:
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) < len(COLUMNS) or cells[-1] not in PLAN:
            raise ValueError(f"not a row of the detailed summary: {line!r}")
        # a shell command may hold tabs: the columns around it are fixed
        path, date, rule, log, inputs = cells[:5]
        status, plan = cells[-2:]
        untracked = log == "-"
        rows.append(SummaryRow(
            path=path,
            date=None if date == "-" else date,
            rule=rule,
            inputs=None if untracked else tuple(i for i in inputs.split(",") if i),
            status=status,
            pending=PLAN[plan],
        ))
    return rows


def classify(rows: Sequence[SummaryRow], code_changed: Iterable[str] = ()) -> list[PlannedFile]:
    """Each row's reason category. `code_changed`: the files
    ``--list-changes code`` printed."""
    code = {os.path.normpath(p) for p in code_changed}
    planned = {os.path.normpath(r.path) for r in rows if r.pending}
    out = []
    for r in rows:
        if r.status != "ok":
            reason = STATUS_REASON.get(r.status, r.status)
        elif not r.pending:
            reason = UNTRACKED if r.inputs is None else CURRENT
        elif os.path.normpath(r.path) in code:
            reason = CODE
        elif r.inputs and planned.intersection(os.path.normpath(i) for i in r.inputs):
            reason = UPSTREAM
        else:
            reason = OTHER
        out.append(PlannedFile(r.path, r.rule, r.pending, reason, r.status, r.inputs is not None))
    return out


def _wait(cmd: list[str], proc: subprocess.Popen, timeout: float) -> tuple[str, str | None]:
    """The stdout of a started Snakemake command and, where it failed, why."""
    what = "snakemake " + " ".join(cmd[3:5])
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return "", f"{what} timed out after {timeout:.0f} s"
    if proc.returncode != 0:
        tail = "\n".join((stdout + "\n" + stderr).strip().splitlines()[-15:])
        return stdout, f"{what} failed (exit {proc.returncode}): {tail}"
    return stdout, None


def ask_snakemake(
    target: str,
    workdir: Path,
    snakefile: Path,
    configfiles: Sequence[str] | None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Ask Snakemake what it would rerun to make `target`: {"commands",
    "returncode", "up_to_date", "files" (PlannedFile as dicts, in the
    summary's order: the target first), "error"}. `up_to_date` is None on
    an error."""
    rest = [target, "--nolock", "-s", str(snakefile), "--directory", str(workdir)]
    rest += ["--configfile", *map(str, configfiles)] if configfiles else []
    commands = [
        [sys.executable, "-m", "snakemake", "--detailed-summary", *rest],
        [sys.executable, "-m", "snakemake", "--list-changes", "code", *rest],
    ]
    out: dict[str, Any] = {"commands": commands, "returncode": 0, "up_to_date": None, "files": [], "error": None}
    # two DAG builds of the same target, independent of each other: run together
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=workdir) for cmd in commands]
    answers = [_wait(cmd, proc, timeout) for cmd, proc in zip(commands, procs)]
    stdout = [text for text, _ in answers]
    failed = [(proc.returncode, error) for proc, (_, error) in zip(procs, answers) if error]
    if failed:
        out.update(returncode=failed[0][0], error="; ".join(error for _, error in failed))
        return out
    try:
        rows = parse_summary(stdout[0])
    except ValueError as exc:
        out["error"] = str(exc)
        return out
    files = classify(rows, [line for line in stdout[1].splitlines() if line.strip()])
    if os.path.normpath(target) not in {os.path.normpath(f.path) for f in files}:
        out["error"] = f"the detailed summary lists no row for {target}"
        return out
    out.update(up_to_date=not any(f.rerun for f in files), files=[asdict(f) for f in files])
    return out
