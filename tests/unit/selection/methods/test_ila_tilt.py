"""``ila-tilt``, ILA's tilt family: the tilt strength kappa moves the
selection from stratified random (0) to round-robin top RID (inf)."""

from __future__ import annotations

import numpy as np
import pytest

from ila.selection import select

from ..pools import four_domain_landscape, per_cell


def test_tilt_with_infinite_kappa_is_round_robin_top_rid():
    df = four_domain_landscape()
    for k in (7, 60, 250):
        assert select("ila-tilt", df, k, 3, kappa="inf").ids == select("ila-roundrobin", df, k, 3).ids


def test_tilt_with_kappa_zero_is_stratified_random():
    df = four_domain_landscape()
    zero = select("ila-tilt", df, 120, 3, kappa=0)
    # the cell quotas of round-robin ...
    assert per_cell(df, zero.ids).to_dict() == per_cell(df, select("ila-roundrobin", df, 120, 3).ids).to_dict()
    # ... and inside a cell nothing depends on RID: shuffle RID, same selection
    shuffled = df.assign(RID=np.random.default_rng(0).permutation(df["RID"].to_numpy()))
    assert select("ila-tilt", shuffled, 120, 3, kappa=0).ids == zero.ids
    # a mean RID near the pool's (0.5), unlike the top-RID end
    assert abs(zero.info["mean_RID"] - 0.5) < 0.08
    assert select("ila-tilt", df, 120, 3, kappa="inf").info["mean_RID"] > 0.8


def test_tilt_strength_moves_depth_monotonically_and_proportional_quotas_follow_cell_size():
    df = four_domain_landscape()
    depth = [select("ila-tilt", df, 120, 5, kappa=k).info["mean_RID"] for k in (0, 1, 4, 16, "inf")]
    assert depth == sorted(depth) and depth[-1] - depth[0] > 0.3
    prop = per_cell(df, select("ila-tilt", df, 120, 5, kappa=2, quotas="proportional").ids)
    sizes = df["cell"].value_counts().sort_index()
    expected = sizes * 120 / sizes.sum()
    assert (prop.reindex(sizes.index, fill_value=0) - expected).abs().max() < 1.0 + 1e-9
    with pytest.raises(ValueError, match="kappa"):
        select("ila-tilt", df, 10, 0, kappa=-1)
