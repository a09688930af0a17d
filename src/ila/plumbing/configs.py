"""The resolved config of a run as Snakemake builds it (config files merged
in order), the keys that were renamed, and the difference between two
resolved configs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from .hashing import json_safe


# --------------------------------------------------------------------------
# config


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """A YAML or JSON config file as a dict (an empty file is {})."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file must hold a mapping, found {type(data).__name__}")
    return data


def merge_config(base: dict[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `update` into `base` (as snakemake.utils.update_config)."""
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value
    return base


#: config keys under their former names: {old dotted key: the key now}
RENAMED_KEYS = {
    "scaling.seeds": "scaling.replicates",
    "selection.export_seed": "selection.export_replicate",
}


def check_renamed_keys(config: Mapping[str, Any]) -> None:
    """Raise ValueError for a key the config still names by its former name,
    saying what it is called now (the schema would only call it unknown)."""
    for old, new in RENAMED_KEYS.items():
        *sections, key = old.split(".")
        node: Any = config
        for s in sections:
            node = node.get(s) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and key in node:
            raise ValueError(f"{old} is now called {new}: rename the key in your config")


def resolve_config(project: Path, configfiles: Sequence[str | os.PathLike]) -> dict[str, Any]:
    """The config the Snakefile would build: `<project>/config.yaml`, then
    each config file merged over it in order, then the schema's defaults
    (`<project>/schemas/config.schema.yaml`, as `validate` in the Snakefile)."""
    cfg: dict[str, Any] = {}
    base = Path(project) / "config.yaml"
    if base.exists():
        cfg = load_config_file(base)
    for f in configfiles:
        merge_config(cfg, load_config_file(f))
    check_renamed_keys(cfg)
    schema = Path(project) / "schemas" / "config.schema.yaml"
    if schema.exists():
        from snakemake.utils import validate

        validate(cfg, str(schema))
    return json_safe(cfg)


_ABSENT = "<absent>"


def config_diff(recorded: Mapping[str, Any], current: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """[{"key": dotted key, "recorded", "current"}] for every leaf that
    differs (a key missing on one side shows as "<absent>"), sorted by key.
    Lists are compared whole."""
    out = []
    for key in sorted(set(recorded) | set(current)):
        name = f"{prefix}{key}"
        a, b = recorded.get(key, _ABSENT), current.get(key, _ABSENT)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out.extend(config_diff(a, b, name + "."))
        elif a != b:
            out.append({"key": name, "recorded": a, "current": b})
    return out
