"""``random``: uniform random sample without replacement, by the seeded id hash."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register


@register("random")
def random(pool: CandidatePool) -> MethodResult:
    """Uniform random sample without replacement: the candidates with the
    smallest seeded id hashes (so independent of row order)."""
    info: dict[str, Any] = {"n_eligible": len(pool)}
    k = pool.take(len(pool), info)
    order = np.argsort(pool.hashes(), kind="stable")[:k]
    return MethodResult(order, {}, info)
