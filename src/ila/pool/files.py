"""The files of a local pool and the records they hold.

:func:`list_pool_files` is the one listing of what is read: the ingest reads
exactly these files and the workflow tracks exactly these (rules/common.smk
calls it), so editing any file that is read reruns the ingest.

- ``pool.path`` a file: that file, whatever its name;
- a folder: its entries in name order, not recursive, that are files named
  ``*.jsonl``, ``*.jsonl.gz``, ``*.json`` or ``*.parquet`` and not hidden
  (a name starting with "."). Every other entry (folders, hidden files,
  other suffixes, broken links, symlink loops) is skipped with its reason,
  which the ledger and the log list.

:func:`read_records` yields ``(line, record)`` per row: JSON Lines (plain or
gzip; ``line`` is the line number), a JSON array (``line`` is the line where
the element starts) or Parquet (``line`` is the row number). A parse problem
yields ``(line, RowError)`` so it is counted with its line. A key given twice
in one JSON object is a ``duplicate_key`` error, not "last wins".
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any, Iterator

from ila.pool.formats import RowError

POOL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".parquet")
SNIFF_BYTES = 8192
_BINARY_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PAR1": "parquet",
}
_DETAIL_MAX = 200


class PoolFileError(Exception):
    """A file (or folder) as a whole cannot be read; the message names it."""


def _short(text: str) -> str:
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 3] + "..."


def list_pool_files(path: str | os.PathLike) -> tuple[list[Path], list[tuple[str, str]]]:
    """The files to read for ``path`` and the skipped folder entries as
    (path, reason). Raises PoolFileError when nothing can be read."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        reason = "no such file or folder" if not os.path.lexists(p) else f"cannot open ({exc.strerror})"
        raise PoolFileError(f"{p}: {reason}") from None
    if not p.is_dir():
        return [p], []
    del st
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for entry in sorted(os.scandir(p), key=lambda e: e.name):
        full = str(p / entry.name)
        try:
            is_file = entry.is_file()  # follows links
            is_dir = entry.is_dir()
            os.stat(full)
        except OSError as exc:
            skipped.append((full, f"cannot open ({exc.strerror}; a broken link or symlink loop?)"))
            continue
        if is_dir:
            skipped.append((full + "/", "folder (folders are not read recursively)"))
        elif entry.name.startswith("."):
            skipped.append((full, "hidden file"))
        elif not is_file:
            skipped.append((full, "not a regular file"))
        elif not entry.name.endswith(POOL_SUFFIXES):
            skipped.append((full, f"not a pool file ({', '.join(POOL_SUFFIXES)})"))
        else:
            files.append(p / entry.name)
    if not files:
        raise PoolFileError(
            f"{p}: folder holds no pool file ({', '.join(POOL_SUFFIXES)}); entries: "
            + "; ".join(f"{Path(s).name} ({r})" for s, r in skipped)
        )
    return files, skipped


class _PairsHook:
    """object_pairs_hook that builds dicts and records keys given twice."""

    def __init__(self):
        self.duplicates: list[str] = []

    def __call__(self, pairs):
        out = {}
        for k, v in pairs:
            if k in out:
                self.duplicates.append(k)
            out[k] = v
        return out

    def take(self) -> RowError | None:
        if not self.duplicates:
            return None
        keys = sorted(set(self.duplicates))
        self.duplicates = []
        return RowError("duplicate_key", _short(f"key(s) {keys} given twice in one object"))


def _check_text(path: Path, head: bytes, what: str) -> None:
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            raise PoolFileError(f"{path}: not {what} text (looks like a {kind} file)")
    if b"\x00" in head[:SNIFF_BYTES]:
        raise PoolFileError(f"{path}: not {what} text (NUL bytes in the first {SNIFF_BYTES} bytes; binary?)")


def file_kind(path: Path, head: bytes) -> str:
    """jsonl, jsonl.gz, json_array or parquet, from the name and first bytes."""
    name = path.name
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".gz"):
        return "jsonl.gz"
    start = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    if name.endswith(".json") and start.lstrip().startswith(b"["):
        return "json_array"
    _check_text(path, head, "JSON Lines")
    if start.lstrip().startswith(b"["):
        raise PoolFileError(
            f"{path}: not JSON Lines text (starts with '[': a JSON array file; name it *.json to read it as one)"
        )
    return "jsonl"


def _parse_line(raw: bytes, lineno: int, hook: _PairsHook) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return RowError("invalid_utf8", _short(f"{exc.reason} at byte {exc.start}"))
    try:
        obj = json.loads(text, object_pairs_hook=hook)
    except json.JSONDecodeError as exc:
        hook.duplicates = []
        return RowError("invalid_json", _short(f"{exc.msg} at column {exc.colno}"))
    except RecursionError:
        hook.duplicates = []
        return RowError("invalid_json", "nested too deeply to parse")
    return hook.take() or obj


def _jsonl_lines(fh) -> Iterator[tuple[int, bytes | None]]:
    """(line, raw) per line; raw None for a blank line."""
    for lineno, raw in enumerate(fh, start=1):
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        yield lineno, (raw if raw.strip() else None)


def _json_array(path: Path) -> Iterator[tuple[int, Any]]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoolFileError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    hook = _PairsHook()
    decoder = json.JSONDecoder(object_pairs_hook=hook)
    ws = " \t\r\n"
    i = len(text) - len(text.lstrip(ws)) + 1  # after '['
    line, counted = 1, 0
    first = True
    while True:
        while i < len(text) and text[i] in ws:
            i += 1
        if i < len(text) and text[i] == "]":
            break
        if not first:
            if i >= len(text) or text[i] != ",":
                line += text.count("\n", counted, i)
                raise PoolFileError(f"{path}: line {line}: expected ',' or ']' in the JSON array")
            i += 1
            while i < len(text) and text[i] in ws:
                i += 1
        line += text.count("\n", counted, i)
        counted = i
        try:
            obj, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise PoolFileError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg} (JSON array)") from None
        yield line, (hook.take() or obj)
        i, first = end, False


def _parquet(path: Path, batch_size: int = 4096) -> Iterator[tuple[int, Any]]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several kinds
        raise PoolFileError(f"{path}: cannot read as Parquet ({type(exc).__name__}: {_short(str(exc))})") from None
    n = 0
    for batch in pf.iter_batches(batch_size=batch_size):
        for rec in batch.to_pylist():
            n += 1
            yield n, rec


def read_records(path: Path) -> Iterator[tuple[int, Any]]:
    """(line, record or RowError) for every row of one file; blank JSON
    Lines lines yield (line, None)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(SNIFF_BYTES)
        kind = file_kind(path, head)
        if kind == "parquet":
            yield from _parquet(path)
            return
        if kind == "json_array":
            yield from _json_array(path)
            return
        opener = gzip.open if kind == "jsonl.gz" else open
        hook = _PairsHook()
        with opener(path, "rb") as fh:
            if kind == "jsonl.gz":
                _check_text(path, fh.peek(SNIFF_BYTES)[:SNIFF_BYTES], "JSON Lines (inside gzip)")
            for lineno, raw in _jsonl_lines(fh):
                yield lineno, (None if raw is None else _parse_line(raw, lineno, hook))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise PoolFileError(f"{path}: cannot read ({exc})") from exc


__all__ = ["POOL_SUFFIXES", "PoolFileError", "file_kind", "list_pool_files", "read_records"]
