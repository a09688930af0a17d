"""Ingest an instruction pool into the canonical table, with a ledger.

Sources, read through one row-validation path:

- local files (``pool.path``): one file, or a folder's ``*.jsonl``,
  ``*.jsonl.gz``, ``*.json`` (array) and ``*.parquet`` files in name order
  (see :mod:`ila.pool.files`; other entries are listed in the ledger as
  ``skipped_files`` with their reason);
- a Hugging Face dataset, through ``datasets.load_dataset`` (which also reads
  local ``json``/``parquet``/``csv`` files with ``data_files=``).

Each row is read as Alpaca fields, ``messages``, ShareGPT ``conversations``
or prompt/completion (``format``, default ``auto``: see
:mod:`ila.pool.formats`). Every row read ends up either in the pool or in the
rejects table with its file, line and reason; the ledger counts both, and
``read == kept + rejected_total`` is checked before anything is returned.
Nothing is dropped silently.

Canonical pool (one row per example, sorted by id):

``id``           content hash of instruction/input/output (:func:`ila.io.stable_id`);
``instruction``, ``input``, ``output``
                 the text every stage reads (for multi-turn rows: the
                 rendered context, "" and the last assistant turn; see
                 :mod:`ila.pool.formats`);
``source``, ``domain``, ``labels``
                 as before (source: the row's, else the file stem or dataset);
``messages``     JSON string: the whole conversation, a list of {role,
                 content} (system turn kept);
``meta``         JSON string: an object with every key of the input row that
                 does not hold the conversation text, in input order (the
                 user's own ``id``, ``domain``, ``labels``, any extra column;
                 not the null text fields of other formats that a
                 mixed-format Parquet file or dataset gives every row).

Text is kept exactly as read (no stripping or normalisation), so the id of an
example is the same wherever it comes from.

The rules a row must pass and the reasons of a reject are in
:mod:`ila.pool.rows`; how duplicates are resolved and what the ledger counts,
in :mod:`ila.pool.ledger`; the Hugging Face path, in :mod:`ila.pool.hf`; the
files written, in :mod:`ila.pool.tables`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from ila.pool.files import PoolFileError, list_pool_files, read_records
from ila.pool.formats import RowError
from ila.pool.hf import hf_source_name, read_hf, read_hf_many
from ila.pool.ledger import POOL_COLUMNS, REJECT_COLUMNS, Collector, IngestError, IngestResult
from ila.pool.rows import CANONICAL_FIELDS, REASONS, Reject, explicit_fields, meta_json, resolve_fields
from ila.pool.tables import pool_arrow_table, write_outputs


def list_jsonl_files(path: str | os.PathLike) -> tuple[list[Path], list[str]]:
    """The files read for ``path`` and the skipped entries (paths; folders
    end with '/'), as :func:`ila.pool.files.list_pool_files` lists them."""
    try:
        files, skipped = list_pool_files(path)
    except PoolFileError as exc:
        raise IngestError(str(exc)) from None
    return files, [s for s, _ in skipped]


def _read_file(path: Path, col: Collector) -> None:
    file = str(path)
    stem = path.name
    for suffix in (".jsonl.gz", ".jsonl", ".json", ".parquet"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        stem = path.stem
    col.start_file(file)
    try:
        for line, obj in read_records(path):
            if obj is None:
                col.blank(file)
            elif isinstance(obj, RowError):
                col.add_reject(Reject(file, line, obj.reason, obj.detail))
            else:
                col.add_record(obj, file, line, stem)
    except PoolFileError as exc:
        raise IngestError(str(exc)) from None


def read_jsonl(
    path: str | os.PathLike,
    fields: Mapping[str, str] | None = None,
    max_chars: int | None = 20000,
    format: str = "auto",
) -> IngestResult:
    """Read a pool file, or every pool file of a folder (in name order, not
    recursive; see :mod:`ila.pool.files`), into the canonical pool.
    ``source`` is the file stem unless a row carries a non-empty string
    ``source`` field."""
    fmap = resolve_fields(fields)
    try:
        files, skipped = list_pool_files(path)
    except PoolFileError as exc:
        raise IngestError(str(exc)) from None
    col = Collector(fmap, max_chars, format, explicit=explicit_fields(fields))
    col.skipped_files = [s for s, _ in skipped]
    col.skipped_reasons = dict(skipped)
    for f in files:
        _read_file(f, col)
    return col.finish(str(path), {"input_kind": "jsonl", "input_path": str(path)})


read_files = read_jsonl


def ingest(
    source: str,
    *,
    path: str | os.PathLike | None = None,
    name: str | None = None,
    split: str = "train",
    fields: Mapping[str, str] | None = None,
    max_chars: int | None = 20000,
    config_name: str | None = None,
    data_files: Any = None,
    revision: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    format: str = "auto",
) -> IngestResult:
    """Ingest a pool from ``source="jsonl"`` (``path``: file or folder) or
    ``source="hf"`` (``name``, ``split``, optional ``config_name``,
    ``data_files``, ``revision``, ``cache_dir``); rows are read as
    ``format`` (auto or one of :data:`ila.pool.formats.FORMATS`)."""
    if max_chars is not None and (isinstance(max_chars, bool) or int(max_chars) != max_chars or max_chars < 1):
        raise ValueError(f"max_chars must be a positive integer or None, got {max_chars!r}")
    if source == "jsonl":
        if path is None:
            raise ValueError("ingest(source='jsonl') needs path=")
        return read_jsonl(path, fields, max_chars, format)
    if source == "hf":
        if not name:
            raise ValueError("ingest(source='hf') needs name=")
        return read_hf(name, split, fields, max_chars, config_name=config_name,
                       data_files=data_files, revision=revision, cache_dir=cache_dir, format=format)
    raise ValueError(f"unknown pool source {source!r}; expected 'jsonl' or 'hf'")


def check_pool_size(n_kept: int, dev_size: int | float, warmup_size: int, test_size: int | float = 0) -> None:
    """Raise IngestError when the pool cannot hold the test set (``test_size``
    of the kept rows, 0 = none), the dev set, the warm-up set I0 and at least
    one candidate; the message names the keys and the numbers."""
    from ila.pool.split import resolve_dev_size

    n_test = 0
    if test_size:
        try:
            n_test = resolve_dev_size(test_size, n_kept)
        except ValueError:
            raise IngestError(
                f"pool too small: {n_kept} rows kept, but split.test_size={test_size!r} leaves none for "
                f"split.dev_size={dev_size!r}, warmup.size={warmup_size} and the candidates; "
                f"lower split.test_size or add rows"
            ) from None
    n_rest = n_kept - n_test
    try:
        n_dev = resolve_dev_size(dev_size, n_rest)
    except ValueError as exc:
        raise IngestError(f"pool of {n_rest} kept rows: split.dev_size: {exc}") from None
    if n_rest < n_dev + warmup_size + 1:
        test = f"split.test_size={test_size!r} takes {n_test}, " if n_test else ""
        raise IngestError(
            f"pool too small: {n_kept} rows kept, but {test}split.dev_size={dev_size!r} takes {n_dev} and "
            f"warmup.size={warmup_size} takes {warmup_size}, leaving {n_rest - n_dev - warmup_size} candidates "
            f"(need at least 1); lower {'split.test_size, ' if n_test else ''}split.dev_size or warmup.size, "
            f"or add rows"
        )


__all__ = [
    "CANONICAL_FIELDS",
    "IngestError",
    "IngestResult",
    "POOL_COLUMNS",
    "REASONS",
    "REJECT_COLUMNS",
    "check_pool_size",
    "hf_source_name",
    "ingest",
    "list_jsonl_files",
    "pool_arrow_table",
    "meta_json",
    "read_files",
    "read_hf",
    "read_hf_many",
    "read_jsonl",
    "resolve_fields",
    "write_outputs",
]
