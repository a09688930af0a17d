"""``deita``: Deita (Liu et al. 2024), score-first, diversity-aware selection
(the scores: :mod:`ila.selection.deita_scores` and :mod:`ila.selection.scorers`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..embedding import embedding_exclusions, unit_rows


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
    emb_ex = embedding_exclusions(np.where(score_ok, reason, 0))
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
