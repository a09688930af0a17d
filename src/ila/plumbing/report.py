"""Provenance tables for `snakemake --report`: per figure and table its rule,
script, params and chain of steps (read from its sidecar), the software
versions and the resolved config."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Sequence

from .hashing import machine_summary, rel_path, sha256_json, sidecar_path
from .provenance import read_sidecar

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
                             "git_dirty": None, "machine": None})
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
                    "machine": machine_summary(step.get("machine")),
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
            "machine": machine_summary(job.get("machine")),
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
                                                 "config_sha256", "git_commit", "git_dirty", "machine"]),
        steps=pd.DataFrame(steps, columns=["step", "rule", "wildcards", "params", "threads", "script", "script_sha256",
                                           "package_sha256", "inputs", "outputs", "config_sha256", "software_sha256",
                                           "machine"]),
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
    from ..io import write_csv

    tables = report_tables(paths, workdir)
    write_csv(products, tables.products)
    write_csv(steps, tables.steps)
    write_csv(software, tables.software)
    write_csv(config, tables.config)
    return tables
