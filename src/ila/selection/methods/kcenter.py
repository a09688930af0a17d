"""``kcenter``: greedy k-center (core-set, Sener & Savarese 2018)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..embedding import embedding_exclusions, sample_steps, unit_rows


@register("kcenter")
def kcenter(pool: CandidatePool, *, chunk_rows: int = 1 << 18, radius_points: int = 1000) -> MethodResult:
    """Greedy k-center (core-set, Sener & Savarese 2018) on L2-normalised
    embeddings with euclidean distance.

    The first centre is the eligible candidate with the smallest seeded id
    hash; each next centre is the candidate farthest from its nearest centre
    (ties: the smaller id). Keeps a float32 vector of squared distances to
    the nearest centre, updated in chunks of ``chunk_rows``: O(N * budget).

    info: ``radius`` = covering radius (max distance of any eligible candidate
    to its nearest centre) after each step, at the steps ``radius_steps``
    (number of centres; every step when budget <= ``radius_points``, else
    ``radius_points`` evenly spaced steps including the first and last).
    Non-increasing by construction."""
    emb = pool.require_embeddings()
    elig, xn, reason = unit_rows(emb)
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "distance": "euclidean on L2-normalised embeddings"}
    k = pool.take(len(elig), info)
    n = len(elig)
    chosen = np.empty(k, dtype=np.int64)
    radius = np.empty(k, dtype=np.float64)
    if k:
        chunk_rows = max(1, int(chunk_rows))
        min_d2 = np.full(n, np.inf, dtype=np.float32)
        buf = np.empty(min(chunk_rows, n), dtype=np.float32)
        cur = int(np.argmin(pool.hashes()[elig]))
        for step in range(k):
            chosen[step] = cur
            c = xn[cur]
            for s in range(0, n, chunk_rows):
                e = min(n, s + chunk_rows)
                b = buf[: e - s]
                np.dot(xn[s:e], c, out=b)
                b *= -2.0
                b += 2.0
                np.minimum(min_d2[s:e], b, out=min_d2[s:e])
            min_d2[cur] = -1.0  # a centre is never chosen again
            cur = int(np.argmax(min_d2))
            radius[step] = math.sqrt(max(float(min_d2[cur]), 0.0))
    steps = sample_steps(k, max(2, int(radius_points)))
    info["radius_steps"] = (steps + 1).tolist()
    info["radius"] = radius[steps].tolist()
    info["radius_final"] = float(radius[-1]) if k else None
    return MethodResult(elig[chosen], embedding_exclusions(reason), info)
