"""One record of a pool read as a canonical row, or as a reject with its
reason: the validation every source (files, Hugging Face datasets) shares.

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
``duplicate``        another valid row has the same (instruction, input)
                     (resolved over all rows: :mod:`ila.pool.ledger`).
"""

from __future__ import annotations

import datetime
import decimal
import json
from dataclasses import dataclass
from typing import Any, Mapping

from ila.io import stable_id
from ila.pool.formats import FORMAT_FIELDS, RowError, messages_json, parse_row

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


@dataclass
class Reject:
    """A record that is not in the pool, with where it was and why."""

    file: str
    line: int
    reason: str
    detail: str
    id: str | None = None
    duplicate_of: str | None = None


@dataclass
class Row:
    """A valid record as a canonical pool row, with where it was read."""

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


def short(text: str) -> str:
    """A reject's detail, cut to at most 200 characters."""
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


def explicit_fields(fields: Mapping[str, str] | None) -> list[str]:
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


def validate_row(
    obj: Any,
    file: str,
    line: int,
    fmap: Mapping[str, str],
    fmt: str,
    default_source: str,
    max_chars: int | None,
) -> Row | Reject:
    """Turn one parsed record into a canonical row, or a reject (every
    reason but ``duplicate``)."""
    if isinstance(obj, RowError):
        return Reject(file, line, obj.reason, obj.detail)
    if not isinstance(obj, dict):
        return Reject(file, line, "not_an_object", f"JSON value has type {type(obj).__name__}, not object")
    try:
        conv = parse_row(obj, fmt, fmap)
    except RowError as exc:
        return Reject(file, line, exc.reason, short(exc.detail))

    domain = obj.get(fmap["domain"])
    domain = "" if domain is None else domain
    if not isinstance(domain, str):
        return Reject(file, line, "wrong_type", f"{_field_label('domain', fmap)} has type {type(domain).__name__}, not string")
    if not _encodable(domain):
        return Reject(file, line, "invalid_utf8", f"{_field_label('domain', fmap)} holds a lone surrogate escape")
    example_id = stable_id(conv.instruction, conv.input, conv.output)

    labels = obj.get(fmap["labels"])
    if labels is None:
        labels = []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        what = f"of type {type(labels).__name__}" if not isinstance(labels, list) else "a list with a non-string item"
        return Reject(
            file, line, "wrong_type", f"{_field_label('labels', fmap)} is {what}, not a list of strings",
            id=example_id,
        )
    if not all(_encodable(x) for x in labels):
        return Reject(
            file, line, "invalid_utf8", f"{_field_label('labels', fmap)} holds a lone surrogate escape",
            id=example_id,
        )
    # a null text field of another format is the column of a mixed-format
    # Parquet file or dataset, not a column of this row
    text_keys = {fmap[name] for name in FORMAT_FIELDS}
    meta = {k: v for k, v in obj.items() if k not in conv.used and not (v is None and k in text_keys)}
    try:
        meta_text = meta_json(meta)
        conv_text = messages_json(conv.messages)
    except (TypeError, ValueError) as exc:
        return Reject(file, line, "wrong_type", short(f"a column holds a value JSON cannot hold ({exc})"), id=example_id)
    if not _encodable(conv_text):
        return Reject(file, line, "invalid_utf8", "an extra key of a turn holds a lone surrogate escape", id=example_id)

    empty = conv.empty_turn()
    if empty:
        return Reject(file, line, "empty_field", empty, id=example_id)

    n_chars = len(conv.instruction) + len(conv.input) + len(conv.output)
    if max_chars is not None and n_chars > max_chars:
        return Reject(file, line, "too_long", f"{n_chars} characters > max_chars={max_chars}", id=example_id)

    row_source = obj.get(fmap["source"])
    usable = isinstance(row_source, str) and row_source.strip() and _encodable(row_source)
    source = row_source if usable else default_source

    return Row(
        file=file, line=line, id=example_id,
        instruction=conv.instruction, input=conv.input, output=conv.output,
        source=source, domain=domain, labels=list(labels),
        messages=conv_text, meta=meta_text, format=conv.format,
    )


__all__ = [
    "CANONICAL_FIELDS",
    "REASONS",
    "Reject",
    "Row",
    "explicit_fields",
    "meta_json",
    "resolve_fields",
    "short",
    "validate_row",
]
