"""The ledger of an ingest: every record read ends up in the pool or in the
rejects table, and the counts say so.

:class:`Collector` takes the records of every source (file or dataset) in
turn, validates each (:func:`ila.pool.rows.validate_row`), then resolves
duplicates and builds the pool, the rejects table and the ledger;
``read == kept + rejected_total`` (in all and per file) is checked before
anything is returned. Nothing is dropped silently.

Duplicates are resolved independently of row and file order: of the rows
sharing an (instruction, input) key, the one with the smallest id is kept
(ties between rows with the same id are broken by the remaining content, so
identical rows give identical pools whatever their order). Every other row of
the key is a ``duplicate`` reject with ``duplicate_of`` = the kept id.

A field named in ``fields`` that no row has is an error naming the key; one
that fewer than half the rows have is listed in the ledger
(``fields_rarely_present``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd

from ila.io import sha256_ids
from ila.pool.formats import FORMATS
from ila.pool.rows import REASONS, Reject, Row, validate_row

POOL_COLUMNS = ["id", "instruction", "input", "output", "source", "domain", "labels", "messages", "meta"]
REJECT_COLUMNS = ["file", "line", "reason", "detail", "id", "duplicate_of"]


class IngestError(Exception):
    """The source as a whole cannot be ingested (missing path, unreadable
    file, no usable row, a mapped field no row has). The message names the
    file or dataset."""


@dataclass
class IngestResult:
    """Output of an ingest: the canonical pool, one row per reject, and
    the ledger of counts."""

    pool: pd.DataFrame
    rejects: pd.DataFrame
    ledger: dict = field(default_factory=dict)


class Collector:
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
        self.rows: list[Row] = []
        self.rejects: list[Reject] = []
        self.files: dict[str, dict[str, int]] = {}
        self.blank_lines = 0
        self.skipped_files: list[str] = []
        self.skipped_reasons: dict[str, str] = {}

    def start_file(self, file: str) -> None:
        self.files[file] = {"read": 0, "kept": 0, "rejected": 0, "blank_lines": 0}

    def blank(self, file: str) -> None:
        self.blank_lines += 1
        self.files[file]["blank_lines"] += 1

    def add_reject(self, rej: Reject) -> None:
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
        out = validate_row(obj, file, line, self.fmap, self.fmt, default_source, self.max_chars)
        if isinstance(out, Reject):
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
        best: dict[tuple[str, str], Row] = {}
        for row in self.rows:
            key = (row.instruction, row.input)
            cur = best.get(key)
            if cur is None or row.order_key() < cur.order_key():
                best[key] = row
        kept: list[Row] = []
        for row in self.rows:
            winner = best[(row.instruction, row.input)]
            if row is winner:
                kept.append(row)
            else:
                self.rejects.append(
                    Reject(
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


__all__ = ["POOL_COLUMNS", "REJECT_COLUMNS", "Collector", "IngestError", "IngestResult"]
