"""``ila-roundrobin``, the first reading of ILA: one example of every cell
per round, the higher RID first, on hand-made landscapes whose right answer
is known."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from ila.selection import Selection, select

from ..pools import cell_rounds, landscape, sha_key, toy


def test_ila_exact_order_on_three_cell_toy():
    sel = select("ila-roundrobin", toy(), budget=7, seed=0)
    # round 1: a1 (.9) > c1 (.7) > b1 (.5); round 2: a2 (.8) > b2 (.4) > c2 (.1); round 3: a3
    assert sel.ids == ["a1", "c1", "b1", "a2", "b2", "c2", "a3"]
    assert isinstance(sel, Selection) and sel.method == "ila-roundrobin" and sel.budget == 7 and sel.seed == 0
    assert sel.info["rounds"] == 3 and sel.info["cells_in_last_round"] == 1
    assert sel.excluded == {"cell_missing": 0, "rid_missing": 0}
    # a prefix budget is the prefix of the order
    assert select("ila-roundrobin", toy(), budget=4, seed=0).ids == ["a1", "c1", "b1", "a2"]
    assert select("ila-roundrobin", toy(), budget=4, seed=0).info["cells_reached"] == 3


def test_ila_one_per_cell_before_a_second_and_higher_rid_cell_first():
    df = landscape()
    sizes = df["cell"].value_counts()
    sel = select("ila-roundrobin", df, budget=len(df), seed=3)
    rounds = cell_rounds(df, sel.ids)
    assert rounds == sorted(rounds)  # never a rank-r+1 pick before all rank-r picks
    rid = df.set_index("id")["RID"]
    for r in range(1, max(rounds) + 1):
        seg = [i for i, rr in zip(sel.ids, rounds) if rr == r]
        # round r holds exactly one example of every cell with at least r examples
        assert len(seg) == int((sizes >= r).sum())
        # inside a round, the higher RID goes first
        vals = rid[seg].to_numpy()
        assert np.all(np.diff(vals) <= 0)
    # inside a cell, RID descending: each cell's picks are its own RID ranking
    picked = pd.DataFrame({"id": sel.ids, "pos": range(len(sel.ids))}).merge(df, on="id")
    for _, g in picked.groupby("cell"):
        assert np.all(np.diff(g.sort_values("pos")["RID"].to_numpy()) <= 0)
    # the first round reaches every cell
    k = int(df["cell"].nunique())
    assert select("ila-roundrobin", df, budget=k, seed=3).info["cells_reached"] == k


def test_ila_ties_broken_by_seeded_hash():
    # one cell, all RID equal: the order is the seeded hash order of the ids
    ids = [f"t{i}" for i in range(20)]
    df = pd.DataFrame({"id": ids, "cell": 0, "RID": 0.5})
    for seed in (0, 1, 7):
        expected = sorted(ids, key=lambda i: sha_key(seed, i))
        assert select("ila-roundrobin", df, 20, seed).ids == expected
    assert select("ila-roundrobin", df, 20, 0).ids != select("ila-roundrobin", df, 20, 1).ids
    # ties across cells in one round: equal RID -> hash order of those candidates
    df2 = pd.DataFrame({"id": ["p", "q", "r"], "cell": [0, 1, 2], "RID": [0.5, 0.5, 0.5]})
    assert select("ila-roundrobin", df2, 3, 5).ids == sorted(["p", "q", "r"], key=lambda i: sha_key(5, i))


def test_ila_counts_missing_cell_and_rid():
    df = toy()
    df["cell"] = df["cell"].astype("Int64")
    df.loc[df["id"] == "a1", "cell"] = pd.NA
    df.loc[df["id"] == "c1", "RID"] = np.nan
    df.loc[df["id"] == "b1", "RID"] = np.inf
    sel = select("ila-roundrobin", df, budget=4, seed=0)
    assert sel.excluded == {"cell_missing": 1, "rid_missing": 2}
    assert sel.ids == ["a2", "b2", "c2", "a3"]
    with pytest.raises(ValueError, match="exceeds the 4 eligible"):
        select("ila-roundrobin", df, budget=5, seed=0)


def test_ila_handles_a_million_candidates_fast():
    rng = np.random.default_rng(0)
    n = 1_000_000
    df = pd.DataFrame(
        {"id": [f"{i:016x}" for i in range(n)], "cell": rng.integers(0, 2500, n), "RID": rng.random(n)}
    )
    t = time.perf_counter()
    sel = select("ila-roundrobin", df, budget=10_000, seed=0)
    seconds = time.perf_counter() - t
    assert len(sel.ids) == 10_000
    assert sel.info["cells_reached"] == 2500 and sel.info["rounds"] == 4
    assert seconds < 10.0, f"ILA took {seconds:.1f} s on 1M candidates"
