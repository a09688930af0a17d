"""ILA selection (METHOD.md) and its ablations: depth only, coverage only,
and random.

ILA: group the candidates by cell; inside a cell order them by RID, highest
first; take them round-robin across cells (rank 1 of every cell, then rank 2,
...) until the budget is met; inside one round the cell whose candidate has
the higher RID goes first. Every tie (equal RID) is broken by the seeded hash
of the id (:func:`ila.selection.base.seeded_hash`), then by the id.

Cost: two lexsorts over the eligible candidates plus one sha256 per id,
O(N log N), vectorised.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .base import CandidatePool, MethodResult, register

__all__ = ["rank_within_cell", "ila", "depth", "coverage", "random"]


def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a second, independent-looking key from a hash."""
    z = h.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def rank_within_cell(codes: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """0-based rank of every row inside its cell, ordering a cell's rows by
    ``keys`` (numpy.lexsort convention: the last key is the primary one;
    smaller first). Ties left by the keys go to the earlier row."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((*keys, codes))
    sc = codes[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    sizes = np.diff(np.r_[starts, n])
    rank_sorted = np.arange(n, dtype=np.int64) - np.repeat(starts, sizes)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    return rank


def _cells(pool: CandidatePool) -> tuple[np.ndarray, np.ndarray]:
    """Missing-cell mask and integer codes (sorted cell labels) of all rows."""
    cell = pool.column("cell")
    missing = cell.isna().to_numpy()
    codes = np.full(len(pool), -1, dtype=np.int64)
    if (~missing).any():
        codes[~missing] = pd.factorize(cell[~missing], sort=True)[0]
    return missing, codes


def _round_robin_info(rank: np.ndarray, n_cells: int) -> dict[str, Any]:
    if len(rank) == 0:
        return {"rounds": 0, "cells_in_last_round": 0, "n_cells_eligible": n_cells}
    last = int(rank.max())
    return {
        "rounds": last + 1,
        "cells_in_last_round": int((rank == last).sum()),
        "n_cells_eligible": n_cells,
    }


@register("ila")
def ila(pool: CandidatePool) -> MethodResult:
    """Coverage first, depth inside: round-robin over cells by RID rank.

    Needs columns ``cell`` and ``RID``. Excluded: ``cell_missing``,
    ``rid_missing`` (missing or non-finite RID)."""
    cell_missing, codes = _cells(pool)
    rid = pool.numeric("RID")
    rid_missing = ~np.isfinite(rid) & ~cell_missing
    elig = np.flatnonzero(~cell_missing & ~rid_missing)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    c, r, h = codes[elig], rid[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h, -r)
    order = np.lexsort((h, -r, rank))[:k]
    info.update(_round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(
        indices=elig[order],
        excluded={"cell_missing": int(cell_missing.sum()), "rid_missing": int(rid_missing.sum())},
        info=info,
    )


@register("depth")
def depth(pool: CandidatePool) -> MethodResult:
    """Ablation, depth only: the highest RID first, ignoring cells.

    Needs ``RID``. Excluded: ``rid_missing``."""
    rid = pool.numeric("RID")
    ok = np.isfinite(rid)
    elig = np.flatnonzero(ok)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    order = np.lexsort((pool.hashes()[elig], -rid[elig]))[:k]
    return MethodResult(elig[order], {"rid_missing": int((~ok).sum())}, info)


@register("coverage")
def coverage(pool: CandidatePool) -> MethodResult:
    """Ablation, coverage only: round-robin across cells like ILA, but the
    order inside a cell and inside a round is random (seeded), not by RID.

    Needs ``cell``. Excluded: ``cell_missing``."""
    cell_missing, codes = _cells(pool)
    elig = np.flatnonzero(~cell_missing)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    c, h = codes[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h)
    # A second key for the order inside a round: ordering round r by the same
    # hash that ranked the cells would favour large cells (smaller minima).
    order = np.lexsort((h, _mix64(h), rank))[:k]
    info.update(_round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(elig[order], {"cell_missing": int(cell_missing.sum())}, info)


@register("random")
def random(pool: CandidatePool) -> MethodResult:
    """Uniform random sample without replacement: the candidates with the
    smallest seeded id hashes (so independent of row order)."""
    info: dict[str, Any] = {"n_eligible": len(pool)}
    k = pool.take(len(pool), info)
    order = np.argsort(pool.hashes(), kind="stable")[:k]
    return MethodResult(order, {}, info)
