"""Hashes and references of the files, code and software a step used: sha256
of files and folders, canonical JSON, the package's source files and the
modules a job loaded, software versions, git state, paths relative to the
working directory or the project (ila.plumbing.provenance builds sidecars
from them)."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterable

from ..io import _json_default, sha256_file


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
JOB_PLUMBING_PACKAGE = "ila.plumbing"



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
    return Path(__file__).resolve().parents[1]


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
        if name == JOB_PLUMBING_PACKAGE or name.startswith(JOB_PLUMBING_PACKAGE + "."):
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


# The instruction-set flags that choose torch's CPU kernels (and so the last
# bits of every sum a model computes): x86's SIMD levels, Arm's vector units.
ISA_FLAGS = (
    "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni",
    "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8", "asimd", "asimdhp", "sve", "sve2", "bf16", "i8mm",
)


def cpu_from_cpuinfo(text: str) -> tuple[str | None, list[str]]:
    """(model name, the :data:`ISA_FLAGS` it has, in that order) from the
    text of Linux's /proc/cpuinfo (x86's "model name" and "flags", Arm's
    "Features"; the first processor's)."""
    model, flags = None, set()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in ("model name", "hardware", "cpu model") and model is None:
            model = value.strip() or None
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    return model, [f for f in ISA_FLAGS if f in flags]


@functools.lru_cache(maxsize=1)
def _machine() -> tuple[tuple[str, Any], ...]:
    model, isa = None, []
    try:
        model, isa = cpu_from_cpuinfo(Path("/proc/cpuinfo").read_text(errors="replace"))
    except OSError:
        pass
    return (("system", platform.system()), ("arch", platform.machine()), ("cpu", model or platform.processor() or None),
            ("isa", tuple(isa)), ("cpus", os.cpu_count()))


def machine_record() -> dict[str, Any]:
    """The machine a step ran on, as far as it can change a number: system,
    architecture, CPU model, the instruction-set flags torch's kernels
    dispatch on, and the logical CPU count. No host name. Read once a process
    (the same bytes for every job on one machine)."""
    return {k: list(v) if k == "isa" else v for k, v in _machine()}


def machine_summary(machine: Mapping[str, Any] | None) -> str | None:
    """One line for tables and the audit: "AMD EPYC (x86_64, 2 CPUs; avx avx2 fma)"."""
    if not machine:
        return None
    inner = [str(machine["arch"])] if machine.get("arch") else []
    if machine.get("cpus"):
        inner.append(f"{machine['cpus']} CPUs")
    isa = " ".join(machine.get("isa") or [])
    return f"{machine.get('cpu') or 'unknown CPU'} ({', '.join(inner)}{'; ' + isa if isa else ''})"


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
