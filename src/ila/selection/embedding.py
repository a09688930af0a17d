"""Helpers of the embedding-based selectors (deita, kcenter, facility, rds):
L2-normalised rows with counted exclusions (``embedding_nonfinite``,
``embedding_zero_norm``), sampled step indices, a sparse k-NN similarity."""

from __future__ import annotations

import numpy as np


CHUNK = 1 << 16


def unit_rows(x: np.ndarray, chunk: int = CHUNK) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def embedding_exclusions(reason: np.ndarray) -> dict[str, int]:
    return {
        "embedding_nonfinite": int((reason == 1).sum()),
        "embedding_zero_norm": int((reason == 2).sum()),
    }


def sample_steps(k: int, points: int) -> np.ndarray:
    if k <= points:
        return np.arange(k)
    return np.unique(np.round(np.linspace(0, k - 1, points)).astype(np.int64))


def knn_similarity(xn: np.ndarray, n_neighbors: int, query_chunk: int = CHUNK):
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
