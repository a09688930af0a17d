"""``rds``: the candidates closest in cosine to the dev-set mean, ties by
the seeded hash."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ila.selection import select

from ..pools import sha_key


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
