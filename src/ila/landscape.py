"""The information landscape: 2-D projection, cells, and coverage.

Coverage of a set (METHOD.md): the number of non-empty cells it reaches,
reported as a fraction of all cells (``coverage_grid``) and as a fraction of
the cells the whole candidate pool occupies (``coverage_occupied``, the one
the regression uses).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Coverage:
    cells: int  # non-empty cells reached by the set
    total_cells: int  # all cells of the landscape (G*G for a grid, k for k-means)
    occupied_cells: int  # cells occupied by the whole candidate pool

    @property
    def grid(self) -> float:
        return self.cells / self.total_cells if self.total_cells else 0.0

    @property
    def occupied(self) -> float:
        return self.cells / self.occupied_cells if self.occupied_cells else 0.0

    def as_dict(self) -> dict:
        return {
            "cells": self.cells,
            "coverage_grid": self.grid,
            "coverage_occupied": self.occupied,
        }


def coverage(set_cells: Iterable[int], total_cells: int, occupied_cells: int) -> Coverage:
    """Coverage of a set given the cells of its members."""
    reached = len(set(int(c) for c in set_cells))
    if reached > occupied_cells:
        raise ValueError(
            f"set reaches {reached} cells but the pool occupies only {occupied_cells}: "
            "the set's cells do not come from this landscape"
        )
    return Coverage(reached, int(total_cells), int(occupied_cells))


def grid_cells(xy: np.ndarray, grid_size: int) -> tuple[np.ndarray, dict]:
    """Uniform G x G grid over the bounding box of the 2-D points.

    Returns the cell index of every point (row-major: ``row * G + col``, row
    from y, col from x) and the grid geometry. Points on the upper edge fall
    in the last cell."""
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"expected an (n, 2) array of 2-D points, got shape {xy.shape}")
    if grid_size < 1:
        raise ValueError(f"grid size must be >= 1, got {grid_size}")
    lo = xy.min(axis=0)
    hi = xy.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    frac = (xy - lo) / span
    idx = np.minimum((frac * grid_size).astype(np.int64), grid_size - 1)
    cells = idx[:, 1] * grid_size + idx[:, 0]
    geometry = {
        "grid_size": int(grid_size),
        "x_min": float(lo[0]),
        "x_max": float(hi[0]),
        "y_min": float(lo[1]),
        "y_max": float(hi[1]),
        "cell_width": float(span[0] / grid_size),
        "cell_height": float(span[1] / grid_size),
    }
    return cells, geometry


def project_2d(
    embeddings: np.ndarray,
    method: str = "tsne",
    pca_dims: int = 50,
    perplexity: float = 30.0,
    backend: str = "opentsne",
    n_iter: int = 750,
    seed: int = 0,
    threads: int = 1,
) -> np.ndarray:
    """2-D map of the embeddings: PCA to `pca_dims` first (METHOD.md), then
    t-SNE (openTSNE or scikit-learn) or plain PCA to 2-D.

    t-SNE output is bit-identical run to run only with the thread count held
    fixed, so `threads` is part of the result's identity."""
    from sklearn.decomposition import PCA

    x = np.asarray(embeddings, dtype=np.float32)
    n, d = x.shape
    if n < 3:
        raise ValueError(f"need at least 3 points to project, got {n}")
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(x).astype(np.float64)
    if method != "tsne":
        raise ValueError(f"unknown projection method {method!r} (expected 'tsne' or 'pca')")
    k = min(pca_dims, d, n - 1)
    reduced = PCA(n_components=k, random_state=seed).fit_transform(x).astype(np.float64)
    perplexity = float(min(perplexity, max(2.0, (n - 1) / 3.0)))
    if backend == "opentsne":
        from openTSNE import TSNE

        emb = TSNE(
            n_components=2,
            perplexity=perplexity,
            n_iter=n_iter,
            initialization="pca",
            metric="euclidean",
            n_jobs=threads,
            random_state=seed,
            verbose=False,
        ).fit(reduced)
        return np.asarray(emb, dtype=np.float64)
    if backend == "sklearn":
        from sklearn.manifold import TSNE

        return TSNE(
            n_components=2,
            perplexity=perplexity,
            max_iter=n_iter,
            init="pca",
            random_state=seed,
            n_jobs=threads,
        ).fit_transform(reduced).astype(np.float64)
    raise ValueError(f"unknown t-SNE backend {backend!r} (expected 'opentsne' or 'sklearn')")


def kmeans_cells(
    embeddings: np.ndarray, k: int, seed: int = 0, backend: str = "sklearn", threads: int = 1
) -> np.ndarray:
    """Cells as k-means clusters in the full embedding space (the metric
    alternative to t-SNE grid cells). Returns the cluster of every row."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    n = len(x)
    if not 1 <= k <= n:
        raise ValueError(f"k-means needs 1 <= k <= number of points ({n}), got k={k}")
    if backend == "faiss":
        import faiss

        faiss.omp_set_num_threads(threads)
        km = faiss.Kmeans(x.shape[1], k, niter=25, seed=seed, verbose=False, spherical=False)
        km.train(x)
        _, labels = km.index.search(x, 1)
        return labels[:, 0].astype(np.int64)
    if backend == "sklearn":
        from sklearn.cluster import KMeans, MiniBatchKMeans

        if n > 50_000:
            model = MiniBatchKMeans(n_clusters=k, random_state=seed, n_init=3, batch_size=4096)
        else:
            model = KMeans(n_clusters=k, random_state=seed, n_init=3)
        return model.fit_predict(x).astype(np.int64)
    raise ValueError(f"unknown k-means backend {backend!r} (expected 'sklearn' or 'faiss')")
