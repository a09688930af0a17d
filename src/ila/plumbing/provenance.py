"""Provenance sidecars: where every output of the workflow came from.

At the end of a successful job, every output `<out>` gets a sidecar
`<out>.provenance.json` (a directory output `<dir>` gets `<dir>.provenance.json`
beside it). A sidecar is self-contained: it lists the *steps* (jobs) that led
from the source files to the output, upstream first and the job that wrote
the file last. Each step records

- rule, wildcards, params (made JSON-safe), threads;
- inputs and outputs, each with its sha256 (a directory: the sha256 of its
  sorted relative paths and file hashes, see `sha256_dir`);
- the script and its sha256; the sha256 of the whole package source
  (``ila/**/*.py``) and the package modules the job imported;
- the sha256 of the resolved config and the config files given to Snakemake;
- the git commit of the project and whether its tree was dirty;
- the sha256 of the software versions table;
- the machine: system, architecture, CPU model, the instruction-set flags
  torch's CPU kernels dispatch on, logical CPUs (torch sums in an order that
  depends on them, so two machines can differ in the last bits).

The resolved configs, software tables and module hashes are stored once per
sidecar, keyed by their hash (``configs``, ``software``, ``packages``: per
package-source hash, the sha256 of each module some step imported), so a long
chain does not repeat them. A step that consumed the output of another job folds in that job's
sidecar steps (deduplicated), which is how the chain is built without ever
asking Snakemake for the DAG.

Paths are stored relative to the working directory (inputs, outputs) or to
the project root (scripts, config files inside the repository); only files
outside both are stored as absolute paths. No timestamps, host names or
temporary paths are stored: the same job on the same inputs and code writes
the same bytes.

A script's work runs inside `with ila.plumbing.job(snakemake) as log:`;
the block clears old sidecars on entry and calls `finish_job` when it ends
without an error (or with `sys.exit(0)`), so a job that raises, exits with a
non-zero code or misses an output leaves no sidecar.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ..io import sha256_file, write_json
from .hashing import (
    CONFIGFILES_ENV,
    FORMAT,
    ProvenanceError,
    file_ref,
    git_state,
    hash_path,
    json_safe,
    loaded_modules,
    machine_record,
    package_files,
    package_hash,
    project_root,
    rel_path,
    sha256_json,
    sidecar_path,
    software_versions,
)

log = logging.getLogger("ila.plumbing.provenance")

# --------------------------------------------------------------------------
# job records


def _positions(container: Any) -> list[tuple[str | None, Any]]:
    """(name or None, value) for every item of a Snakemake Namedlist (names
    from its index ranges), a dict, a list or a single value."""
    if container is None:
        return []
    names = getattr(container, "_names", None)
    if names is not None:
        items = list(container)
        by_index: dict[int, str] = {}
        for name, (start, end) in names.items():
            for i in range(start, start + 1 if end is None else end):
                by_index[i] = name
        return [(by_index.get(i), v) for i, v in enumerate(items)]
    if isinstance(container, Mapping):
        return list(container.items())
    if isinstance(container, (str, os.PathLike)):
        return [(None, container)]
    if isinstance(container, Iterable):
        return [(None, v) for v in container]
    if hasattr(container, "__dict__"):
        return [(k, v) for k, v in vars(container).items() if not k.startswith("_")]
    return [(None, container)]


def _flat_paths(container: Any) -> list[tuple[str | None, str]]:
    out = []
    for name, value in _positions(container):
        if isinstance(value, (str, os.PathLike)):
            out.append((name, os.fspath(value)))
        elif isinstance(value, Iterable):
            out.extend((name, os.fspath(v)) for v in value)
        else:
            raise ProvenanceError(f"not a path: {name}={value!r}")
    return out


def file_records(container: Any, workdir: str | os.PathLike, cache: dict[str, tuple[str, str]] | None = None) -> list[dict]:
    """[{"name", "path", "type", "sha256"}] for the paths of a Snakemake
    input/output list, in order; paths relative to `workdir`. A timing
    file (:func:`ila.timing.is_timing_path`) is recorded with type "timing"
    and no sha256: its bytes change on every run and no result depends on
    them, so hashing them would change every sidecar downstream."""
    from ..timing import is_timing_path

    cache = {} if cache is None else cache
    out = []
    for name, path in _flat_paths(container):
        full = os.path.join(workdir, path)
        key = os.path.abspath(full)
        if key not in cache:
            cache[key] = ("timing", None) if is_timing_path(rel_path(path, workdir)) else hash_path(full)
        kind, digest = cache[key]
        out.append({"name": name, "path": rel_path(path, workdir), "type": kind, "sha256": digest})
    return out


def _params(container: Any) -> dict[str, Any]:
    out = {}
    for i, (name, value) in enumerate(_positions(container)):
        out[name if name is not None else f"_{i}"] = json_safe(value)
    return out


def _wildcards(container: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in _positions(container) if k is not None}


def configfiles_from_env(workdir: str | os.PathLike, project: Path | None) -> list[dict] | None:
    """The config files Snakemake was given ($ILA_CONFIGFILES, a JSON list of
    paths set by the Snakefile), each with its sha256 (None if it is gone);
    None when the variable is not set."""
    raw = os.environ.get(CONFIGFILES_ENV)
    if raw is None:
        return None
    try:
        paths = json.loads(raw)
        if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError("not a list of strings")
    except ValueError as exc:
        raise ProvenanceError(f"${CONFIGFILES_ENV} is not a JSON list of paths ({exc}): {raw!r}") from None
    out = []
    for p in paths:
        ref = file_ref(p, workdir, project)
        full = os.path.join(workdir, p)
        ref["sha256"] = sha256_file(full) if os.path.isfile(full) else None
        out.append(ref)
    return out


@dataclass
class JobRecord:
    """One step of a chain plus the tables it refers to by hash."""

    step: dict[str, Any]
    config: dict[str, Any]
    software: dict[str, Any]
    modules: dict[str, str] = field(default_factory=dict)
    cache: dict[str, tuple[str, str]] = field(default_factory=dict)


def job_record(
    smk: Any,
    script: str | os.PathLike | None = None,
    workdir: str | os.PathLike | None = None,
    project: Path | None | str = "auto",
    package: Path | None = None,
) -> JobRecord:
    """The step record of a finished job described by a Snakemake `snakemake`
    object (attributes rule, wildcards, params, threads, input, output,
    config). Hashes every input and output; raises FileNotFoundError naming a
    missing one."""
    workdir = os.path.abspath(workdir or os.getcwd())
    project = project_root() if project == "auto" else (Path(project) if project is not None else None)
    cache: dict[str, tuple[str, str]] = {}
    config = json_safe(dict(getattr(smk, "config", {}) or {}))
    software = software_versions()
    files = package_files(package)
    modules = loaded_modules(files, package)
    script_ref = None
    if script is not None:
        script_ref = file_ref(script, workdir, project)
        script_ref["sha256"] = sha256_file(os.path.join(workdir, os.fspath(script)))
    step = {
        "rule": str(getattr(smk, "rule", None)),
        "wildcards": _wildcards(getattr(smk, "wildcards", None)),
        "params": _params(getattr(smk, "params", None)),
        "threads": int(getattr(smk, "threads", 1) or 1),
        "inputs": file_records(getattr(smk, "input", None), workdir, cache),
        "outputs": file_records(getattr(smk, "output", None), workdir, cache),
        "script": script_ref,
        "package": {"sha256": package_hash(files), "files": len(files), "modules": sorted(modules)},
        "config": {"sha256": sha256_json(config), "files": configfiles_from_env(workdir, project)},
        "software_sha256": sha256_json(software),
        "git": git_state(project),
        "machine": machine_record(),
    }
    return JobRecord(step=step, config=config, software=software, modules=modules, cache=cache)


def step_key(step: Mapping[str, Any]) -> tuple[str, ...]:
    """The identity of a step: the sorted paths of its outputs."""
    return tuple(sorted(o["path"] for o in step["outputs"]))


SIDECAR_TABLES = ("configs", "software", "packages")


def read_sidecar(path: str | os.PathLike) -> dict[str, Any]:
    """Load and check a sidecar; ProvenanceError names the file and reason."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ProvenanceError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise ProvenanceError(f"{path}: not an {FORMAT} sidecar (format={found!r})")
    for key in ("file", "steps", *SIDECAR_TABLES):
        if key not in data:
            raise ProvenanceError(f"{path}: sidecar lacks {key!r}")
    return data


@dataclass
class Chain:
    """The folded steps of a sidecar and the tables they refer to."""

    steps: list[dict[str, Any]]
    configs: dict[str, Any]
    software: dict[str, Any]
    packages: dict[str, dict[str, str]]


def fold_chain(record: JobRecord, workdir: str | os.PathLike) -> Chain:
    """The steps of every input's sidecar, in input order, deduplicated
    (identical records; a step is named by its outputs, see `step_key`),
    then the job's own step last, so upstream steps always precede the steps
    that used them. Tables keep only the entries the steps refer to."""
    steps: list[dict] = []
    seen: set[str] = set()
    configs: dict[str, Any] = {}
    software: dict[str, Any] = {}
    packages: dict[str, dict[str, str]] = {}
    read: set[str] = set()
    for inp in record.step["inputs"]:
        car = sidecar_path(os.path.join(workdir, inp["path"]))
        if str(car) in read or not car.exists():
            continue
        read.add(str(car))
        data = read_sidecar(car)
        for step in data["steps"]:
            ident = sha256_json(step)
            if ident not in seen:
                seen.add(ident)
                steps.append(step)
        configs.update(data["configs"])
        software.update(data["software"])
        for sha, mods in data["packages"].items():
            packages.setdefault(sha, {}).update(mods)
    steps.append(record.step)
    configs[record.step["config"]["sha256"]] = record.config
    software[record.step["software_sha256"]] = record.software
    packages.setdefault(record.step["package"]["sha256"], {}).update(record.modules)
    used_modules: dict[str, set[str]] = {}
    for st in steps:
        used_modules.setdefault(st["package"]["sha256"], set()).update(st["package"]["modules"])
    return Chain(
        steps=steps,
        configs={k: configs[k] for k in sorted(configs) if k in {st["config"]["sha256"] for st in steps}},
        software={k: software[k] for k in sorted(software) if k in {st["software_sha256"] for st in steps}},
        packages={
            sha: {m: packages.get(sha, {})[m] for m in sorted(mods) if m in packages.get(sha, {})}
            for sha, mods in sorted(used_modules.items())
        },
    )


def sidecars_for(record: JobRecord, workdir: str | os.PathLike) -> dict[Path, dict]:
    """{sidecar path: sidecar} for every output of the job."""
    chain = fold_chain(record, workdir)
    out = {}
    for o in record.step["outputs"]:
        out[sidecar_path(os.path.join(workdir, o["path"]))] = {
            "format": FORMAT,
            "file": {"path": o["path"], "type": o["type"], "sha256": o["sha256"]},
            "rule": record.step["rule"],
            "steps": chain.steps,
            "configs": chain.configs,
            "software": chain.software,
            "packages": chain.packages,
        }
    return out


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_sidecars(
    smk: Any,
    script: str | os.PathLike | None = None,
    workdir: str | os.PathLike | None = None,
    project: Path | None | str = "auto",
) -> list[Path]:
    """Hash the finished job and write one sidecar per output (readable as
    the umask allows, like any new file); returns the sidecar paths."""
    workdir = os.path.abspath(workdir or os.getcwd())
    record = job_record(smk, script=script, workdir=workdir, project=project)
    mode = 0o666 & ~_umask()
    written = []
    for path, sidecar in sidecars_for(record, workdir).items():
        write_json(path, sidecar)
        os.chmod(path, mode)
        written.append(path)
    return written


# --------------------------------------------------------------------------
# a job's sidecars


def main_script() -> str | None:
    """The script being run: Snakemake's preamble sets ``__main__.__file__``
    to the real script path (not its temporary copy)."""
    main = sys.modules.get("__main__")
    f = getattr(main, "__file__", None)
    return os.path.abspath(f) if f else None


def clear_sidecars(smk: Any, workdir: str | os.PathLike | None = None) -> None:
    """Remove the sidecars an earlier run left beside this job's outputs,
    so a job that fails leaves none."""
    workdir = os.fspath(workdir or os.getcwd())
    for _, path in _flat_paths(getattr(smk, "output", None)):
        car = sidecar_path(os.path.join(workdir, path))
        if car.exists():
            car.unlink()


def finish_job(smk: Any, script: str | os.PathLike | None = None, workdir: str | os.PathLike | None = None) -> list[Path]:
    """After the job's work succeeded: write the sidecar of every output.
    Writes none (and logs which) when an output is missing, so Snakemake's
    own missing-output error is the one the user sees; raises when a
    sidecar cannot be built (the job then fails)."""
    workdir = os.fspath(workdir or os.getcwd())
    script = script if script is not None else main_script()
    missing = [p for _, p in _flat_paths(getattr(smk, "output", None)) if not os.path.exists(os.path.join(workdir, p))]
    if missing:
        log.error("provenance: no sidecars, missing output(s): %s", ", ".join(missing))
        return []
    written = write_sidecars(smk, script=script, workdir=workdir)
    log.info("provenance: wrote %d sidecar(s) for rule %s", len(written), getattr(smk, "rule", "?"))
    return written
