"""``ifd`` (Cherry data): the highest instruction-following difficulty below
the threshold, every exclusion counted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ila.selection import select


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
