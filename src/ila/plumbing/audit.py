"""`ila-audit PATH`: where a result came from, and whether it is still current.

Reads the provenance sidecar of PATH (see ila.plumbing.provenance), prints the chain
of steps from the source files to PATH (rule, key params, inputs, script),
then checks, in order:

(a) file: PATH's sha256 equals the recorded one, else TAMPERED;
(b) inputs: every input recorded along the chain still has its recorded
    sha256 on disk, and every step read what the step before it wrote,
    else STALE naming the file;
(c) code: every step's script and the package modules it imported still
    have their recorded sha256, else STALE (code) naming the file. A change
    elsewhere in the package source (modules no step imported) is a note,
    or STALE with `strict_code`;
(d) config: Snakemake itself is asked what it would rerun to make PATH
    with the recorded config files, or the ones given (its detailed summary
    and its list of code changes, see ila.plumbing.rerun): the files it
    would make again, each with its rule and reason (params, code, input
    set, updated input, missing, upstream), are the ground truth for
    "current"; files Snakemake holds no metadata for are a note. The
    recorded resolved config is also compared with the resolved config of
    the current config files and the differing keys are named. Without
    Snakemake (`snakemake=False`), any differing key makes the file STALE
    (config).

Exit status: 0 current, 1 stale, 2 tampered (or the file is gone), 3 no or
unreadable provenance, 4 a check could not be run (e.g. Snakemake failed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import hashing
from . import provenance as prov
from .configs import config_diff, resolve_config
from .rerun import UNTRACKED, ask_snakemake

EXIT = {"current": 0, "stale": 1, "tampered": 2, "no-provenance": 3, "error": 4}

# Params shown per step in the lineage; longer values are cut.
MAX_PARAM_CHARS = 60
MAX_PATHS_SHOWN = 4


@dataclass
class Finding:
    """One check's outcome. status: ok, note, stale, tampered, error."""

    check: str
    status: str
    message: str
    path: str | None = None
    rules: list[str] = field(default_factory=list)


@dataclass
class AuditResult:
    """The audit of one file. `status` is current, stale, tampered,
    no-provenance or error; `exit_code` follows EXIT."""

    path: str
    target: str | None
    workdir: str
    status: str
    exit_code: int
    findings: list[Finding]
    steps: list[dict[str, Any]] = field(default_factory=list)
    config_diff: list[dict[str, Any]] = field(default_factory=list)
    snakemake: dict[str, Any] | None = None
    sidecar: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status in ("stale", "tampered", "error")]

    @property
    def reasons(self) -> list[str]:
        """One line per problem, the way they are printed."""
        return [f"{f.status.upper()} ({f.check}): {f.message}" for f in self.problems]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("sidecar")
        out["reasons"] = self.reasons
        return out



# --------------------------------------------------------------------------
# the audit


def _short(value: Any, limit: int = MAX_PARAM_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _paths(records: Iterable[Mapping[str, Any]], limit: int = MAX_PATHS_SHOWN) -> str:
    paths = [r["path"] for r in records]
    if not paths:
        return "-"
    shown = ", ".join(paths[:limit])
    return shown + (f" (+{len(paths) - limit} more)" if len(paths) > limit else "")


def _step_name(step: Mapping[str, Any]) -> str:
    wc = step.get("wildcards") or {}
    return step["rule"] + (" [" + ", ".join(f"{k}={v}" for k, v in wc.items()) + "]" if wc else "")


def infer_workdir(path: Path, recorded: str) -> Path | None:
    """The working directory the sidecar's paths are relative to: `path`
    with its recorded relative path cut off its end; None if they disagree."""
    rec = Path(recorded)
    if rec.is_absolute():
        return Path(os.getcwd())
    parts = path.parts
    if len(parts) > len(rec.parts) and Path(*parts[-len(rec.parts):]) == rec:
        return Path(*parts[: -len(rec.parts)])
    return None


class _Hasher:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.cache: dict[str, str | None] = {}

    def __call__(self, path: str) -> str | None:
        full = str(self.workdir / path)
        if full not in self.cache:
            try:
                self.cache[full] = hashing.hash_path(full)[1]
            except FileNotFoundError:
                self.cache[full] = None
        return self.cache[full]


def _check_inputs(steps: list[dict], hasher: _Hasher) -> list[Finding]:
    out: list[Finding] = []
    changed: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    checked = set()
    producer: dict[str, tuple[str, str]] = {}
    for step in steps:
        for inp in step["inputs"]:
            if inp.get("type") == "timing":  # timings are not hashed (ila.timing)
                continue
            now = hasher(inp["path"])
            if now is None:
                missing.setdefault(inp["path"], []).append(step["rule"])
            elif now != inp["sha256"]:
                changed.setdefault(inp["path"], []).append(step["rule"])
            checked.add(inp["path"])
            made = producer.get(inp["path"])
            if made is not None and made[1] != inp["sha256"]:
                out.append(Finding(
                    "inputs", "stale",
                    f"{inp['path']} was changed after rule {made[0]} wrote it and before rule {step['rule']} read it",
                    inp["path"], [made[0], step["rule"]],
                ))
        for o in step["outputs"]:
            producer[o["path"]] = (step["rule"], o["sha256"])
    for path, rules in changed.items():
        out.append(Finding("inputs", "stale", f"input changed since it was used: {path} (read by {', '.join(sorted(set(rules)))})", path, sorted(set(rules))))
    for path, rules in missing.items():
        out.append(Finding("inputs", "stale", f"input missing: {path} (read by {', '.join(sorted(set(rules)))})", path, sorted(set(rules))))
    if not changed and not missing:
        out.append(Finding("inputs", "ok", f"{len(checked)} input file(s) along the chain unchanged"))
    return out


def _check_code(
    steps: list[dict], packages: Mapping[str, Mapping[str, str]], workdir: Path, project: Path | None, strict: bool
) -> list[Finding]:
    out: list[Finding] = []
    scripts_bad: dict[str, list[str]] = {}
    scripts_ok = set()
    script_notes = set()
    for step in steps:
        ref = step.get("script")
        if not ref:
            continue
        where = hashing.resolve_ref(ref, workdir, project)
        if where is None:
            script_notes.add(ref["path"])
            continue
        now = prov.sha256_file(where) if where.is_file() else None
        if now != ref["sha256"]:
            scripts_bad.setdefault(ref["path"] + (" (missing)" if now is None else ""), []).append(step["rule"])
        else:
            scripts_ok.add(ref["path"])
    for path, rules in sorted(scripts_bad.items()):
        out.append(Finding("code", "stale", f"code changed: script {path} differs from the one rule {', '.join(sorted(set(rules)))} ran", path, sorted(set(rules))))
    for path in sorted(script_notes):
        out.append(Finding("code", "note", f"script {path} not checked: project root unknown (pass --snakefile)", path))

    current_files = hashing.package_files()
    current_hash = hashing.package_hash(current_files)
    modules_bad: dict[str, list[str]] = {}
    other_change = []
    n_modules = set()
    for step in steps:
        pkg = step["package"]
        table = packages.get(pkg["sha256"], {})
        for mod in pkg["modules"]:
            n_modules.add(mod)
            if current_files.get(mod) != table.get(mod):
                modules_bad.setdefault(mod + ("" if mod in current_files else " (removed)"), []).append(step["rule"])
        if pkg["sha256"] != current_hash:
            other_change.append(step["rule"])
    for mod, rules in sorted(modules_bad.items()):
        out.append(Finding("code", "stale", f"code changed: package module {mod} differs from the one rule(s) {', '.join(sorted(set(rules)))} imported", mod, sorted(set(rules))))
    if other_change and not modules_bad:
        rules = sorted(set(other_change))
        shown = ", ".join(rules[:5]) + (f" and {len(rules) - 5} more" if len(rules) > 5 else "")
        msg = (
            f"the package source has changed since {len(other_change)} of {len(steps)} step(s) ran "
            f"(rules {shown}), in modules none of the steps imported"
        )
        out.append(Finding("code", "stale" if strict else "note", ("code changed: " if strict else "") + msg, None, rules))
    if not scripts_bad and not modules_bad:
        out.append(Finding("code", "ok", f"{len(scripts_ok)} script(s) and {len(n_modules)} package module(s) unchanged"))
    return out


def _snakemake_findings(answer: Mapping[str, Any], target: str, diff: list[dict], findings: list[Finding]) -> list[Finding]:
    """What Snakemake's answer (ila.plumbing.rerun.ask_snakemake) says about
    `target`; notes on the config in `findings` are amended."""
    if answer["error"]:
        return [Finding("snakemake", "error", f"Snakemake could not be asked: {answer['error']}")]
    out = []
    untracked = [f for f in answer["files"] if f["reason"] == UNTRACKED]
    if untracked:
        rules = sorted({f["rule"] for f in untracked})
        out.append(Finding(
            "snakemake", "note",
            f"Snakemake holds no metadata for {len(untracked)} file(s) of rule(s) {', '.join(rules)} "
            f"({_paths(untracked)}): its params, code and input-set triggers cannot judge them",
            None, rules,
        ))
    if answer["up_to_date"]:
        for f in findings:
            if f.check == "config" and f.status == "note" and diff:
                f.message += " (these keys do not affect this file: Snakemake plans no job)"
        return [Finding("snakemake", "ok", f"Snakemake: nothing to be done for {target}")] + out
    rerun = [f for f in reversed(answer["files"]) if f["rerun"]]  # sources first
    groups: dict[tuple[str, str], int] = {}
    for f in rerun:
        groups[f["rule"], f["reason"]] = groups.get((f["rule"], f["reason"]), 0) + 1
    planned = "; ".join(f"{rule}: {reason} ({n} file{'s' if n > 1 else ''})" for (rule, reason), n in groups.items())
    msg = f"Snakemake would rerun {len(rerun)} file(s) to make {target}: {planned}"
    if diff:
        msg += "; config keys changed: " + ", ".join(d["key"] for d in diff)
    return [Finding("snakemake", "stale", msg, target, sorted({f["rule"] for f in rerun}))] + out


def audit(
    path: str | os.PathLike,
    workdir: str | os.PathLike | None = None,
    snakemake: bool = True,
    configfiles: Sequence[str | os.PathLike] | None = None,
    snakefile: str | os.PathLike | None = None,
    strict_code: bool = False,
    timeout: float = 600,
) -> AuditResult:
    """Audit one output of the workflow (see the module docstring).
    `configfiles` replaces the recorded config files (the "current" config);
    `snakefile` defaults to the project's Snakefile, whose directory is also
    the root of the recorded script and config paths."""
    given = str(path)
    full = Path(os.path.abspath(path))
    car = hashing.sidecar_path(full)
    wd = Path(os.path.abspath(workdir)) if workdir else None

    def result(status: str, findings: list[Finding], **kw) -> AuditResult:
        return AuditResult(given, kw.pop("target", None), str(kw.pop("wd", wd or os.getcwd())), status, EXIT[status], findings, **kw)

    if not car.exists():
        return result("no-provenance", [Finding("provenance", "error", f"no provenance: {car} does not exist", str(car))])
    try:
        sidecar = prov.read_sidecar(car)
    except (hashing.ProvenanceError, OSError) as exc:
        return result("no-provenance", [Finding("provenance", "error", f"no provenance: {exc}", str(car))])
    target = sidecar["file"]["path"]
    if wd is None:
        wd = infer_workdir(full, target)
        if wd is None:
            return result("no-provenance", [Finding(
                "provenance", "error",
                f"the sidecar records the path {target}, which is not a suffix of {full}: pass --workdir", str(car),
            )], sidecar=sidecar)
    elif Path(os.path.abspath(wd / target)) != full:
        return result("no-provenance", [Finding(
            "provenance", "error", f"the sidecar records {target}, but {full} is not {wd / target}: check --workdir", str(car),
        )], sidecar=sidecar, wd=wd)

    steps = sidecar["steps"]
    job = steps[-1]
    findings: list[Finding] = []
    hasher = _Hasher(wd)

    # (a) the file itself
    now = hasher(target)
    recorded = sidecar["file"]["sha256"]
    if recorded is None and sidecar["file"].get("type") == "timing":
        findings.append(Finding("file", "ok", f"{target} is a timing file: its bytes change every run and are not recorded", target))
    elif now is None:
        findings.append(Finding("file", "tampered", f"TAMPERED: {target} is gone (rule {job['rule']} wrote it)", target, [job["rule"]]))
    elif now != recorded:
        findings.append(Finding("file", "tampered", f"TAMPERED: {target} has sha256 {now[:12]}..., rule {job['rule']} wrote {recorded[:12]}...", target, [job["rule"]]))
    else:
        findings.append(Finding("file", "ok", f"{target} has the recorded sha256 {recorded[:12]}...", target))

    # (b) inputs, (c) code
    findings += _check_inputs(steps, hasher)
    project = Path(os.path.abspath(snakefile)).parent if snakefile else hashing.project_root()
    findings += _check_code(steps, sidecar["packages"], wd, project, strict_code)

    # (d) config and Snakemake
    if configfiles is not None:
        files = [os.path.abspath(f) for f in configfiles]
    else:
        recorded_files = job["config"].get("files")
        files = None
        if recorded_files is not None:
            resolved = [hashing.resolve_ref(ref, wd, project) for ref in recorded_files]
            files = [str(p) for p in resolved] if all(p is not None for p in resolved) else None
    diff: list[dict[str, Any]] = []
    if files is None:
        findings.append(Finding("config", "note", "config not compared: the config files were not recorded (pass --configfile)"))
    elif project is None:
        findings.append(Finding("config", "note", "config not compared: project root unknown (pass --snakefile)"))
    else:
        gone = [f for f in files if not os.path.isfile(f)]
        if gone:
            findings.append(Finding("config", "error", f"config file(s) not found: {', '.join(gone)}"))
            files = None
        else:
            current = resolve_config(project, files)
            rec_cfg = sidecar["configs"].get(job["config"]["sha256"], {})
            diff = config_diff(rec_cfg, current)
    if diff:
        keys = ", ".join(f"{d['key']} ({_short(d['recorded'], 30)} -> {_short(d['current'], 30)})" for d in diff)
        status = "note" if snakemake else "stale"
        findings.append(Finding("config", status, f"config differs from the recorded one: {keys}", None, [d["key"] for d in diff]))
    elif files is not None and project is not None:
        findings.append(Finding("config", "ok", "the current config equals the recorded one"))

    answer = None
    if snakemake:
        sf = Path(snakefile) if snakefile else (project / "Snakefile" if project else None)
        if sf is None or not sf.exists():
            findings.append(Finding("snakemake", "error", f"no Snakefile to ask ({sf}); pass --snakefile or --no-snakemake"))
        elif files is None:
            findings.append(Finding("snakemake", "error", "cannot ask Snakemake: the config files are unknown (pass --configfile)"))
        else:
            answer = ask_snakemake(target, wd, sf, files or [], timeout=timeout)
            findings += _snakemake_findings(answer, target, diff, findings)

    statuses = {f.status for f in findings}
    if "tampered" in statuses:
        status = "tampered"
    elif "stale" in statuses:
        status = "stale"
    elif "error" in statuses:
        status = "error"
    else:
        status = "current"
    return result(status, findings, target=target, wd=wd, steps=steps, config_diff=diff, snakemake=answer, sidecar=sidecar)


# --------------------------------------------------------------------------
# printing


def format_lineage(res: AuditResult) -> str:
    """The chain of steps, upstream first, as readable text."""
    sc = res.sidecar or {}
    steps = res.steps
    lines = []
    if not steps:
        return ""
    job = steps[-1]
    lines.append(f"{res.target}  (sha256 {sc['file']['sha256'][:16]}..., rule {job['rule']})")
    files = job["config"].get("files")
    cfg_files = ", ".join(f["path"] for f in files) if files else ("(none)" if files == [] else "(not recorded)")
    lines.append(f"config: sha256 {job['config']['sha256'][:16]}..., files: {cfg_files}")
    git = job.get("git")
    lines.append("git: " + (f"{git['commit'][:12]}{' (dirty tree)' if git.get('dirty') else ''}" if git else "(none)"))
    soft = sc.get("software", {}).get(job["software_sha256"], {})
    lines.append("software: " + ", ".join(f"{k} {v}" for k, v in soft.items() if v))
    machines = {hashing.machine_summary(s.get("machine")) for s in steps} - {None}
    lines.append("machine: " + (hashing.machine_summary(job.get("machine")) or "(not recorded)")
                 + (f"; the chain ran on {len(machines)} machines" if len(machines) > 1 else ""))
    lines.append("")
    lines.append(f"lineage: {len(steps)} step(s), sources first")
    for i, step in enumerate(steps, 1):
        lines.append(f"{i:3d}. {_step_name(step)}")
        params = step.get("params") or {}
        if params:
            lines.append("       params:  " + ", ".join(f"{k}={_short(v)}" for k, v in params.items()))
        lines.append("       inputs:  " + _paths(step["inputs"]))
        lines.append("       outputs: " + _paths(step["outputs"]))
        if step.get("script"):
            lines.append(f"       script:  {step['script']['path']}")
    return "\n".join(lines)


def format_result(res: AuditResult) -> str:
    lines = []
    lineage = format_lineage(res)
    if lineage:
        lines += [lineage, ""]
    lines.append("checks:")
    for f in res.findings:
        lines.append(f"  [{f.status.upper():8s}] {f.check}: {f.message}")
    lines.append("")
    lines.append(f"verdict: {res.status.upper()} (exit {res.exit_code})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point `ila-audit`."""
    ap = argparse.ArgumentParser(
        prog="ila-audit",
        description="Show where a workflow output came from (its provenance sidecar) and check that it is current. "
        "Exit 0 current, 1 stale, 2 tampered, 3 no provenance, 4 a check could not run.",
    )
    ap.add_argument("path", help="an output of the workflow (its <path>.provenance.json must exist)")
    ap.add_argument("--workdir", help="the working directory the workflow ran in (default: inferred from PATH)")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--no-snakemake", action="store_true", help="do not ask Snakemake (its detailed summary) whether PATH would be rebuilt")
    ap.add_argument("--configfile", nargs="+", metavar="FILE", help="config files that define the current config (default: the recorded ones)")
    ap.add_argument("--snakefile", help="the workflow's Snakefile (default: the project's); its directory is the project root")
    ap.add_argument("--strict-code", action="store_true", help="any change of the package source makes PATH stale, not only modules the chain imported")
    args = ap.parse_args(argv)
    res = audit(
        args.path,
        workdir=args.workdir,
        snakemake=not args.no_snakemake,
        configfiles=args.configfile,
        snakefile=args.snakefile,
        strict_code=args.strict_code,
    )
    if args.json:
        print(json.dumps(res.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        print(format_result(res))
    return res.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
