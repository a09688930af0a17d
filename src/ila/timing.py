"""Wall-clock timings kept apart from results.

A product (a run's metrics, a selection record, the pre-training metrics)
must have the same bytes on every run of the same config and seed, and so
must the provenance sidecar that hashes it; the seconds a step took never
do. Every timing is therefore split off before a product is written and
goes to a timing file of its own under ``results/<name>/timings/`` (the
same relative path as its product), which only the timing tables read.

A timing is any entry whose key ends in ``seconds`` or ``per_second``
(``seconds``, ``train_seconds``, ``examples_per_second`` ...), at any depth
of nested mappings.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import io

SUFFIXES = ("seconds", "per_second")
#: file names of the tables that hold timings (besides everything under timings/)
TIMING_TABLES = ("_timings.csv",)


def is_timing_path(path: str) -> bool:
    """Whether ``path`` (relative or absolute) is a timing file: under a
    ``timings`` folder of a results tree, or a timing table. Provenance
    records such a file without its sha256, so the sidecars of every
    product that read or sits beside it keep their bytes."""
    parts = str(path).replace("\\", "/").split("/")
    return "timings" in parts[:-1] or parts[-1].endswith(TIMING_TABLES)


def is_timing(key: str) -> bool:
    return isinstance(key, str) and key.endswith(SUFFIXES)


def split(record: Mapping[str, Any]) -> tuple[dict, dict]:
    """``(record without its timings, the timings)``; nested mappings are
    split alike, and a nested mapping without timings leaves no entry in
    the timings."""
    kept: dict = {}
    timings: dict = {}
    for key, value in record.items():
        if is_timing(key):
            timings[key] = value
        elif isinstance(value, Mapping):
            inner, inner_t = split(value)
            kept[key] = inner
            if inner_t:
                timings[key] = inner_t
        else:
            kept[key] = value
    return kept, timings


def write(product: str, record: Mapping[str, Any], timing: str | None) -> dict:
    """Write ``record`` without its timings to ``product`` and the timings
    to ``timing`` (when given; else they are dropped). Returns the record
    as written."""
    kept, timings = split(record)
    io.write_json(product, kept)
    if timing:
        io.write_json(timing, timings)
    return kept


def merge(record: Mapping[str, Any], timings: Mapping[str, Any]) -> dict:
    """The record with its timings put back (the inverse of :func:`split`)."""
    out = dict(record)
    for key, value in timings.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
