"""``rds``: RDS-style representation-based selection (cosine to the dev-set mean)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..embedding import embedding_exclusions, unit_rows


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
    return MethodResult(elig[order], embedding_exclusions(reason), info)
