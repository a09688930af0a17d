"""``ila-tilt`` (knob kappa): round-robin over cells (uniform quotas) or
quotas proportional to cell size; inside a cell the candidates are drawn
without replacement with P(x) proportional to exp(kappa * RID)
(Gumbel-top-k on the seeded id hash): kappa = 0 is stratified random,
kappa = inf is round-robin top-RID."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..cells import eligible_cells_rid, gumbel, parse_kappa, proportional_quotas, rank_within_cell


def _tilt_order(c: np.ndarray, r: np.ndarray, h: np.ndarray, kappa: float, k: int, quotas: str) -> np.ndarray:
    """Positions (into the eligible rows) of a tilted selection of ``k``."""
    if math.isinf(kappa):
        key = r
    elif kappa == 0:
        key = gumbel(h)
    else:
        key = kappa * r + gumbel(h)
    rank = rank_within_cell(c, h, -key)
    if quotas == "uniform":
        return np.lexsort((h, -key, rank))[:k]
    if quotas != "proportional":
        raise ValueError(f"ila-tilt quotas must be 'uniform' or 'proportional', got {quotas!r}")
    quota = proportional_quotas(c, k)
    keep = np.flatnonzero(rank < quota[c])
    order = keep[np.lexsort((h[keep], -key[keep], rank[keep]))]
    if len(order) < k:  # cells capped at their size: the rest round-robin from what is left
        rest = np.setdiff1d(np.arange(len(c)), order)
        order = np.r_[order, rest[np.lexsort((h[rest], -key[rest], rank[rest]))][: k - len(order)]]
    return order[:k]


@register("ila-tilt")
def tilt(pool: CandidatePool, *, kappa=1.0, quotas: str = "uniform") -> MethodResult:
    """Cell quotas (uniform round-robin, or proportional to cell size),
    inside a cell P(x) proportional to exp(kappa * RID) without replacement
    (Gumbel-top-k). kappa 0: stratified random; "inf": round-robin top-RID.

    Needs ``cell`` and ``RID``. Excluded: ``cell_missing``, ``rid_missing``."""
    kappa = parse_kappa(kappa)
    elig, codes, rid, excluded = eligible_cells_rid(pool)
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "kappa": "inf" if math.isinf(kappa) else kappa}
    k = pool.take(len(elig), info)
    c, r, h = codes[elig], rid[elig], pool.hashes()[elig]
    order = _tilt_order(c, r, h, kappa, k, quotas)
    return MethodResult(indices=elig[order], excluded=excluded, info=info)
