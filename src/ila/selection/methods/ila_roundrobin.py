"""``ila-roundrobin``, the first reading of ILA: group the candidates by cell;
inside a cell order them by RID, highest first; take them round-robin
across cells (rank 1 of every cell, then rank 2, ...) until the budget is
met; inside one round the cell whose candidate has the higher RID goes
first."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..cells import cell_codes, rank_within_cell, round_robin_info


@register("ila-roundrobin")
def roundrobin(pool: CandidatePool) -> MethodResult:
    """Coverage first, depth inside: round-robin over cells by RID rank.

    Needs columns ``cell`` and ``RID``. Excluded: ``cell_missing``,
    ``rid_missing`` (missing or non-finite RID)."""
    cell_missing, codes = cell_codes(pool)
    rid = pool.numeric("RID")
    rid_missing = ~np.isfinite(rid) & ~cell_missing
    elig = np.flatnonzero(~cell_missing & ~rid_missing)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    c, r, h = codes[elig], rid[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h, -r)
    order = np.lexsort((h, -r, rank))[:k]
    info.update(round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(
        indices=elig[order],
        excluded={"cell_missing": int(cell_missing.sum()), "rid_missing": int(rid_missing.sum())},
        info=info,
    )
