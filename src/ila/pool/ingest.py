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
                 user's own ``id``, ``domain``, ``labels``, any extra column).

Text is kept exactly as read (no stripping or normalisation), so the id of an
example is the same wherever it comes from.

Rules a row must pass, checked in this order (the first failure is the
reason recorded):

``invalid_utf8``     the line is not valid UTF-8, or a text field holds a
                     lone surrogate escape that cannot be written as UTF-8;
``invalid_json``     the line does not parse as JSON;
``not_an_object``    it parses, but not to a JSON object;
``duplicate_key``    a key is given twice in one JSON object;
``no_format``        the row fits no format (``format: auto``);
``missing_field``    a required field of the format is absent or null;
``wrong_type``       a text field is not a string, labels is not a list of
                     strings, or an extra column cannot be held as JSON;
``bad_conversation`` not system?, then user/assistant alternating, ending
                     with an assistant turn; or an unknown role;
``empty_field``      a user or assistant text is empty after stripping;
``too_long``         len(instruction) + len(input) + len(output) > max_chars;
``duplicate``        another valid row has the same (instruction, input).

Duplicates are resolved independently of row and file order: of the rows
sharing an (instruction, input) key, the one with the smallest id is kept
(ties between rows with the same id are broken by the remaining content, so
identical rows give identical pools whatever their order). Every other row of
the key is a ``duplicate`` reject with ``duplicate_of`` = the kept id.

A field named in ``fields`` that no row has is an error naming the key; one
that fewer than half the rows have is listed in the ledger
(``fields_rarely_present``) and logged.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import pandas as pd

from ila.io import atomic_path, sha256_ids, stable_id, write_json
from ila.pool.files import PoolFileError, list_pool_files, read_records
from ila.pool.formats import FORMAT_FIELDS, FORMATS, RowError, messages_json, parse_row

POOL_COLUMNS = ["id", "instruction", "input", "output", "source", "domain", "labels", "messages", "meta"]
REJECT_COLUMNS = ["file", "line", "reason", "detail", "id", "duplicate_of"]
REASONS = (
    "invalid_utf8",
    "invalid_json",
    "not_an_object",
    "duplicate_key",
    "no_format",
    "missing_field",
    "wrong_type",
    "bad_conversation",
    "empty_field",
    "too_long",
    "duplicate",
)
CANONICAL_FIELDS = (*FORMAT_FIELDS, "domain", "labels", "source")
_DETAIL_MAX = 200


class IngestError(Exception):
    """The source as a whole cannot be ingested (missing path, unreadable
    file, no usable row, a mapped field no row has). The message names the
    file or dataset."""


@dataclass
class IngestResult:
    """Output of :func:`ingest`: the canonical pool, one row per reject, and
    the ledger of counts."""

    pool: pd.DataFrame
    rejects: pd.DataFrame
    ledger: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# Row validation (shared by every source)


@dataclass
class _Reject:
    file: str
    line: int
    reason: str
    detail: str
    id: str | None = None
    duplicate_of: str | None = None


@dataclass
class _Row:
    file: str
    line: int
    id: str
    instruction: str
    input: str
    output: str
    source: str
    domain: str
    labels: list
    messages: str
    meta: str
    format: str

    def order_key(self) -> tuple:
        """Which of several rows with one (instruction, input) is kept: the
        smallest id, then the smallest remaining content. Never position."""
        return (self.id, self.source, self.domain, json.dumps(self.labels, ensure_ascii=False),
                self.messages, self.meta)


def _encodable(text: str) -> bool:
    """False for strings that cannot be written as UTF-8 (a JSON escape such
    as "\\ud800" decodes to a lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(text: str) -> str:
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 3] + "..."


def resolve_fields(fields: Mapping[str, str] | None) -> dict[str, str]:
    """Canonical field name -> source field name, identity by default.
    Raises ValueError on a canonical name that does not exist."""
    out = {name: name for name in CANONICAL_FIELDS}
    if fields:
        unknown = sorted(set(fields) - set(CANONICAL_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown canonical field(s) in fields mapping: {unknown}; "
                f"allowed: {list(CANONICAL_FIELDS)}"
            )
        for name, src in fields.items():
            if not isinstance(src, str) or not src:
                raise ValueError(f"fields[{name!r}] must be a non-empty string, got {src!r}")
            out[name] = src
    return out


def _explicit(fields: Mapping[str, str] | None) -> list[str]:
    """Canonical fields mapped to another name than their own."""
    return [k for k, v in (fields or {}).items() if v != k]


def _field_label(canonical: str, fmap: Mapping[str, str]) -> str:
    src = fmap[canonical]
    return f"'{canonical}'" if src == canonical else f"'{canonical}' (source field '{src}')"


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def meta_json(meta: Mapping[str, Any]) -> str:
    """The ``meta`` column: the row's other keys as a JSON object string
    (non-ASCII kept; all-ASCII escapes when a value holds a lone surrogate,
    so the string stays writable as UTF-8 and decodes to the same values)."""
    text = json.dumps(meta, ensure_ascii=False, default=_json_default)
    return text if _encodable(text) else json.dumps(meta, ensure_ascii=True, default=_json_default)


def _validate(
    obj: Any,
    file: str,
    line: int,
    fmap: Mapping[str, str],
    fmt: str,
    default_source: str,
    max_chars: int | None,
) -> _Row | _Reject:
    """Turn one parsed record into a canonical row, or a reject."""
    if isinstance(obj, RowError):
        return _Reject(file, line, obj.reason, obj.detail)
    if not isinstance(obj, dict):
        return _Reject(file, line, "not_an_object", f"JSON value has type {type(obj).__name__}, not object")
    try:
        conv = parse_row(obj, fmt, fmap)
    except RowError as exc:
        return _Reject(file, line, exc.reason, _short(exc.detail))

    domain = obj.get(fmap["domain"])
    domain = "" if domain is None else domain
    if not isinstance(domain, str):
        return _Reject(file, line, "wrong_type", f"{_field_label('domain', fmap)} has type {type(domain).__name__}, not string")
    if not _encodable(domain):
        return _Reject(file, line, "invalid_utf8", f"{_field_label('domain', fmap)} holds a lone surrogate escape")
    example_id = stable_id(conv.instruction, conv.input, conv.output)

    labels = obj.get(fmap["labels"])
    if labels is None:
        labels = []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        what = f"of type {type(labels).__name__}" if not isinstance(labels, list) else "a list with a non-string item"
        return _Reject(
            file, line, "wrong_type", f"{_field_label('labels', fmap)} is {what}, not a list of strings",
            id=example_id,
        )
    if not all(_encodable(x) for x in labels):
        return _Reject(
            file, line, "invalid_utf8", f"{_field_label('labels', fmap)} holds a lone surrogate escape",
            id=example_id,
        )
    meta = {k: v for k, v in obj.items() if k not in conv.used}
    try:
        meta_text = meta_json(meta)
        conv_text = messages_json(conv.messages)
    except (TypeError, ValueError) as exc:
        return _Reject(file, line, "wrong_type", _short(f"a column holds a value JSON cannot hold ({exc})"), id=example_id)
    if not _encodable(conv_text):
        return _Reject(file, line, "invalid_utf8", "an extra key of a turn holds a lone surrogate escape", id=example_id)

    empty = conv.empty_turn()
    if empty:
        return _Reject(file, line, "empty_field", empty, id=example_id)

    n_chars = len(conv.instruction) + len(conv.input) + len(conv.output)
    if max_chars is not None and n_chars > max_chars:
        return _Reject(file, line, "too_long", f"{n_chars} characters > max_chars={max_chars}", id=example_id)

    row_source = obj.get(fmap["source"])
    usable = isinstance(row_source, str) and row_source.strip() and _encodable(row_source)
    source = row_source if usable else default_source

    return _Row(
        file=file, line=line, id=example_id,
        instruction=conv.instruction, input=conv.input, output=conv.output,
        source=source, domain=domain, labels=list(labels),
        messages=conv_text, meta=meta_text, format=conv.format,
    )


class _Collector:
    """Accumulates rows, rejects and per-file counts across sources, then
    resolves duplicates and builds the pool, rejects table and ledger."""

    def __init__(self, fmap: Mapping[str, str], max_chars: int | None, fmt: str = "auto",
                 explicit: Sequence[str] = ()):
        if fmt != "auto" and fmt not in FORMATS:
            raise ValueError(f"unknown pool format {fmt!r}; expected auto or one of {list(FORMATS)}")
        self.fmap = fmap
        self.fmt = fmt
        self.max_chars = max_chars
        self.explicit = list(explicit)  # canonical fields the user mapped
        self.presence: dict[str, dict] = {}
        self.objects = 0
        self.rows: list[_Row] = []
        self.rejects: list[_Reject] = []
        self.files: dict[str, dict[str, int]] = {}
        self.blank_lines = 0
        self.skipped_files: list[str] = []
        self.skipped_reasons: dict[str, str] = {}

    def start_file(self, file: str) -> None:
        self.files[file] = {"read": 0, "kept": 0, "rejected": 0, "blank_lines": 0}

    def blank(self, file: str) -> None:
        self.blank_lines += 1
        self.files[file]["blank_lines"] += 1

    def add_reject(self, rej: _Reject) -> None:
        self.files[rej.file]["read"] += 1
        self.rejects.append(rej)

    def add_record(self, obj: Any, file: str, line: int, default_source: str) -> None:
        self.files[file]["read"] += 1
        if isinstance(obj, dict):
            self.objects += 1
            for name in self.explicit:
                entry = self.presence.setdefault(f"{name}={self.fmap[name]}", {"field": name, "source_field": self.fmap[name], "rows": 0, "of": 0})
                entry["of"] += 1
                entry["rows"] += self.fmap[name] in obj
        out = _validate(obj, file, line, self.fmap, self.fmt, default_source, self.max_chars)
        if isinstance(out, _Reject):
            self.rejects.append(out)
        else:
            self.rows.append(out)

    def _check_presence(self, description: str) -> list[dict]:
        """Error on a mapped field that no row has; the ones fewer than half
        the rows have, for the ledger."""
        rare = []
        for entry in self.presence.values():
            if entry["of"] and entry["rows"] == 0:
                raise IngestError(
                    f"{description}: pool.fields.{entry['field']} names field '{entry['source_field']}', "
                    f"which none of the {entry['of']} rows has (a typo?)"
                )
            if entry["rows"] * 2 < entry["of"]:
                rare.append(dict(entry))
        return rare

    def finish(self, description: str, extra_ledger: dict) -> IngestResult:
        rare = self._check_presence(description)
        # Duplicates of (instruction, input): keep the smallest order key.
        best: dict[tuple[str, str], _Row] = {}
        for row in self.rows:
            key = (row.instruction, row.input)
            cur = best.get(key)
            if cur is None or row.order_key() < cur.order_key():
                best[key] = row
        kept: list[_Row] = []
        for row in self.rows:
            winner = best[(row.instruction, row.input)]
            if row is winner:
                kept.append(row)
            else:
                self.rejects.append(
                    _Reject(
                        row.file, row.line, "duplicate",
                        f"same instruction and input as id {winner.id} ({winner.file}:{winner.line})",
                        id=row.id, duplicate_of=winner.id,
                    )
                )

        if not kept:
            raise IngestError(
                f"{description}: no usable rows ({len(self.rejects)} rejected, "
                f"{self.blank_lines} blank lines); first rejects: "
                + "; ".join(f"{r.file}:{r.line} {r.reason} ({r.detail})" for r in self.rejects[:3])
            )

        kept.sort(key=lambda r: r.order_key())
        # Ids are unique: equal ids imply equal (instruction, input) keys.
        pool = pd.DataFrame(
            {
                "id": [r.id for r in kept],
                "instruction": [r.instruction for r in kept],
                "input": [r.input for r in kept],
                "output": [r.output for r in kept],
                "source": [r.source for r in kept],
                "domain": [r.domain for r in kept],
                "labels": pd.Series([r.labels for r in kept], dtype=object),
                "messages": [r.messages for r in kept],
                "meta": [r.meta for r in kept],
            },
            columns=POOL_COLUMNS,
        )

        file_rank = {f: i for i, f in enumerate(self.files)}
        self.rejects.sort(key=lambda r: (file_rank[r.file], r.line))
        rejects = pd.DataFrame(
            {
                "file": pd.Series([r.file for r in self.rejects], dtype=object),
                "line": pd.Series([r.line for r in self.rejects], dtype="int64"),
                "reason": pd.Series([r.reason for r in self.rejects], dtype=object),
                "detail": pd.Series([r.detail for r in self.rejects], dtype=object),
                "id": pd.Series([r.id for r in self.rejects], dtype=object),
                "duplicate_of": pd.Series([r.duplicate_of for r in self.rejects], dtype=object),
            },
            columns=REJECT_COLUMNS,
        )

        for row in kept:
            self.files[row.file]["kept"] += 1
        for rej in self.rejects:
            self.files[rej.file]["rejected"] += 1
        by_reason = {reason: 0 for reason in REASONS}
        for rej in self.rejects:
            by_reason[rej.reason] += 1
        by_format = {f: 0 for f in FORMATS}
        for row in kept:
            by_format[row.format] += 1

        n_read = sum(f["read"] for f in self.files.values())
        ledger = {
            "read": n_read,
            "kept": len(kept),
            "rejected": by_reason,
            "rejected_total": len(self.rejects),
            "blank_lines": self.blank_lines,
            "skipped_files": list(self.skipped_files),
            "skipped_reasons": dict(self.skipped_reasons),
            "files": self.files,
            "format": self.fmt,
            "kept_by_format": by_format,
            "kept_by_domain": {k: int(v) for k, v in sorted(pool["domain"].value_counts().items())},
            "kept_by_source": {k: int(v) for k, v in sorted(pool["source"].value_counts().items())},
            "fields": dict(self.fmap),
            "fields_rarely_present": rare,
            "max_chars": self.max_chars,
            "pool_ids_sha256": sha256_ids(pool["id"]),
            **extra_ledger,
        }
        assert ledger["read"] == ledger["kept"] + ledger["rejected_total"], ledger
        for name, f in self.files.items():
            assert f["read"] == f["kept"] + f["rejected"], (name, f)
        return IngestResult(pool=pool, rejects=rejects, ledger=ledger)


# --------------------------------------------------------------------------
# Local files (JSON Lines, .jsonl.gz, JSON arrays, Parquet)


def list_jsonl_files(path: str | os.PathLike) -> tuple[list[Path], list[str]]:
    """The files read for ``path`` and the skipped entries (paths; folders
    end with '/'), as :func:`ila.pool.files.list_pool_files` lists them."""
    try:
        files, skipped = list_pool_files(path)
    except PoolFileError as exc:
        raise IngestError(str(exc)) from None
    return files, [s for s, _ in skipped]


def _read_file(path: Path, col: _Collector) -> None:
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
                col.add_reject(_Reject(file, line, obj.reason, obj.detail))
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
    col = _Collector(fmap, max_chars, format, explicit=_explicit(fields))
    col.skipped_files = [s for s, _ in skipped]
    col.skipped_reasons = dict(skipped)
    for f in files:
        _read_file(f, col)
    return col.finish(str(path), {"input_kind": "jsonl", "input_path": str(path)})


read_files = read_jsonl


# --------------------------------------------------------------------------
# Hugging Face datasets


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
    col = _Collector(fmap, max_chars, format, explicit=_explicit(fields))
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
    except Exception as exc:  # the loader raises many kinds; name the dataset
        raise IngestError(f"{label}: cannot load dataset ({type(exc).__name__}: {_short(str(exc))})") from exc
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
    col = _Collector(resolve_fields(fields), max_chars, format)
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
        col.explicit = _explicit({**(fields or {}), **(spec.get("fields") or {})})
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


# --------------------------------------------------------------------------
# Entry point and writers


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


def check_pool_size(n_kept: int, dev_size: int | float, warmup_size: int) -> None:
    """Raise IngestError when the pool cannot hold the dev set, the warm-up
    set I0 and at least one candidate (names the keys and the numbers)."""
    from ila.pool.split import resolve_dev_size

    try:
        n_dev = resolve_dev_size(dev_size, n_kept)
    except ValueError as exc:
        raise IngestError(f"pool of {n_kept} kept rows: split.dev_size: {exc}") from None
    if n_kept < n_dev + warmup_size + 1:
        raise IngestError(
            f"pool too small: {n_kept} rows kept, but split.dev_size={dev_size!r} takes {n_dev} and "
            f"warmup.size={warmup_size} takes {warmup_size}, leaving {n_kept - n_dev - warmup_size} candidates "
            f"(need at least 1); lower split.dev_size or warmup.size, or add rows"
        )


def pool_arrow_table(pool: pd.DataFrame):
    """The pool as an Arrow table with a fixed schema (``labels`` stays
    ``list<string>`` even when every list is empty)."""
    import pyarrow as pa

    schema = pa.schema(
        [(c, pa.string()) for c in POOL_COLUMNS if c != "labels"] + [("labels", pa.list_(pa.string()))]
    )
    cols = {c: pool[c].tolist() for c in POOL_COLUMNS}
    cols["labels"] = [list(x) for x in cols["labels"]]
    return pa.Table.from_pydict(cols, schema=schema)


def _rejects_jsonl(rejects: pd.DataFrame) -> str:
    out = []
    for rec in rejects[REJECT_COLUMNS].to_dict(orient="records"):
        rec = {k: (None if v is None or (isinstance(v, float) and v != v) else v) for k, v in rec.items()}
        rec["line"] = int(rec["line"])
        out.append(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
    return "".join(out)


def write_outputs(
    result: IngestResult,
    pool_path: str | os.PathLike,
    rejects_path: str | os.PathLike,
    ledger_path: str | os.PathLike,
) -> None:
    """Write the pool (Parquet, fixed schema, no writer metadata), the
    rejects (JSON Lines, one object a line, in file/line order) and the
    ledger (JSON), each atomically."""
    import pyarrow.parquet as pq

    table = pool_arrow_table(result.pool).replace_schema_metadata(None)
    with atomic_path(pool_path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    with atomic_path(rejects_path) as tmp:
        tmp.write_text(_rejects_jsonl(result.rejects), encoding="utf-8")
    write_json(ledger_path, result.ledger)


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
