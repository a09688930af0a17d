"""``kcenter``: the greedy core-set, against a naive greedy and on
well-separated clusters; its radius curve and counted bad embeddings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ila.selection import select

from ..pools import clusters, sha_key


def test_kcenter_one_centre_per_cluster_and_radius_non_increasing():
    df, x, lab = clusters(k=5, per=40)
    sel = select("kcenter", df, 5, seed=3, embeddings=x)
    picked = df.set_index("id").loc[sel.ids, "cluster"].tolist()
    assert sorted(picked) == [0, 1, 2, 3, 4]
    # first centre: the smallest seeded hash
    assert sel.ids[0] == min(df["id"], key=lambda i: sha_key(3, i))
    r = sel.info["radius"]
    assert len(r) == 5 and sel.info["radius_steps"] == [1, 2, 3, 4, 5]
    assert all(b <= a for a, b in zip(r, r[1:]))
    assert r[3] > 1.0 > 0.2 > r[4]  # one cluster uncovered (~sqrt 2) until the fifth centre


def test_kcenter_matches_naive_greedy_and_brute_force_radius():
    rng = np.random.default_rng(2)
    n, d, k = 300, 6, 25
    x = rng.standard_normal((n, d)).astype(np.float32)
    df = pd.DataFrame({"id": [f"k{i:03d}" for i in range(n)]})
    sel = select("kcenter", df, k, seed=1, embeddings=x, chunk_rows=64)
    xn = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float64)
    first = min(range(n), key=lambda i: sha_key(1, df["id"][i]))
    chosen = [first]
    dist = np.linalg.norm(xn - xn[first], axis=1)
    radii = []
    for _ in range(k):
        radii.append(dist.max())
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, np.linalg.norm(xn - xn[nxt], axis=1))
    assert sel.ids == [df["id"][i] for i in chosen[:k]]
    assert np.allclose(sel.info["radius"], radii, atol=1e-5)
    r = sel.info["radius"]
    assert all(b <= a for a, b in zip(r, r[1:])) and sel.info["radius_final"] == r[-1]


def test_kcenter_radius_is_sampled_when_long_and_bad_embeddings_counted():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 4)).astype(np.float32)
    x[3] = np.nan
    x[7] = 0.0
    df = pd.DataFrame({"id": [f"s{i:03d}" for i in range(200)]})
    sel = select("kcenter", df, 150, seed=0, embeddings=x, radius_points=10)
    assert sel.excluded == {"embedding_nonfinite": 1, "embedding_zero_norm": 1}
    assert "s003" not in sel.ids and "s007" not in sel.ids
    steps = sel.info["radius_steps"]
    assert len(steps) == 10 and steps[0] == 1 and steps[-1] == 150
    assert all(b <= a for a, b in zip(sel.info["radius"], sel.info["radius"][1:]))
    with pytest.raises(ValueError, match="exceeds the 198 eligible"):
        select("kcenter", df, 199, seed=0, embeddings=x)
    with pytest.raises(ValueError, match="needs `embeddings`"):
        select("kcenter", df, 1, seed=0)
