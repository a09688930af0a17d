"""Small I/O helpers shared by every stage: content ids, hashes, atomic and
deterministic writes.

Every writer here writes to a temporary file beside the target and renames it
into place, so a killed job never leaves a partial output that looks complete.
JSON is written with sorted keys and a fixed float format so that the same
inputs give the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

ID_HEX_CHARS = 16


def stable_id(instruction: str, input: str, output: str) -> str:
    """Content id of an example: the first 16 hex chars of the sha256 of its
    three text fields, joined with a separator that cannot occur in UTF-8
    text. Independent of file, row position, machine and Python version."""
    h = hashlib.sha256()
    for part in (instruction, input, output):
        h.update(part.encode("utf-8"))
        h.update(b"\xff")
    return h.hexdigest()[:ID_HEX_CHARS]


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def sha256_ids(ids: Iterable[str]) -> str:
    """Hash of an ordered id list: the identity of a pool or a selection."""
    h = hashlib.sha256()
    for i in ids:
        h.update(i.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only when
    the block finishes without an exception."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates the file private (0600); outputs get the usual umask
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside `path`; when the block finishes
    without an exception, replace `path` (a folder, if any) with it, else
    remove it: no half-written folder (a model, a stand-in) looks complete."""
    import shutil

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        umask = os.umask(0)  # mkdtemp creates the folder private (0700)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)
        if path.exists():
            shutil.rmtree(path)
        os.rename(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def _json_default(obj: Any) -> Any:
    try:
        import numpy as np

        if isinstance(obj, np.integer):
            return int(obj)
        if isinstance(obj, np.floating):
            return float(obj)
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.bool_):
            return bool(obj)
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n"


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(dumps_json(obj), encoding="utf-8")


def read_json(path: str | os.PathLike) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> int:
    """Rows as UTF-8 JSON Lines (one object a line, sorted keys, non-ASCII
    kept), atomically; returns the number of lines written."""
    n = 0
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                fh.write(json.dumps(row, sort_keys=True, ensure_ascii=False, default=_json_default) + "\n")
                n += 1
    return n


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """The rows of a JSON Lines file (blank lines skipped); a line that does
    not parse is an error naming the file and line."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for k, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}, line {k}: not JSON ({exc.msg})") from None
    return rows


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_ids(path: str | os.PathLike, ids: Iterable[str]) -> None:
    """One id a line, in the given order."""
    write_text(path, "".join(f"{i}\n" for i in ids))


def read_ids(path: str | os.PathLike) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def write_parquet(path: str | os.PathLike, df) -> None:
    """Write a DataFrame as Parquet without the pandas index and without
    writer metadata that changes from run to run."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(None)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_parquet(path: str | os.PathLike, columns: list[str] | None = None):
    import pandas as pd

    return pd.read_parquet(path, columns=columns)


def write_csv(path: str | os.PathLike, df, float_format: str = "%.6g") -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format=float_format, lineterminator="\n")


def write_npy(path: str | os.PathLike, array) -> None:
    import numpy as np

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
