"""Baseline selectors: IFD (Cherry data), Deita, greedy k-center (core-set),
facility location, RDS.

Every method receives the candidates sorted by id (see
:mod:`ila.selection.base`) and breaks ties by the seeded id hash, so results
do not depend on the row order of the input.

Embedding-based methods (deita, kcenter, facility, rds) L2-normalise the
embeddings first; a row with a non-finite value or a zero norm is excluded
and counted (``embedding_nonfinite``, ``embedding_zero_norm``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from .base import CandidatePool, MethodResult, register

__all__ = ["ifd", "deita", "kcenter", "facility", "rds", "unit_rows"]

_CHUNK = 1 << 16


def unit_rows(x: np.ndarray, chunk: int = _CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """L2-normalise the rows of ``x`` (float32, chunked).

    Returns (eligible row positions, normalised rows of those, reason per row:
    0 ok, 1 non-finite, 2 zero norm)."""
    n = len(x)
    norms = np.empty(n, dtype=np.float32)
    finite = np.empty(n, dtype=bool)
    for s in range(0, n, chunk):
        xs = x[s : s + chunk]
        finite[s : s + chunk] = np.isfinite(xs).all(axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            norms[s : s + chunk] = np.sqrt(np.einsum("ij,ij->i", xs, xs))
    ok = finite & (norms > 0) & np.isfinite(norms)
    reason = np.where(~finite, 1, np.where(ok, 0, 2)).astype(np.int8)
    elig = np.flatnonzero(ok)
    xn = np.empty((len(elig), x.shape[1]), dtype=np.float32)
    for s in range(0, len(elig), chunk):
        rows = elig[s : s + chunk]
        np.divide(x[rows], norms[rows, None], out=xn[s : s + chunk])
    return elig, xn, reason


def _embedding_exclusions(reason: np.ndarray) -> dict[str, int]:
    return {
        "embedding_nonfinite": int((reason == 1).sum()),
        "embedding_zero_norm": int((reason == 2).sum()),
    }


# --------------------------------------------------------------------------- IFD


@register("ifd")
def ifd(pool: CandidatePool, *, threshold: float | None = 1.0) -> MethodResult:
    """Instruction-Following Difficulty (Cherry data, Li et al. 2024).

    ``IFD = (loss_base / T) / (loss_base_uncond / T_uncond)``: the base
    model's mean per-token loss of the response given the instruction over
    its mean per-token loss of the response alone. Columns: ``loss_base``
    (summed, conditioned), ``T``, ``loss_base_uncond`` (summed, response
    alone), ``T_uncond``. The highest IFD is selected first.

    Excluded, each candidate under its first reason: ``ifd_missing`` (a
    missing or non-finite input), ``ifd_nonpositive_tokens`` (T or T_uncond
    <= 0), ``ifd_nonpositive_uncond_loss`` (loss_base_uncond <= 0: IFD
    undefined), ``ifd_ge_threshold`` (IFD >= ``threshold``: the instruction
    does not help; ``threshold=None`` keeps them)."""
    lb = pool.numeric("loss_base")
    t = pool.numeric("T")
    lu = pool.numeric("loss_base_uncond")
    tu = pool.numeric("T_uncond")
    missing = ~(np.isfinite(lb) & np.isfinite(t) & np.isfinite(lu) & np.isfinite(tu))
    bad_tokens = ~missing & ((t <= 0) | (tu <= 0))
    bad_uncond = ~missing & ~bad_tokens & (lu <= 0)
    valid = ~missing & ~bad_tokens & ~bad_uncond
    score = np.full(len(pool), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        score[valid] = (lb[valid] / t[valid]) / (lu[valid] / tu[valid])
    ge = valid & (score >= threshold) if threshold is not None else np.zeros(len(pool), bool)
    elig = np.flatnonzero(valid & ~ge)
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "threshold": threshold}
    k = pool.take(len(elig), info)
    order = np.lexsort((pool.hashes()[elig], -score[elig]))[:k]
    chosen = elig[order]
    if len(chosen):
        info["ifd_selected_max"] = float(score[chosen].max())
        info["ifd_selected_min"] = float(score[chosen].min())
    return MethodResult(
        chosen,
        {
            "ifd_missing": int(missing.sum()),
            "ifd_nonpositive_tokens": int(bad_tokens.sum()),
            "ifd_nonpositive_uncond_loss": int(bad_uncond.sum()),
            "ifd_ge_threshold": int(ge.sum()),
        },
        info,
    )


# --------------------------------------------------------------------------- Deita


def _deita_score(pool: CandidatePool, name: str, scorer: Any) -> tuple[np.ndarray, Any]:
    if name in pool.candidates.columns:
        return pool.numeric(name), "column"
    if scorer is None:
        raise ValueError(
            f"selection method 'deita' needs a {name!r} column or a {name}_scorer "
            "(ila.selection.scorers.DeitaScorer or ProxyScorer)"
        )
    values = np.asarray(scorer.score(pool.candidates), dtype=np.float64)
    if values.shape != (len(pool),):
        raise ValueError(
            f"{name}_scorer returned shape {values.shape}, expected ({len(pool)},): one score per candidate"
        )
    source = scorer.describe() if hasattr(scorer, "describe") else type(scorer).__name__
    return values, source


@register("deita")
def deita(
    pool: CandidatePool,
    *,
    similarity_threshold: float = 0.9,
    complexity_scorer: Any = None,
    quality_scorer: Any = None,
    block_size: int = 256,
) -> MethodResult:
    """Deita (Liu et al. 2024), score-first, diversity-aware selection.

    score = complexity x quality (columns ``complexity`` and ``quality`` if
    present, else from ``complexity_scorer`` / ``quality_scorer``: objects
    with ``score(candidates) -> array``, see :mod:`ila.selection.scorers`).
    Walk the candidates by score, highest first; accept one unless its cosine
    similarity to its nearest already-accepted example exceeds
    ``similarity_threshold`` (Deita's filter rejects ``sim > threshold``), in
    which case it is counted as ``too_similar``; stop at the budget. The walk
    is exact and sequential (Deita's ``batch_size=1``), computed in blocks of
    ``block_size`` with matrix products.

    Excluded: ``score_missing`` (non-finite complexity or quality),
    ``embedding_*``, ``too_similar`` (candidates examined and rejected before
    the budget was met; candidates never reached are not counted). If fewer
    than the budget pass the filter, a ValueError is raised unless
    ``allow_short``."""
    emb = pool.require_embeddings()
    if not (-1.0 <= similarity_threshold <= 1.0):
        raise ValueError(f"similarity_threshold must be a cosine in [-1, 1], got {similarity_threshold}")
    if block_size < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    complexity, c_src = _deita_score(pool, "complexity", complexity_scorer)
    quality, q_src = _deita_score(pool, "quality", quality_scorer)
    score = complexity * quality
    score_ok = np.isfinite(score)
    emb_rows, xn_all, reason = unit_rows(emb)
    emb_ok = reason == 0
    excluded = {"score_missing": int((~score_ok).sum())}
    emb_ex = _embedding_exclusions(np.where(score_ok, reason, 0))
    excluded.update(emb_ex)
    # position of each candidate row inside xn_all
    pos = np.full(len(pool), -1, dtype=np.int64)
    pos[emb_rows] = np.arange(len(emb_rows))
    elig = np.flatnonzero(score_ok & emb_ok)
    info: dict[str, Any] = {
        "n_eligible": int(len(elig)),
        "similarity_threshold": similarity_threshold,
        "complexity_source": c_src,
        "quality_source": q_src,
    }
    k = pool.take(len(elig), info)
    walk = elig[np.lexsort((pool.hashes()[elig], -score[elig]))]
    d = xn_all.shape[1]
    accepted_vecs = np.empty((k, d), dtype=np.float32)
    accepted: list[int] = []
    too_similar = 0
    walked = 0
    for start in range(0, len(walk), block_size):
        if len(accepted) >= k:
            break
        rows = walk[start : start + block_size]
        block = xn_all[pos[rows]]
        n_prev = len(accepted)
        if n_prev:
            prev_max = (block @ accepted_vecs[:n_prev].T).max(axis=1)
        else:
            prev_max = np.full(len(rows), -np.inf, dtype=np.float32)
        intra = block @ block.T
        local: list[int] = []
        for j in range(len(rows)):
            walked += 1
            sim = prev_max[j]
            if local:
                sim = max(sim, intra[j, local].max())
            if sim > similarity_threshold:
                too_similar += 1
                continue
            accepted_vecs[len(accepted)] = block[j]
            accepted.append(int(rows[j]))
            local.append(j)
            if len(accepted) >= k:
                break
    excluded["too_similar"] = too_similar
    info["n_walked"] = walked
    if len(accepted) < k:
        if not pool.allow_short:
            raise ValueError(
                f"selection method 'deita': only {len(accepted)} of {len(elig)} eligible candidates "
                f"pass the diversity filter (similarity <= {similarity_threshold}; {too_similar} too "
                f"similar), fewer than the budget {pool.budget}; raise similarity_threshold, lower the "
                "budget, or pass allow_short=True"
            )
        info["short_by"] = int(pool.budget - len(accepted))
    chosen = np.asarray(accepted, dtype=np.int64)
    if len(chosen):
        info["score_selected_min"] = float(score[chosen].min())
        info["score_selected_max"] = float(score[chosen].max())
    return MethodResult(chosen, excluded, info)


# --------------------------------------------------------------------------- k-center


def _sample_steps(k: int, points: int) -> np.ndarray:
    if k <= points:
        return np.arange(k)
    return np.unique(np.round(np.linspace(0, k - 1, points)).astype(np.int64))


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
    steps = _sample_steps(k, max(2, int(radius_points)))
    info["radius_steps"] = (steps + 1).tolist()
    info["radius"] = radius[steps].tolist()
    info["radius_final"] = float(radius[-1]) if k else None
    return MethodResult(elig[chosen], _embedding_exclusions(reason), info)


# --------------------------------------------------------------------------- facility location


def knn_similarity(xn: np.ndarray, n_neighbors: int, query_chunk: int = _CHUNK):
    """Sparse k-NN cosine similarity of unit rows: faiss IndexFlatIP (exact),
    ``n_neighbors`` per row (the row itself included), clipped at 0 (zeros
    dropped), as a scipy CSR float64 matrix with int32 indices."""
    import faiss
    from scipy.sparse import csr_matrix

    n, d = xn.shape
    kk = min(int(n_neighbors), n)
    index = faiss.IndexFlatIP(d)
    index.add(np.ascontiguousarray(xn))
    sims = np.empty((n, kk), dtype=np.float32)
    nbrs = np.empty((n, kk), dtype=np.int64)
    for s in range(0, n, query_chunk):
        e = min(n, s + query_chunk)
        sims[s:e], nbrs[s:e] = index.search(np.ascontiguousarray(xn[s:e]), kk)
    keep = (nbrs >= 0) & (sims > 0)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    if indptr[-1] >= np.iinfo(np.int32).max:
        raise ValueError(f"k-NN graph has {indptr[-1]} edges: too many for int32 indices")
    mat = csr_matrix(
        (
            sims[keep].astype(np.float64),
            nbrs[keep].astype(np.int32),
            indptr.astype(np.int32),
        ),
        shape=(n, n),
    )
    mat.indices = mat.indices.astype(np.int32, copy=False)
    mat.indptr = mat.indptr.astype(np.int32, copy=False)
    return mat


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
        steps = _sample_steps(k, max(2, int(gain_points)))
        info["gain_steps"] = (steps + 1).tolist()
        info["gain"] = gains[steps].tolist()
        info["objective"] = float(gains.sum())
    return MethodResult(elig[chosen], _embedding_exclusions(reason), info)


# --------------------------------------------------------------------------- RDS


@register("rds")
def rds(pool: CandidatePool) -> MethodResult:
    """RDS-style representation-based selection: cosine similarity of each
    candidate embedding to the mean of the L2-normalised dev-set embeddings;
    the most similar first. Needs ``dev_embeddings`` (same dimension); a dev
    row that is non-finite or has a zero norm is an error."""
    emb = pool.require_embeddings()
    dev = pool.dev_embeddings
    if dev is None or len(dev) == 0:
        raise ValueError("selection method 'rds' needs dev_embeddings (the dev-set embeddings, (m, d))")
    if dev.shape[1] != emb.shape[1]:
        raise ValueError(
            f"dev_embeddings have dimension {dev.shape[1]} but candidate embeddings {emb.shape[1]}"
        )
    dev_rows, dev_n, dev_reason = unit_rows(dev)
    if len(dev_rows) != len(dev):
        raise ValueError(
            f"dev_embeddings: {int((dev_reason == 1).sum())} non-finite and "
            f"{int((dev_reason == 2).sum())} zero-norm rows"
        )
    centre = dev_n.astype(np.float64).mean(axis=0)
    norm = float(np.linalg.norm(centre))
    if not norm > 1e-12:
        raise ValueError("rds: the mean dev embedding has (near) zero norm; cosine to it is undefined")
    centre = (centre / norm).astype(np.float32)
    elig, xn, reason = unit_rows(emb)
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "n_dev": int(len(dev))}
    k = pool.take(len(elig), info)
    score = xn @ centre
    order = np.lexsort((pool.hashes()[elig], -score))[:k]
    if len(order):
        info["cosine_selected_min"] = float(score[order].min())
        info["cosine_selected_max"] = float(score[order].max())
    return MethodResult(elig[order], _embedding_exclusions(reason), info)
