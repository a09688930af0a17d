"""Subset designs of the regression study and their measures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ila.io import stable_id
from ila.regression.design import factorial_design, random_design
from ila.regression.measures import measure

LEVELS = [0.25, 0.5, 0.75, 1.0]
BANDS = {"low": (0.0, 1 / 3), "mixed": (0.0, 1.0), "high": (2 / 3, 1.0)}
SEEDS = [1, 2, 3]
N_CELLS = 20
PER_CELL = 100
SIZE = 50


def make_landscape(n_cells: int = N_CELLS, per_cell: int = PER_CELL, seed: int = 0) -> pd.DataFrame:
    """n_cells cells of per_cell examples; 4 domains of n_cells/4 cells; RID
    uniform on [0, 1] inside every domain."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n_cells):
        for j in range(per_cell):
            rows.append(
                dict(
                    id=stable_id(f"instruction {c} {j}", "", f"response {c} {j}"),
                    domain=f"d{c % 4}",
                    n_labels=1,
                    cell=c,
                    x=float(c),
                    y=float(j),
                    T=int(rng.integers(5, 60)),
                    loss_base=2.0,
                    loss_sft=1.0,
                    info_depth=float(rng.normal()),
                    RID=float(rng.uniform()),
                )
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def pool() -> pd.DataFrame:
    return make_landscape()


@pytest.fixture(scope="module")
def factorial(pool):
    members, design = factorial_design(pool, SIZE, LEVELS, BANDS, SEEDS, seed=7)
    return members, design, measure(pool, members, design, total_cells=25, occupied_cells=N_CELLS)


def test_factorial_shape_and_names(pool, factorial):
    members, design, _ = factorial
    assert len(design) == len(LEVELS) * len(BANDS) * len(SEEDS) == 36
    assert design["subset"].is_unique
    assert set(design["design"]) == {"factorial"}
    assert "c0.25-high-s1" in set(design["subset"]) and "c1-low-s3" in set(design["subset"])
    row = design.set_index("subset").loc["c0.5-mixed-s2"]
    assert (row["level"], row["k"], row["band"], row["band_lo"], row["band_hi"], row["rep"]) == (
        0.5, 10, "mixed", 0.0, 1.0, 2
    )
    sizes = members.groupby("subset")["id"].agg(["size", "nunique"])
    assert (sizes["size"] == SIZE).all() and (sizes["nunique"] == SIZE).all()
    assert set(sizes.index) == set(design["subset"])
    assert set(members["id"]) <= set(pool["id"])
    assert list(design["k"].unique()) == [5, 10, 15, 20]


def test_members_respect_band_and_groups(pool, factorial):
    members, design, _ = factorial
    rid = pool.set_index("id")["RID"]
    joined = members.join(design.set_index("subset"), on="subset")
    r = rid.loc[joined["id"]].to_numpy()
    assert (r >= joined["band_lo"].to_numpy()).all() and (r <= joined["band_hi"].to_numpy()).all()


def test_coverage_rises_with_level_and_all_k_cells_represented(factorial):
    _, design, meas = factorial
    # size 50 >= k and every cell has in-band members: each chosen cell is represented
    assert (meas["cells"] == meas["k"]).all()
    assert (meas["k_used"] == meas["k"]).all()
    by_level = meas.groupby("level")["coverage_occupied"].mean()
    assert list(by_level.index) == LEVELS
    assert np.all(np.diff(by_level.to_numpy()) > 0.2)
    assert by_level.to_numpy() == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert meas["coverage_grid"].to_numpy() == pytest.approx(meas["cells"].to_numpy() / 25)


def test_depth_bands_order_mean_rid(factorial):
    _, _, meas = factorial
    by_band = meas.groupby("band")["mean_RID"].mean()
    assert by_band["high"] > by_band["mixed"] + 0.2
    assert by_band["mixed"] > by_band["low"] + 0.2
    # every single high subset is deeper than every single low subset
    assert meas.loc[meas.band == "high", "mean_RID"].min() > meas.loc[meas.band == "low", "mean_RID"].max()


def test_deterministic_and_seed_sensitive(pool, factorial):
    members, design, _ = factorial
    m2, d2 = factorial_design(pool, SIZE, LEVELS, BANDS, SEEDS, seed=7)
    pd.testing.assert_frame_equal(members, m2)
    pd.testing.assert_frame_equal(design, d2)
    m3, _ = factorial_design(pool, SIZE, LEVELS, BANDS, SEEDS, seed=8)
    assert not members.equals(m3)


def test_independent_of_row_order(pool, factorial):
    members, design, _ = factorial
    shuffled = pool.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert not shuffled["id"].equals(pool["id"])
    m2, d2 = factorial_design(shuffled, SIZE, LEVELS, BANDS, SEEDS, seed=7)
    pd.testing.assert_frame_equal(members, m2)
    pd.testing.assert_frame_equal(design, d2)


def test_subset_unaffected_by_other_design_cells(pool, factorial):
    members, _, _ = factorial
    m2, _ = factorial_design(pool, SIZE, [0.5], {"high": BANDS["high"]}, [2], seed=7)
    expected = members[members.subset == "c0.5-high-s2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(m2, expected)


def test_impossible_design_cell_raises_with_counts(pool):
    # k = round(0.05 * 20) = 1 cell; band [0, 0.1] holds about 10 per cell
    best = int(pool[pool.RID <= 0.1].groupby("cell").size().max())
    assert best < SIZE
    with pytest.raises(ValueError) as err:
        factorial_design(pool, SIZE, [0.05], {"narrow": (0.0, 0.1)}, [1])
    msg = str(err.value)
    assert "level=0.05" in msg and "'narrow'" in msg and f"only {best} " in msg and f"{SIZE} needed" in msg


def test_group_choice_prefers_groups_that_can_fill_and_spreads_evenly():
    # cells 0 and 1 hold 30 examples, cells 2 and 3 a single one each
    rows = []
    for c, n in [(0, 30), (1, 30), (2, 1), (3, 1)]:
        for j in range(n):
            rows.append(dict(id=f"c{c}e{j:02d}", domain="", cell=c, RID=0.5, info_depth=1.0, T=10))
    ex = pd.DataFrame(rows)
    for seed in range(6):
        members, design = factorial_design(ex, 20, [0.5, 1.0], {"mixed": (0.0, 1.0)}, [1, 2], seed=seed)
        cells = members.join(ex.set_index("id")["cell"], on="id")
        half = cells[cells.subset.str.startswith("c0.5-")]
        # k = 2 of 4 cells: only cells 0 and 1 can give an even share of 10
        assert set(half["cell"]) == {0, 1}
        assert (half.groupby(["subset", "cell"]).size() == 10).all()
        full = cells[cells.subset.str.startswith("c1-")]
        counts = full.groupby(["subset", "cell"]).size().unstack()
        # all four cells represented; the short cells give all they have
        assert counts.loc[:, [0, 1, 2, 3]].values.tolist() == [[9, 9, 1, 1]] * 2


def test_fewer_groups_with_in_band_members_than_k():
    rows = []
    for c in range(4):
        for j in range(10):
            rid = 0.9 if c < 2 else 0.1
            rows.append(dict(id=f"c{c}e{j}", domain="", cell=c, RID=rid, info_depth=1.0, T=5))
    ex = pd.DataFrame(rows)
    members, design = factorial_design(ex, 8, [1.0], {"high": (0.5, 1.0)}, [1])
    assert design.loc[0, "k"] == 4 and design.loc[0, "k_used"] == 2 and design.loc[0, "n_available"] == 20
    meas = measure(ex, members, design, total_cells=4, occupied_cells=4)
    assert meas.loc[0, "cells"] == 2 and meas.loc[0, "coverage_occupied"] == 0.5


def test_group_by_domain(pool):
    members, design = factorial_design(pool, 40, [0.25, 0.5, 1.0], {"mixed": (0.0, 1.0)}, [1, 2], group_by="domain")
    meas = measure(pool, members, design, total_cells=25, occupied_cells=N_CELLS)
    assert meas["k"].tolist() == [1, 1, 2, 2, 4, 4]
    assert (meas["n_domains"] == meas["k"]).all()
    assert set(design["group_by"]) == {"domain"}


def test_invalid_arguments(pool):
    with pytest.raises(ValueError, match="outside"):
        factorial_design(pool, 10, [0.0], BANDS, [1])
    with pytest.raises(ValueError, match="not below"):
        factorial_design(pool, 10, [0.5], {"bad": (0.6, 0.4)}, [1])
    with pytest.raises(ValueError, match="group_by"):
        factorial_design(pool, 10, [0.5], BANDS, [1], group_by="source")
    with pytest.raises(ValueError, match="exceeds"):
        factorial_design(pool, len(pool) + 1, [0.5], BANDS, [1])
    nan_rid = pool.copy()
    nan_rid.loc[5, "RID"] = np.nan
    with pytest.raises(ValueError, match=f"no RID .*{nan_rid.loc[5, 'id']}"):
        factorial_design(nan_rid, 10, [0.5], BANDS, [1])
    dup = pd.concat([pool, pool.iloc[[3]]])
    with pytest.raises(ValueError, match="duplicated id"):
        factorial_design(dup, 10, [0.5], BANDS, [1])


def test_random_design(pool):
    members, design = random_design(pool, 30, n_subsets=8, seed=5, min_band_width=0.3)
    assert len(design) == 8 and set(design["design"]) == {"random"}
    assert design["subset"].tolist() == [f"r{i:03d}" for i in range(8)]
    assert (members.groupby("subset").size() == 30).all()
    assert ((design["band_hi"] - design["band_lo"]) >= 0.3 - 1e-12).all()
    assert ((design["band_lo"] >= 0) & (design["band_hi"] <= 1)).all()
    assert design["level"].tolist() == pytest.approx((design["k"] / N_CELLS).tolist())
    joined = members.join(design.set_index("subset"), on="subset").join(pool.set_index("id")["RID"], on="id")
    assert ((joined.RID >= joined.band_lo) & (joined.RID <= joined.band_hi)).all()
    meas = measure(pool, members, design, total_cells=25, occupied_cells=N_CELLS)
    assert (meas["cells"] == meas["k"]).all()
    assert design["k"].nunique() > 1  # k really varies
    m2, d2 = random_design(pool.iloc[::-1], 30, n_subsets=8, seed=5, min_band_width=0.3)
    pd.testing.assert_frame_equal(members, m2)
    pd.testing.assert_frame_equal(design, d2)


def test_measure_numbers_on_hand_made_table():
    ex = pd.DataFrame(
        dict(
            id=["a", "b", "c", "d", "e"],
            domain=["m", "m", "g", "g", ""],
            n_labels=1,
            cell=[0, 0, 1, 2, 2],
            T=[10, 20, 30, 40, 50],
            info_depth=[1.0, 2.0, 3.0, 4.0, 5.0],
            RID=[0.1, 0.2, 0.3, 0.4, 0.5],
        )
    )
    design = pd.DataFrame(dict(subset=["s2", "s1"], level=[1.0, 0.5]))
    members = pd.DataFrame(dict(subset=["s1", "s1", "s2", "s2", "s2"], id=["b", "a", "c", "e", "a"]))
    out = measure(ex.iloc[::-1], members, design, total_cells=9, occupied_cells=3)
    assert out["subset"].tolist() == ["s2", "s1"]
    s1 = out.set_index("subset").loc["s1"]
    assert (s1.n, s1.cells, s1.tokens, s1.n_domains) == (2, 1, 30, 1)
    assert s1.coverage_grid == pytest.approx(1 / 9) and s1.coverage_occupied == pytest.approx(1 / 3)
    assert s1.mean_RID == pytest.approx(0.15) and s1.mean_ID == pytest.approx(1.5) and s1.mean_T == 15
    s2 = out.set_index("subset").loc["s2"]
    assert (s2.n, s2.cells, s2.tokens, s2.n_domains, s2.level) == (3, 3, 90, 3, 1.0)
    assert s2.coverage_occupied == pytest.approx(1.0) and s2.mean_RID == pytest.approx(0.3)
    assert s2.mean_ID == pytest.approx(3.0) and s2.mean_T == pytest.approx(30.0)


def test_measure_errors():
    ex = pd.DataFrame(dict(id=["a", "b"], domain="", cell=[0, 1], T=[1, 2], info_depth=[0.1, 0.2], RID=[0.5, 0.6]))
    design = pd.DataFrame(dict(subset=["s1"]))
    with pytest.raises(ValueError, match="'zz'"):
        measure(ex, pd.DataFrame(dict(subset=["s1", "s1"], id=["a", "zz"])), design, 4, 2)
    with pytest.raises(ValueError, match="no members.*'s2'"):
        measure(ex, pd.DataFrame(dict(subset=["s1"], id=["a"])), pd.DataFrame(dict(subset=["s1", "s2"])), 4, 2)
    with pytest.raises(ValueError, match="absent from the design"):
        measure(ex, pd.DataFrame(dict(subset=["s9"], id=["a"])), design, 4, 2)
    with pytest.raises(ValueError, match="more than once"):
        measure(ex, pd.DataFrame(dict(subset=["s1", "s1"], id=["a", "a"])), design, 4, 2)
