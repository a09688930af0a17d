"""``ila-band`` (knob: an RID window [lo, hi]): round-robin over cells
drawing, in a seeded random order, only candidates whose RID lies in the
window ("drop the shallow third" is [1/3, 1])."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..cells import eligible_cells_rid, mix64, parse_window, rank_within_cell, round_robin_info


@register("ila-band")
def band(pool: CandidatePool, *, window=(1 / 3, 1.0)) -> MethodResult:
    """Round-robin over cells, drawing (in a seeded random order) only
    candidates whose RID lies in ``window`` = [lo, hi].

    Needs ``cell`` and ``RID``. Excluded: ``cell_missing``, ``rid_missing``,
    ``outside_window``."""
    lo, hi = parse_window(window)
    elig, codes, rid, excluded = eligible_cells_rid(pool)
    inside = (rid[elig] >= lo) & (rid[elig] <= hi)
    excluded["outside_window"] = int((~inside).sum())
    elig = elig[inside]
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "window": [lo, hi]}
    k = pool.take(len(elig), info)
    c, h = codes[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h)
    order = np.lexsort((h, mix64(h), rank))[:k]
    info.update(round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(indices=elig[order], excluded=excluded, info=info)
