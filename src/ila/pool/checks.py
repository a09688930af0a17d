"""Checks of the pool settings that the JSON Schema cannot express, run
before any job (the Snakefile); each error names the config key."""

from __future__ import annotations

import os
import re
from typing import Mapping

# Builders of datasets.load_dataset that read local files (no hub).
LOCAL_BUILDERS = frozenset({"json", "parquet", "csv", "text", "arrow", "pandas"})
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def _hub_names(hf: Mapping) -> list[str]:
    specs = hf.get("datasets") or [hf]
    return [s["name"] for s in specs if s.get("name") and s["name"] not in LOCAL_BUILDERS and not os.path.exists(s["name"])]


def check_pool_config(config: Mapping) -> None:
    """Raise ValueError naming the key for a pool setting that cannot work."""
    name = config.get("name", "")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"name: {name!r} must be letters, digits, '_', '.' or '-' (no spaces or newlines)")
    pool = config["pool"]
    path = pool.get("path")
    if path is not None and ("{" in path or "}" in path):
        raise ValueError(f"pool.path: {path!r} contains '{{' or '}}', which the workflow reads as a wildcard; rename or link the folder")
    specs = [("pool.fields", pool.get("fields") or {})]
    specs += [(f"pool.hf.datasets[{i}].fields", d.get("fields") or {}) for i, d in enumerate(pool["hf"].get("datasets") or [])]
    for where, fields in specs:
        for key, value in fields.items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{where}.{key}: {value!r} is empty; name the source field or leave the key out")
    source = pool["source"]
    if source == "jsonl" and not path:
        raise ValueError("pool.path: not set, but pool.source is jsonl")
    if source == "hf":
        hf = pool["hf"]
        if not hf.get("datasets") and not (hf.get("name") or "").strip():
            raise ValueError("pool.hf.name: not set, but pool.source is hf (or list pool.hf.datasets)")
        for i, spec in enumerate(hf.get("datasets") or []):
            if not (spec.get("name") or "").strip():
                raise ValueError(f"pool.hf.datasets[{i}].name: {spec.get('name')!r} is empty; name the dataset")
        hub = _hub_names(hf)
        if hub and config.get("offline", True):
            raise ValueError(
                f"offline: true, but pool.source hf loads {hub} from the Hugging Face hub; "
                "set offline: false (or read local files with pool.hf.name json/parquet and data_files)"
            )


__all__ = ["check_pool_config"]
