"""``facility``: greedy facility location, dense and sparse k-NN, against a
naive greedy and on well-separated clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ila.selection import select

from ..pools import clusters


def _naive_facility(x: np.ndarray, k: int) -> list[int]:
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = np.maximum(xn @ xn.T, 0.0).astype(np.float64)
    cur = np.zeros(len(x))
    chosen: list[int] = []
    for _ in range(k):
        gains = np.maximum(s, cur[None, :]).sum(axis=1) - cur.sum()
        gains[chosen] = -np.inf
        i = int(np.argmax(gains))
        chosen.append(i)
        cur = np.maximum(cur, s[i])
    return chosen


def test_facility_matches_naive_greedy_on_tiny_input():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((40, 5)).astype(np.float32)
    df = pd.DataFrame({"id": [f"f{i:02d}" for i in range(40)]})
    sel = select("facility", df, 6, seed=0, embeddings=x)
    assert sel.info["path"] == "dense"
    assert sel.ids == [f"f{i:02d}" for i in _naive_facility(x, 6)]
    # the sparse k-NN path with every neighbour kept is the same function
    sparse = select("facility", df, 6, seed=0, embeddings=x, dense_max_rows=0, n_neighbors=40)
    assert sparse.info["path"] == "sparse_knn" and sparse.ids == sel.ids
    assert np.all(np.diff(sel.info["gain"]) <= 1e-9)  # diminishing returns


@pytest.mark.parametrize("dense_max_rows", [10_000, 0])
def test_facility_one_per_cluster(dense_max_rows):
    df, x, lab = clusters(k=4, per=30, seed=1)
    sel = select("facility", df, 4, seed=0, embeddings=x, dense_max_rows=dense_max_rows, n_neighbors=20)
    picked = df.set_index("id").loc[sel.ids, "cluster"].tolist()
    assert sorted(picked) == [0, 1, 2, 3]
