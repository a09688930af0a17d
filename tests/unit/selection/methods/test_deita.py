"""``deita``: the highest complexity x quality first, skipping a candidate
too similar to one already taken; scores from columns or from scorers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ila.selection import select
from ila.selection.scorers import ProxyScorer

from ..pools import instructions


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
    df = instructions()
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
