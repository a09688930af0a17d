"""Read a pool from Hugging Face datasets with ``datasets.load_dataset``
(which also reads local ``json``/``parquet``/``csv`` files with
``data_files=``): one split, or several datasets pooled into one. Rows are
validated like the rows of a file ("line" = row index + 1)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ila.pool.ledger import Collector, IngestError, IngestResult
from ila.pool.rows import explicit_fields, resolve_fields, short


def hf_source_name(name: str, split: str, config_name: str | None = None) -> str:
    """The default ``source`` of rows from a Hugging Face dataset."""
    parts = [name] + ([config_name] if config_name else []) + [split]
    return ":".join(parts)


def read_hf(
    name: str,
    split: str = "train",
    fields: Mapping[str, str] | None = None,
    max_chars: int | None = 20000,
    config_name: str | None = None,
    data_files: Any = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    format: str = "auto",
) -> IngestResult:
    """Load one split of a Hugging Face dataset with ``datasets.load_dataset``
    and validate its rows like JSON Lines rows ("line" = row index + 1).
    ``source`` defaults to ``name[:config]:split``. Local files work with
    ``name="json"`` / ``"parquet"`` and ``data_files=``."""
    fmap = resolve_fields(fields)
    label = hf_source_name(name, split, config_name)
    if data_files is not None:
        for f in [data_files] if isinstance(data_files, (str, os.PathLike)) else _flatten(data_files):
            if not any(ch in str(f) for ch in "*?[") and "://" not in str(f) and not Path(f).exists():
                raise IngestError(f"{label}: data file {f} does not exist")
    ds = _load_hf(name, split, config_name, data_files, revision, cache_dir, label)
    col = Collector(fmap, max_chars, format, explicit=explicit_fields(fields))
    col.start_file(label)
    for index, record in enumerate(_iter_rows(ds)):
        col.add_record(record, label, index + 1, label)
    extra = {
        "input_kind": "hf",
        "hf_name": name,
        "hf_split": split,
        "hf_config_name": config_name,
        "hf_revision": revision,
        "hf_data_files": _flatten(data_files) if data_files is not None else None,
    }
    return col.finish(label, extra)


def _load_hf(name, split, config_name, data_files, revision, cache_dir, label):
    """``datasets.load_dataset`` with every failure turned into an
    IngestError that names the dataset."""
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover
        raise IngestError(f"{label}: the 'datasets' package is required to read Hugging Face datasets") from exc
    kwargs: dict[str, Any] = {"split": split}
    if data_files is not None:
        kwargs["data_files"] = data_files
    if revision is not None:
        kwargs["revision"] = revision
    if cache_dir is not None:
        kwargs["cache_dir"] = str(cache_dir)
    try:
        ds = datasets.load_dataset(name, config_name, **kwargs)
    except Exception as exc:  # the loader raises many kinds; name the dataset and the root cause
        why = short(f"{type(exc).__name__}: {exc}")
        cause = exc.__cause__ or exc.__context__
        while cause is not None and cause.__cause__ is not None:
            cause = cause.__cause__
        if cause is not None:
            why += "; caused by " + short(f"{type(cause).__name__}: {cause}")
        raise IngestError(f"{label}: cannot load dataset ({why})") from exc
    return ds


def _flatten(data_files: Any) -> list[str]:
    if isinstance(data_files, (str, os.PathLike)):
        return [str(data_files)]
    if isinstance(data_files, Mapping):
        return [str(f) for v in data_files.values() for f in _flatten(v)]
    return [str(f) for f in data_files]


def _iter_rows(ds: Any, batch_size: int = 4096) -> Iterator[dict]:
    """Rows of a ``datasets.Dataset`` as plain dicts, read in batches."""
    n = len(ds)
    for start in range(0, n, batch_size):
        batch = ds[start : start + batch_size]
        keys = list(batch)
        for i in range(len(batch[keys[0]]) if keys else 0):
            yield {k: batch[k][i] for k in keys}


def read_hf_many(
    datasets_specs: Sequence[Mapping[str, Any]],
    fields: Mapping[str, str] | None = None,
    max_chars: int | None = 20000,
    cache_dir: str | os.PathLike | None = None,
    format: str = "auto",
) -> IngestResult:
    """One pool from several Hugging Face datasets (e.g. a general, an
    evolved and a math pool). Each spec has ``name`` and optional
    ``split``, ``config_name``, ``data_files``, ``revision``, ``fields``
    (overrides the shared mapping) and ``domain`` (given to rows whose data
    has none). Duplicates are resolved across all datasets together and the
    ledger counts every dataset separately."""
    if not datasets_specs:
        raise ValueError("read_hf_many needs at least one dataset")
    col = Collector(resolve_fields(fields), max_chars, format)
    labels = []
    for spec in datasets_specs:
        unknown = set(spec) - {"name", "split", "config_name", "data_files", "revision", "fields", "domain"}
        if unknown or not spec.get("name"):
            raise ValueError(f"dataset spec {dict(spec)!r}: needs a name; unknown keys {sorted(unknown)}")
        split = spec.get("split") or "train"
        label = hf_source_name(spec["name"], split, spec.get("config_name"))
        if label in col.files:
            raise ValueError(f"dataset {label} is listed twice")
        ds = _load_hf(spec["name"], split, spec.get("config_name"), spec.get("data_files"), spec.get("revision"), cache_dir, label)
        col.fmap = resolve_fields({**(fields or {}), **(spec.get("fields") or {})})
        col.explicit = explicit_fields({**(fields or {}), **(spec.get("fields") or {})})
        col.start_file(label)
        first = len(col.rows)
        for index, record in enumerate(_iter_rows(ds)):
            col.add_record(record, label, index + 1, label)
        if spec.get("domain"):
            for row in col.rows[first:]:
                if not row.domain:
                    row.domain = str(spec["domain"])
        labels.append(label)
    return col.finish(", ".join(labels), {"input_kind": "hf", "hf_datasets": [dict(s) for s in datasets_specs]})


__all__ = ["hf_source_name", "read_hf", "read_hf_many"]
