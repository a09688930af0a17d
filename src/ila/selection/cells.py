"""Helpers of the cell-based selectors (ILA's families, coverage): cell codes,
ranks inside a cell, round-robin bookkeeping, seeded keys from the id hash,
and the knobs' parsers. Every tie is broken by the seeded id hash
(:func:`ila.selection.base.seeded_hash`), then by the id."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .base import CandidatePool


def mix64(h: np.ndarray) -> np.ndarray:
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


def cell_codes(pool: CandidatePool) -> tuple[np.ndarray, np.ndarray]:
    """Missing-cell mask and integer codes (sorted cell labels) of all rows."""
    cell = pool.column("cell")
    missing = cell.isna().to_numpy()
    codes = np.full(len(pool), -1, dtype=np.int64)
    if (~missing).any():
        codes[~missing] = pd.factorize(cell[~missing], sort=True)[0]
    return missing, codes


def round_robin_info(rank: np.ndarray, n_cells: int) -> dict[str, Any]:
    if len(rank) == 0:
        return {"rounds": 0, "cells_in_last_round": 0, "n_cells_eligible": n_cells}
    last = int(rank.max())
    return {
        "rounds": last + 1,
        "cells_in_last_round": int((rank == last).sum()),
        "n_cells_eligible": n_cells,
    }


def parse_kappa(kappa) -> float:
    """A tilt strength: a non-negative number, or "inf" (round-robin top-RID)."""
    if isinstance(kappa, str):
        if kappa.strip().lower() in ("inf", "infinity"):
            return math.inf
        raise ValueError(f"kappa must be a non-negative number or 'inf', got {kappa!r}")
    k = float(kappa)
    if not k >= 0:
        raise ValueError(f"kappa must be a non-negative number or 'inf', got {kappa!r}")
    return k


def gumbel(h: np.ndarray) -> np.ndarray:
    """A standard Gumbel draw per candidate from its seeded hash."""
    u = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    return -np.log(-np.log(u))


def eligible_cells_rid(pool: CandidatePool):
    cell_missing, codes = cell_codes(pool)
    rid = pool.numeric("RID")
    rid_missing = ~np.isfinite(rid) & ~cell_missing
    elig = np.flatnonzero(~cell_missing & ~rid_missing)
    excluded = {"cell_missing": int(cell_missing.sum()), "rid_missing": int(rid_missing.sum())}
    return elig, codes, rid, excluded


def proportional_quotas(codes: np.ndarray, k: int) -> np.ndarray:
    """Per cell code, its share of ``k`` proportional to its size (largest
    remainder; ties to the smaller code), capped at the cell's size."""
    sizes = np.bincount(codes)
    raw = sizes * (k / sizes.sum())
    quota = np.floor(raw).astype(np.int64)
    left = k - int(quota.sum())
    order = np.lexsort((np.arange(len(sizes)), -(raw - quota)))
    quota[order[:left]] += 1
    return np.minimum(quota, sizes)


def parse_window(window) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in window)
    except (TypeError, ValueError):
        raise ValueError(f"an RID window is [lo, hi], got {window!r}") from None
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"an RID window needs 0 <= lo < hi <= 1, got {window!r}")
    return lo, hi
