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
- the sha256 of the software versions table.

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

A script's work runs inside `with ila.workflow.job(snakemake) as log:`;
the block clears old sidecars on entry and calls `finish_job` when it ends
without an error (or with `sys.exit(0)`), so a job that raises, exits with a
non-zero code or misses an output leaves no sidecar.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .io import _json_default, sha256_file, write_json

FORMAT = "ila-provenance/1"
SIDECAR_SUFFIX = ".provenance.json"
CONFIGFILES_ENV = "ILA_CONFIGFILES"
PROJECT_ROOT_ENV = "ILA_PROJECT_ROOT"

# Distributions whose versions every step records (importlib.metadata only:
# nothing is imported).
SOFTWARE = (
    "ila",
    "torch",
    "transformers",
    "sentence-transformers",
    "statsmodels",
    "scikit-learn",
    "snakemake",
    "numpy",
    "pandas",
)

# Files Snakemake itself adds inside directory outputs after the job ends.
DIR_HASH_IGNORE = frozenset({".snakemake_timestamp"})

# Package modules that only run the job (threads, logs, provenance) and do not
# compute any result: they are left out of a step's module list.
JOB_PLUMBING_MODULES = frozenset({"ila.workflow", "ila.provenance", "ila.audit"})

log = logging.getLogger("ila.provenance")


class ProvenanceError(RuntimeError):
    """A sidecar could not be written or read; the message names the file."""


# --------------------------------------------------------------------------
# hashing and JSON


def sidecar_path(path: str | os.PathLike) -> Path:
    """`<path>.provenance.json`; for a directory, beside it (not inside)."""
    return Path(str(os.fspath(path)).rstrip("/\\") + SIDECAR_SUFFIX)


def sha256_dir(path: str | os.PathLike) -> str:
    """sha256 of a directory: one line ``<relative posix path>\\0<file sha256>\\n``
    per file, sorted by path. Empty subdirectories do not count; the
    ``.snakemake_timestamp`` marker Snakemake adds afterwards is ignored."""
    root = Path(path)
    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            if name in DIR_HASH_IGNORE:
                continue
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix()
            entries.append((rel, sha256_file(full)))
    h = hashlib.sha256()
    for rel, digest in sorted(entries):
        h.update(rel.encode("utf-8") + b"\0" + digest.encode("ascii") + b"\n")
    return h.hexdigest()


def hash_path(path: str | os.PathLike) -> tuple[str, str]:
    """(type, sha256) of a file or directory; type is "file" or "directory".
    Raises FileNotFoundError naming the path when it does not exist."""
    p = Path(path)
    if p.is_dir():
        return "directory", sha256_dir(p)
    if p.exists():
        return "file", sha256_file(p)
    raise FileNotFoundError(f"{path}: no such file or directory")


def json_safe(obj: Any) -> Any:
    """A JSON-serialisable copy of `obj` that is the same from run to run:
    numbers, strings, lists and string-keyed dicts as they are; numpy values
    as Python values; paths as strings; NaN/inf as strings; sets sorted;
    functions by qualified name; any other object by its type name (never its
    repr, which may hold a memory address)."""
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else repr(obj)
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, Mapping) or (hasattr(obj, "items") and hasattr(obj, "keys")):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (set, frozenset)):
        return sorted((json_safe(v) for v in obj), key=canonical_json)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    try:
        return json_safe(_json_default(obj))  # numpy scalars and arrays
    except TypeError:
        pass
    if callable(obj):
        return f"<function {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}>"
    return f"<{type(obj).__module__}.{type(obj).__qualname__}>"


def canonical_json(obj: Any) -> str:
    """Compact JSON with sorted keys: the form every hash here is taken of."""
    return json.dumps(json_safe(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_json(obj: Any) -> str:
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------
# code, software, git


def package_dir() -> Path:
    """The directory of the `ila` package source (…/src/ila)."""
    return Path(__file__).resolve().parent


def package_files(pkg: Path | None = None) -> dict[str, str]:
    """{"ila/<relative path>.py": sha256} for every Python file of the
    package, sorted (``__pycache__`` excluded)."""
    pkg = pkg or package_dir()
    out = {}
    for p in sorted(pkg.rglob("*.py")):
        if "__pycache__" in p.parts:
            continue
        out[f"{pkg.name}/{p.relative_to(pkg).as_posix()}"] = sha256_file(p)
    return out


def package_hash(files: Mapping[str, str]) -> str:
    """sha256 over ``<path>\\0<sha256>\\n`` lines of `package_files`, sorted."""
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode("utf-8") + b"\0" + files[rel].encode("ascii") + b"\n")
    return h.hexdigest()


def loaded_modules(files: Mapping[str, str], pkg: Path | None = None) -> dict[str, str]:
    """The subset of `files` the current process imported (job plumbing
    modules excluded): the package code that could have shaped the output."""
    pkg = pkg or package_dir()
    out = {}
    for name, mod in list(sys.modules.items()):
        if name != pkg.name and not name.startswith(pkg.name + "."):
            continue
        if name in JOB_PLUMBING_MODULES:
            continue
        f = getattr(mod, "__file__", None)
        if not f:
            continue
        try:
            rel = f"{pkg.name}/{Path(f).resolve().relative_to(pkg).as_posix()}"
        except ValueError:  # a module of that name from somewhere else
            continue
        if rel in files:
            out[rel] = files[rel]
    return dict(sorted(out.items()))


def software_versions(names: Iterable[str] = SOFTWARE) -> dict[str, str | None]:
    """Installed versions (None when a distribution is absent) and Python's."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def project_root() -> Path | None:
    """The workflow's project directory: $ILA_PROJECT_ROOT, else the
    repository holding the package source (the directory two levels above
    src/ila that has a Snakefile or pyproject.toml), else None."""
    env = os.environ.get(PROJECT_ROOT_ENV)
    if env:
        return Path(env).resolve()
    root = package_dir().parents[1]
    if (root / "Snakefile").exists() or (root / "pyproject.toml").exists():
        return root
    return None


def git_state(path: str | os.PathLike | None) -> dict[str, Any] | None:
    """{"commit": HEAD, "dirty": bool} of the git repository at `path`; None
    when there is no path, no git, or no repository (never raises). Reads
    only: git's optional index refresh is off, so a job never takes the
    repository's index lock."""
    if path is None:
        return None
    git = ["git", "--no-optional-locks", "-C", str(path)]
    try:
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=30)
        if head.returncode != 0:
            return None
        status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True, timeout=60)
        dirty = bool(status.stdout.strip()) if status.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head.stdout.strip(), "dirty": dirty}


# --------------------------------------------------------------------------
# path references


def rel_path(path: str | os.PathLike, workdir: str | os.PathLike) -> str:
    """`path` relative to `workdir` (posix) when it lies inside it, else the
    absolute path."""
    absolute = Path(os.path.abspath(os.path.join(workdir, os.fspath(path))))
    try:
        return absolute.relative_to(Path(os.path.abspath(workdir))).as_posix()
    except ValueError:
        return absolute.as_posix()


def file_ref(path: str | os.PathLike, workdir: str | os.PathLike, project: Path | None) -> dict[str, str]:
    """{"path", "root"}: relative to the project ("project"), else to the
    working directory ("workdir"), else absolute ("absolute")."""
    absolute = Path(os.path.abspath(os.path.join(workdir, os.fspath(path))))
    for root_name, root in (("project", project), ("workdir", Path(os.path.abspath(workdir)))):
        if root is None:
            continue
        try:
            return {"path": absolute.relative_to(Path(root).resolve()).as_posix(), "root": root_name}
        except ValueError:
            try:  # the unresolved form (symlinked temp dirs)
                return {"path": absolute.relative_to(Path(os.path.abspath(root))).as_posix(), "root": root_name}
            except ValueError:
                continue
    return {"path": absolute.as_posix(), "root": "absolute"}


def resolve_ref(ref: Mapping[str, str], workdir: str | os.PathLike, project: Path | None) -> Path | None:
    """The current location of a `file_ref`; None when its root is unknown."""
    root = ref.get("root")
    if root == "absolute":
        return Path(ref["path"])
    if root == "workdir":
        return Path(workdir) / ref["path"]
    if root == "project":
        return Path(project) / ref["path"] if project is not None else None
    raise ProvenanceError(f"unknown path root {root!r} in {dict(ref)}")


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
    from .timing import is_timing_path

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


# --------------------------------------------------------------------------
# tables for `snakemake --report`


def _short_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(config):
        value = config[key]
        if isinstance(value, Mapping) and value:
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@dataclass
class ReportTables:
    """Provenance of a set of products as four tables (pandas DataFrames):
    products (one row per file), steps (one row per distinct step of their
    chains, sources first), software (one row per package and version set)
    and config (one row per dotted key and config)."""

    products: Any
    steps: Any
    software: Any
    config: Any


def report_tables(paths: Sequence[str | os.PathLike], workdir: str | os.PathLike | None = None) -> ReportTables:
    """Read the sidecars of `paths` (the figures and tables of a run) and lay
    their provenance out as tables. A product without a sidecar is a row
    with status "no provenance", never left out."""
    import pandas as pd

    workdir = os.path.abspath(workdir or os.getcwd())
    products, steps, step_index = [], [], {}
    software: dict[str, dict] = {}
    configs: dict[str, dict] = {}
    used_software: dict[str, int] = {}
    for path in paths:
        rel = rel_path(path, workdir)
        car_path = sidecar_path(os.path.join(workdir, rel))
        if not car_path.exists():
            products.append({"file": rel, "status": "no provenance", "sha256": None, "rule": None, "script": None,
                             "params": None, "steps": 0, "chain": None, "config_sha256": None, "git_commit": None,
                             "git_dirty": None})
            continue
        car = read_sidecar(car_path)
        chain = []
        for step in car["steps"]:
            ident = sha256_json(step)
            if ident not in step_index:
                step_index[ident] = len(steps) + 1
                used_software[step["software_sha256"]] = used_software.get(step["software_sha256"], 0) + 1
                steps.append({
                    "step": len(steps) + 1,
                    "rule": step["rule"],
                    "wildcards": ";".join(f"{k}={v}" for k, v in step["wildcards"].items()),
                    "params": _short_json(step["params"]),
                    "threads": step["threads"],
                    "script": step["script"]["path"] if step.get("script") else None,
                    "script_sha256": step["script"]["sha256"] if step.get("script") else None,
                    "package_sha256": step["package"]["sha256"],
                    "inputs": ";".join(i["path"] for i in step["inputs"]),
                    "outputs": ";".join(o["path"] for o in step["outputs"]),
                    "config_sha256": step["config"]["sha256"],
                    "software_sha256": step["software_sha256"],
                })
            chain.append(step_index[ident])
        software.update(car["software"])
        configs.update(car["configs"])
        job = car["steps"][-1]
        git = job.get("git") or {}
        products.append({
            "file": rel,
            "status": "recorded",
            "sha256": car["file"]["sha256"],
            "rule": job["rule"],
            "script": job["script"]["path"] if job.get("script") else None,
            "params": _short_json(job["params"]),
            "steps": len(chain),
            "chain": " ".join(str(i) for i in chain),
            "config_sha256": job["config"]["sha256"],
            "git_commit": git.get("commit"),
            "git_dirty": git.get("dirty"),
        })
    soft_rows = [
        {"software_sha256": sha, "package": name, "version": version, "steps": used_software.get(sha, 0)}
        for sha in sorted(software) if sha in used_software
        for name, version in software[sha].items()
    ]
    used_configs = {s["config_sha256"] for s in steps}
    config_rows = [
        {"config_sha256": sha, "key": key, "value": _short_json(value)}
        for sha in sorted(configs) if sha in used_configs
        for key, value in _flatten(configs[sha]).items()
    ]
    return ReportTables(
        products=pd.DataFrame(products, columns=["file", "status", "sha256", "rule", "script", "params", "steps", "chain",
                                                 "config_sha256", "git_commit", "git_dirty"]),
        steps=pd.DataFrame(steps, columns=["step", "rule", "wildcards", "params", "threads", "script", "script_sha256",
                                           "package_sha256", "inputs", "outputs", "config_sha256", "software_sha256"]),
        software=pd.DataFrame(soft_rows, columns=["software_sha256", "package", "version", "steps"]),
        config=pd.DataFrame(config_rows, columns=["config_sha256", "key", "value"]),
    )


def write_report_tables(
    paths: Sequence[str | os.PathLike],
    products: str | os.PathLike,
    steps: str | os.PathLike,
    software: str | os.PathLike,
    config: str | os.PathLike,
    workdir: str | os.PathLike | None = None,
) -> ReportTables:
    """`report_tables` written as four CSV files (for report() outputs)."""
    from .io import write_csv

    tables = report_tables(paths, workdir)
    write_csv(products, tables.products)
    write_csv(steps, tables.steps)
    write_csv(software, tables.software)
    write_csv(config, tables.config)
    return tables
