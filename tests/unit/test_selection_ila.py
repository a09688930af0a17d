"""ILA selection and its ablations (random, depth, coverage), and the
contracts of the selection interface, on hand-made landscapes whose right
answer is known."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pandas as pd
import pytest

from ila.selection import METHODS, Selection, method_params, seeded_hash, select


def sha_key(seed: int, i: str) -> int:
    """Independent restatement of the documented tie-break key."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big")


def toy() -> pd.DataFrame:
    # cell 0: a1 .9, a2 .8, a3 .3 | cell 1: b1 .5, b2 .4 | cell 2: c1 .7, c2 .1
    return pd.DataFrame(
        {
            "id": ["b2", "a3", "c1", "a1", "c2", "b1", "a2"],
            "cell": [1, 0, 2, 0, 2, 1, 0],
            "RID": [0.4, 0.3, 0.7, 0.9, 0.1, 0.5, 0.8],
        }
    )


def landscape(n=600, cells=25, seed=1, rid_decimals=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # unequal cell sizes: some cells run out early
    cell = np.minimum(rng.geometric(0.12, n) - 1, cells - 1)
    rid = rng.random(n)
    if rid_decimals is not None:
        rid = np.round(rid, rid_decimals)
    domain = np.array(["arith", "dates", "sort"])[cell % 3]
    return pd.DataFrame({"id": [f"x{i:05d}" for i in range(n)], "cell": cell, "RID": rid, "domain": domain})


# --------------------------------------------------------------------------- ILA


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


def _rounds(df: pd.DataFrame, ids: list[str]) -> list[int]:
    """1-based ordinal of each selected example within its cell."""
    cell = df.set_index("id")["cell"]
    seen: dict[int, int] = {}
    out = []
    for i in ids:
        c = int(cell[i])
        seen[c] = seen.get(c, 0) + 1
        out.append(seen[c])
    return out


def test_ila_one_per_cell_before_a_second_and_higher_rid_cell_first():
    df = landscape()
    sizes = df["cell"].value_counts()
    sel = select("ila-roundrobin", df, budget=len(df), seed=3)
    rounds = _rounds(df, sel.ids)
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


def test_seeded_hash_matches_documented_key():
    h = seeded_hash(np.array(["a", "bb", "ccc"], dtype=object), 42)
    assert h.dtype == np.uint64
    assert [int(x) for x in h] == [sha_key(42, i) for i in ["a", "bb", "ccc"]]


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


# --------------------------------------------------------------------------- ablations


def test_random_is_seeded_hash_order():
    df = landscape(50)
    ids = df["id"].tolist()
    sel = select("random", df, 10, seed=4)
    assert sel.ids == sorted(ids, key=lambda i: sha_key(4, i))[:10]
    assert sel.ids != select("random", df, 10, seed=5).ids
    assert sel.excluded == {}


def test_depth_is_top_rid_with_hash_ties():
    df = pd.DataFrame({"id": list("abcde"), "cell": [0, 0, 1, 1, 2], "RID": [0.2, 0.9, 0.9, np.nan, 0.1]})
    sel = select("depth", df, 3, seed=0)
    top2 = sorted(["b", "c"], key=lambda i: sha_key(0, i))
    assert sel.ids == top2 + ["a"]
    assert sel.excluded == {"rid_missing": 1}


def test_coverage_round_robin_with_random_order_inside_cells():
    df = landscape(300, cells=10, seed=2)
    sel = select("coverage", df, len(df), seed=1)
    rounds = _rounds(df, sel.ids)
    assert rounds == sorted(rounds)
    sizes = df["cell"].value_counts()
    assert rounds.count(1) == len(sizes) and rounds.count(2) == int((sizes >= 2).sum())
    # inside a cell: seeded hash order, not RID order
    picked = pd.DataFrame({"id": sel.ids, "pos": range(len(sel.ids))}).merge(df, on="id")
    for _, g in picked.groupby("cell"):
        got = g.sort_values("pos")["id"].tolist()
        assert got == sorted(got, key=lambda i: sha_key(1, i))
    assert not all(
        np.all(np.diff(g.sort_values("pos")["RID"].to_numpy()) <= 0) for _, g in picked.groupby("cell")
    )


# --------------------------------------------------------------------------- interface


@pytest.mark.parametrize("method", ["ila-roundrobin", "ila-tilt", "ila-band", "random", "random-balanced", "depth", "coverage"])
def test_order_independent_and_repeatable(method):
    df = landscape(400, cells=15, seed=9, rid_decimals=1)  # many RID ties
    a = select(method, df, 120, seed=11)
    b = select(method, df.sample(frac=1.0, random_state=3), 120, seed=11)
    c = select(method, df.iloc[::-1], 120, seed=11)
    assert a.ids == b.ids == c.ids
    assert a.excluded == b.excluded and a.info == b.info == c.info
    assert select(method, df, 120, seed=12).ids != a.ids  # the seed matters (RID ties)


def test_budget_rules():
    df = toy()
    with pytest.raises(ValueError, match="budget 8 exceeds the 7 eligible"):
        select("ila-roundrobin", df, 8, 0)
    short = select("ila-roundrobin", df, 8, 0, allow_short=True)
    assert len(short.ids) == 7 and short.info["short_by"] == 1
    assert select("ila-roundrobin", df, 0, 0).ids == []
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="budget must be"):
            select("ila-roundrobin", df, bad, 0)


def test_input_validation():
    df = toy()
    with pytest.raises(ValueError, match="unknown selection method 'nope'"):
        select("nope", df, 1, 0)
    with pytest.raises(ValueError, match="unknown parameter"):
        select("ila-roundrobin", df, 1, 0, temperature=1.0)
    with pytest.raises(ValueError, match="embeddings have 3 rows but candidates have 7"):
        select("random", df, 1, 0, embeddings=np.zeros((3, 4), np.float32))
    dup = pd.concat([df, df.iloc[:1]])
    with pytest.raises(ValueError, match="1 duplicate ids"):
        select("random", dup, 1, 0)
    with pytest.raises(ValueError, match="needs a column 'RID'"):
        select("ila-roundrobin", df.drop(columns="RID"), 1, 0)
    with pytest.raises(ValueError, match="ids must be strings"):
        select("random", df.assign(id=range(7)), 1, 0)


def test_registry_and_selection_record():
    assert set(METHODS) == {"ila", "ila-roundrobin", "ila-tilt", "ila-band", "ila-modelled-tilt", "ila-modelled-band",
                            "random", "random-balanced", "depth", "coverage", "ifd", "deita", "kcenter", "facility",
                            "rds"}
    assert method_params("deita")["similarity_threshold"] == 0.9
    sel = select("ila-roundrobin", toy(), 3, 0)
    d = sel.as_dict()
    assert d["ids"] == ["a1", "c1", "b1"] and d["method"] == "ila-roundrobin" and d["seconds"] >= 0
    import json

    json.dumps(d)  # JSON-ready
    assert sel.info["mean_RID"] == pytest.approx((0.9 + 0.7 + 0.5) / 3)
