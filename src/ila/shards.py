"""Shard plans for scatter/gather stages (embedding, loss scoring).

Examples are sorted once by length, longest first (ties by id), cut into
batches of a fixed size, and each shard receives whole batches, balanced by
their padded size (rows x longest row): each batch in turn, longest first,
goes to the shard with the least work so far. Every batch is therefore the
same whatever the number of shards, so gathered outputs are bit-identical
for 1 shard or 64, length bucketing keeps padding low, and no shard is left
with all the long examples.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def plan(ids: Sequence[str], lengths: Sequence[int], batch_size: int, shards: int) -> pd.DataFrame:
    """Assign every id to a batch and a shard.

    Returns a DataFrame with columns id, length, order (global position in
    the sequence sorted by length, longest first, ties by id; the order in
    which `ila.lm.scoring.length_batches` batches records it is given in
    this order), batch, shard (0-based), sorted by order.
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be >= 1, got {batch_size}")
    if shards < 1:
        raise ValueError(f"number of shards must be >= 1, got {shards}")
    ids = np.asarray(ids, dtype=object)
    lengths = np.asarray(lengths, dtype=np.int64)
    if len(ids) != len(lengths):
        raise ValueError(f"{len(ids)} ids but {len(lengths)} lengths")
    if len(set(ids.tolist())) != len(ids):
        raise ValueError("ids are not unique")
    order = np.lexsort((ids.astype(str), -lengths))
    n = len(ids)
    n_batches = -(-n // batch_size) if n else 0
    batch = np.arange(n) // batch_size
    shard_of_batch = _balance(lengths[order], batch, n_batches, shards)
    return pd.DataFrame(
        {
            "id": ids[order].astype(str),
            "length": lengths[order],
            "order": np.arange(n, dtype=np.int64),
            "batch": batch.astype(np.int64),
            "shard": shard_of_batch[batch].astype(np.int64) if n else np.zeros(0, np.int64),
        }
    )


def _balance(sorted_lengths: np.ndarray, batch: np.ndarray, n_batches: int, shards: int) -> np.ndarray:
    """Shard of every batch: longest-processing-time-first greedy on the
    padded size of each batch (ties to the lower shard index)."""
    if n_batches == 0:
        return np.zeros(0, np.int64)
    rows = np.bincount(batch, minlength=n_batches)
    longest = sorted_lengths[np.searchsorted(batch, np.arange(n_batches))]
    cost = rows * np.maximum(longest, 1)
    load = np.zeros(shards, dtype=np.int64)
    out = np.empty(n_batches, dtype=np.int64)
    for b in np.argsort(-cost, kind="stable"):
        s = int(np.argmin(load))
        out[b] = s
        load[s] += cost[b]
    return out


def shard_index(scatteritem: str) -> tuple[int, int]:
    """Parse Snakemake's scatter item ``"i-of-n"`` (1-based) to (i - 1, n)."""
    try:
        i, n = scatteritem.split("-of-")
        i, n = int(i), int(n)
    except ValueError as exc:
        raise ValueError(f"not a scatter item of the form 'i-of-n': {scatteritem!r}") from exc
    if not 1 <= i <= n:
        raise ValueError(f"scatter item out of range: {scatteritem!r}")
    return i - 1, n


def gather_frames(frames: Sequence[pd.DataFrame], expected_ids: Sequence[str]) -> pd.DataFrame:
    """Concatenate per-shard tables and put them in `expected_ids` order,
    checking that every id appears exactly once."""
    df = pd.concat(frames, ignore_index=True)
    dup = df["id"][df["id"].duplicated()]
    if len(dup):
        raise ValueError(f"{len(dup)} ids appear in more than one shard, e.g. {dup.iloc[0]}")
    expected = pd.Index(list(expected_ids))
    missing = expected.difference(pd.Index(df["id"]))
    extra = pd.Index(df["id"]).difference(expected)
    if len(missing) or len(extra):
        raise ValueError(
            f"shards do not cover the expected ids: {len(missing)} missing"
            f"{' e.g. ' + str(missing[0]) if len(missing) else ''}, {len(extra)} unexpected"
            f"{' e.g. ' + str(extra[0]) if len(extra) else ''}"
        )
    return df.set_index("id").loc[expected].reset_index()
