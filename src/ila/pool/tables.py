"""The ingest's outputs on disk: the pool as Parquet with a fixed schema,
the rejects as JSON Lines and the ledger as JSON."""

from __future__ import annotations

import json
import os

import pandas as pd

from ila.io import atomic_path, write_json
from ila.pool.ledger import POOL_COLUMNS, REJECT_COLUMNS, IngestResult


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


__all__ = ["pool_arrow_table", "write_outputs"]
