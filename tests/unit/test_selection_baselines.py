"""Baseline selectors (IFD, Deita, k-center, facility location, RDS) on
hand-made inputs with known answers, and order independence of every
registered method."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ila.selection import METHODS, select
from ila.selection.scorers import ProxyScorer


def sha_key(seed: int, i: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big")


def clusters(k=5, per=40, dim=16, spread=0.02, seed=0):
    """k well-separated clusters on the unit sphere (orthogonal centres)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim, dtype=np.float32)[:k]
    lab = np.repeat(np.arange(k), per)
    x = centres[lab] + spread * rng.standard_normal((k * per, dim)).astype(np.float32)
    ids = [f"e{i:04d}" for i in range(k * per)]
    return pd.DataFrame({"id": ids, "cluster": lab}), x.astype(np.float32), lab


# --------------------------------------------------------------------------- IFD


def ifd_frame() -> pd.DataFrame:
    rows = [
        # id, loss_base, T, loss_base_uncond, T_uncond  -> IFD
        ("a", 2.0, 2, 4.0, 2),  # 1.0 / 2.0 = 0.5
        ("b", 3.0, 1, 6.0, 3),  # 3.0 / 2.0 = 1.5  (>= 1: excluded)
        ("c", 1.0, 1, 1.0, 1),  # 1.0            (>= 1: excluded)
        ("d", 0.9, 1, 1.0, 1),  # 0.9
        ("e", np.nan, 1, 1.0, 1),  # missing
        ("f", 1.0, 0, 1.0, 1),  # no tokens
        ("g", 1.0, 1, 0.0, 1),  # uncond loss 0: undefined
        ("h", 1.0, 4, 1.0, 1),  # 0.25
    ]
    return pd.DataFrame(rows, columns=["id", "loss_base", "T", "loss_base_uncond", "T_uncond"])


def test_ifd_selects_highest_below_threshold_and_counts_exclusions():
    sel = select("ifd", ifd_frame(), 3, seed=0)
    assert sel.ids == ["d", "a", "h"]
    assert sel.excluded == {
        "ifd_missing": 1,
        "ifd_nonpositive_tokens": 1,
        "ifd_nonpositive_uncond_loss": 1,
        "ifd_ge_threshold": 2,
    }
    assert sel.info["ifd_selected_max"] == pytest.approx(0.9)
    assert sel.info["ifd_selected_min"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="budget 4 exceeds the 3 eligible"):
        select("ifd", ifd_frame(), 4, seed=0)
    open_ = select("ifd", ifd_frame(), 5, seed=0, threshold=None)
    assert open_.ids == ["b", "c", "d", "a", "h"] and open_.excluded["ifd_ge_threshold"] == 0
    strict = select("ifd", ifd_frame(), 1, seed=0, threshold=0.6)
    assert strict.ids == ["a"] and strict.excluded["ifd_ge_threshold"] == 3


# --------------------------------------------------------------------------- Deita


def deita_case():
    e = np.eye(4, dtype=np.float32)
    near = np.array([0.99, np.sqrt(1 - 0.99**2), 0, 0], dtype=np.float32)  # cos(a, b) = 0.99
    emb = np.stack([e[0], near, e[2], e[3], e[1]])
    df = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d", "z"],
            "complexity": [6.0, 5.0, 4.0, 2.0, np.nan],
            "quality": [5.0, 5.0, 5.0, 5.0, 5.0],
        }
    )
    return df, emb


def test_deita_rejects_near_duplicate_and_counts_it():
    df, emb = deita_case()
    sel = select("deita", df, 3, seed=0, embeddings=emb)
    assert sel.ids == ["a", "c", "d"]
    assert sel.excluded["too_similar"] == 1 and sel.excluded["score_missing"] == 1
    assert sel.info["n_walked"] == 4
    loose = select("deita", df, 3, seed=0, embeddings=emb, similarity_threshold=0.995)
    assert loose.ids == ["a", "b", "c"] and loose.excluded["too_similar"] == 0
    with pytest.raises(ValueError, match="only 3 of 4 eligible candidates pass the diversity filter"):
        select("deita", df, 4, seed=0, embeddings=emb)
    short = select("deita", df, 4, seed=0, embeddings=emb, allow_short=True)
    assert short.ids == ["a", "c", "d"] and short.info["short_by"] == 1


def _naive_deita(score, xn, budget, thr):
    order = sorted(range(len(score)), key=lambda i: -score[i])
    chosen = []
    for i in order:
        if chosen and max(float(xn[i] @ xn[j]) for j in chosen) > thr:
            continue
        chosen.append(i)
        if len(chosen) == budget:
            break
    return chosen


def test_deita_blocked_walk_equals_sequential_walk():
    rng = np.random.default_rng(5)
    n, d = 300, 8
    x = rng.standard_normal((n, d)).astype(np.float32)
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    df = pd.DataFrame({"id": [f"r{i:03d}" for i in range(n)], "complexity": rng.uniform(1, 6, n), "quality": 1.0})
    expected = [f"r{i:03d}" for i in _naive_deita(df["complexity"].to_numpy(), xn, 40, 0.6)]
    for block in (1, 7, 256):
        sel = select("deita", df, 40, seed=0, embeddings=x, similarity_threshold=0.6, block_size=block)
        assert sel.ids == expected
    assert sel.excluded["too_similar"] > 0


def test_deita_uses_scorers_when_columns_absent():
    df = pd.DataFrame(
        {
            "id": ["p", "q", "r"],
            "instruction": ["one", "one two three", "one two"],
            "input": ["", "", ""],
            "output": ["x", "x y", "x y z"],
        }
    )
    emb = np.eye(3, dtype=np.float32)
    sel = select(
        "deita",
        df,
        3,
        seed=0,
        embeddings=emb,
        complexity_scorer=ProxyScorer("complexity"),
        quality_scorer=ProxyScorer("quality"),
    )
    # complexity ranks p,q,r = 1, 6, 3.5; quality 1, 3.5, 6 -> products 1, 21, 21
    assert sel.ids[2] == "p" and set(sel.ids[:2]) == {"q", "r"}
    assert sel.info["complexity_source"]["scorer"] == "proxy (not Deita)"
    with pytest.raises(ValueError, match="needs a 'complexity' column or a complexity_scorer"):
        select("deita", df, 1, seed=0, embeddings=emb)


# --------------------------------------------------------------------------- k-center


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


# --------------------------------------------------------------------------- facility location


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


# --------------------------------------------------------------------------- RDS


def test_rds_picks_closest_to_dev_mean():
    angles = np.deg2rad([0, 10, 50, 85, 170, -20])
    emb = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32) * 3.0  # norms do not matter
    df = pd.DataFrame({"id": ["u0", "u10", "u50", "u85", "u170", "um20"]})
    # dev rows are normalised before averaging: mean direction 45 deg despite the norms
    dev = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32) * [[2.0], [0.5]]
    sel = select("rds", df, 4, seed=0, embeddings=emb, dev_embeddings=dev)
    assert sel.ids == ["u50", "u10", "u85", "u0"]  # angular distance to 45 deg: 5, 35, 40, 45
    assert sel.info["cosine_selected_max"] == pytest.approx(np.cos(np.deg2rad(5)), abs=1e-6)
    with pytest.raises(ValueError, match="needs dev_embeddings"):
        select("rds", df, 1, seed=0, embeddings=emb)
    with pytest.raises(ValueError, match="dimension 3"):
        select("rds", df, 1, seed=0, embeddings=emb, dev_embeddings=np.ones((2, 3), np.float32))


def test_rds_tie_broken_by_hash():
    emb = np.array([[1, 1], [1, -1]], dtype=np.float32)  # both at 45 deg from the dev mean (1, 0)
    df = pd.DataFrame({"id": ["m", "n"]})
    for seed in range(4):
        sel = select("rds", df, 1, seed=seed, embeddings=emb, dev_embeddings=np.array([[1, 0]], np.float32))
        assert sel.ids == [min(["m", "n"], key=lambda i: sha_key(seed, i))]


# --------------------------------------------------------------------------- every method


def full_landscape(n=240, d=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, d))
    lab = rng.integers(0, 6, n)
    x = (centres[lab] + 0.3 * rng.standard_normal((n, d))).astype(np.float32)
    x[5] = x[6]  # exact duplicates: ties in every embedding method
    df = pd.DataFrame(
        {
            "id": [stable for stable in (hashlib.sha256(str(i).encode()).hexdigest()[:16] for i in range(n))],
            "cell": rng.integers(0, 12, n),
            "RID": np.round(rng.random(n), 1),
            "loss_base": np.round(rng.uniform(10, 30, n), 0),
            "T": 10,
            "loss_base_uncond": np.round(rng.uniform(15, 40, n), 0),
            "T_uncond": 10,
            "complexity": np.round(rng.uniform(1, 6, n), 0),
            "quality": np.round(rng.uniform(1, 6, n), 0),
        }
    )
    return df, x, x[:20]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_is_order_independent_and_repeatable(method):
    from ila.devloss import FEATURES, MODELLED, domain_mix

    df, x, dev = full_landscape()
    df["domain"] = np.array(["a", "b", "c"])[df["cell"].to_numpy() % 3]
    budget = 30
    params = {}
    if method in MODELLED:
        model = {"features": list(FEATURES), "coef": {"const": 2.0, "log_coverage": -0.3, "mean_RID": -0.2, "shift": 0.4}}
        params = {"model": model, "dev_mix": domain_mix(df["domain"])}
    kw = {"embeddings": x, "dev_embeddings": dev, **params}
    a = select(method, df, budget, seed=2, **kw)
    perm = np.random.default_rng(1).permutation(len(df))
    b = select(method, df.iloc[perm], budget, seed=2, embeddings=x[perm], dev_embeddings=dev, **params)
    c = select(method, df, budget, seed=2, **kw)

    def stable_info(s):
        return {k: v for k, v in s.info.items() if not k.endswith("_seconds")}

    assert len(a.ids) == budget
    assert a.ids == b.ids == c.ids
    assert a.excluded == b.excluded == c.excluded
    assert stable_info(a) == stable_info(b) == stable_info(c)
