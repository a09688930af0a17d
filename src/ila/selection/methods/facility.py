"""``facility``: facility location (apricot-select, lazy greedy)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..embedding import embedding_exclusions, knn_similarity, sample_steps, unit_rows


@register("facility")
def facility(
    pool: CandidatePool,
    *,
    dense_max_rows: int = 20000,
    n_neighbors: int = 50,
    optimizer: str = "lazy",
    gain_points: int = 1000,
) -> MethodResult:
    """Facility location (apricot-select ``FacilityLocationSelection``,
    lazy greedy) over cosine similarity clipped at 0.

    Up to ``dense_max_rows`` eligible candidates: the dense n x n similarity
    (apricot holds it as float64: 20k rows ~ 5 GB). Above: a sparse exact
    k-NN similarity (:func:`knn_similarity`, ``n_neighbors`` per row) with
    ``metric="precomputed"``. The similarity is always computed here: apricot's
    own ``metric="cosine"`` scores cos^2. Deterministic (lazy greedy, ties to
    the smaller id). info: path, edges, the marginal gain of each step
    (sampled to ``gain_points``), build and optimisation seconds."""
    from apricot import FacilityLocationSelection

    emb = pool.require_embeddings()
    elig, xn, reason = unit_rows(emb)
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "similarity": "cosine clipped at 0"}
    k = pool.take(len(elig), info)
    n = len(elig)
    chosen = np.zeros(0, dtype=np.int64)
    if k:
        t0 = time.perf_counter()
        if n <= dense_max_rows:
            sim = xn @ xn.T
            np.maximum(sim, 0.0, out=sim)
            sim = sim.astype(np.float64)
            info["path"] = "dense"
            info["edges"] = int(n) * int(n)
        else:
            sim = knn_similarity(xn, n_neighbors)
            info["path"] = "sparse_knn"
            info["n_neighbors"] = int(n_neighbors)
            info["edges"] = int(sim.nnz)
        info["build_seconds"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        selector = FacilityLocationSelection(
            n_samples=k, metric="precomputed", optimizer=optimizer, random_state=pool.seed, verbose=False
        )
        selector.fit(sim)
        info["optimize_seconds"] = time.perf_counter() - t1
        chosen = np.asarray(selector.ranking, dtype=np.int64)
        gains = np.asarray(selector.gains, dtype=np.float64)
        if len(chosen) != k:
            raise RuntimeError(f"facility location returned {len(chosen)} of {k} selections")
        steps = sample_steps(k, max(2, int(gain_points)))
        info["gain_steps"] = (steps + 1).tolist()
        info["gain"] = gains[steps].tolist()
        info["objective"] = float(gains.sum())
    return MethodResult(elig[chosen], embedding_exclusions(reason), info)
