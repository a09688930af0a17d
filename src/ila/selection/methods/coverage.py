"""``coverage``, the coverage-only ablation of ILA: round-robin across cells,
a seeded random order inside a cell and inside a round."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..cells import cell_codes, mix64, rank_within_cell, round_robin_info


@register("coverage")
def coverage(pool: CandidatePool) -> MethodResult:
    """Ablation, coverage only: round-robin across cells like ILA, but the
    order inside a cell and inside a round is random (seeded), not by RID.

    Needs ``cell``. Excluded: ``cell_missing``."""
    cell_missing, codes = cell_codes(pool)
    elig = np.flatnonzero(~cell_missing)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    c, h = codes[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h)
    # A second key for the order inside a round: ordering round r by the same
    # hash that ranked the cells would favour large cells (smaller minima).
    order = np.lexsort((h, mix64(h), rank))[:k]
    info.update(round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(elig[order], {"cell_missing": int(cell_missing.sum())}, info)
