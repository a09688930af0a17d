"""``depth``, the depth-only ablation of ILA: the highest RID first, ignoring cells."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register


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
