"""Join tables by id (never by position)."""

from __future__ import annotations

import hashlib
from typing import Sequence

import pandas as pd


def rows_by_id(table: pd.DataFrame, ids: Sequence[str], what: str = "table") -> pd.DataFrame:
    """Rows of `table` for `ids`, in the order of `ids`. An id missing from
    the table is an error that names it."""
    indexed = table.set_index("id", drop=False)
    if not indexed.index.is_unique:
        raise ValueError(f"{what} has duplicate ids")
    missing = pd.Index(ids).difference(indexed.index)
    if len(missing):
        raise KeyError(f"{len(missing)} ids are not in the {what}, e.g. {missing[0]}")
    return indexed.loc[list(ids)].reset_index(drop=True)


def to_records(
    table: pd.DataFrame, columns: Sequence[str] = ("id", "instruction", "input", "output", "domain", "messages")
) -> list[dict]:
    """Rows as dicts of the named columns the table has (``messages``: the
    whole conversation, which ``model.prompt.chat_template`` renders)."""
    cols = [c for c in columns if c in table.columns]
    return table[cols].to_dict("records")


def seeded_order(ids: Sequence[str], seed: int, salt: str = "") -> list[str]:
    """`ids` in a seeded pseudo-random order that depends only on the ids
    and the seed, not on their input order."""
    key = lambda i: hashlib.sha256(f"{seed}:{salt}:{i}".encode()).hexdigest()  # noqa: E731
    return sorted(ids, key=lambda i: (key(i), i))


def seeded_sample(ids: Sequence[str], size: int, seed: int, salt: str = "") -> list[str]:
    """A seeded sample of `size` ids (sorted by id), independent of input order."""
    if size > len(ids):
        raise ValueError(f"cannot sample {size} from {len(ids)} ids")
    return sorted(seeded_order(ids, seed, salt)[:size])


def derived_seed(seed: int, *parts) -> int:
    """A 31-bit seed derived from a master seed and names (e.g. a subset).
    Seeds of different runs land far apart, which matters because the
    Trainer seeds epoch e with seed + e."""
    text = ":".join([str(seed), *map(str, parts)])
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF
