"""``ila-band``, ILA's band family: only RID inside the window, round-robin
over cells."""

from __future__ import annotations

import pytest

from ila.selection import select

from ..pools import four_domain_landscape, per_cell


def test_band_takes_only_rid_inside_its_window_round_robin_over_cells():
    df = four_domain_landscape()
    sel = select("ila-band", df, 100, 2, window=[1 / 3, 2 / 3])
    rid = df.set_index("id").loc[sel.ids, "RID"]
    assert rid.between(1 / 3, 2 / 3).all()
    assert sel.excluded["outside_window"] == int((~df["RID"].between(1 / 3, 2 / 3)).sum())
    inside = df[df["RID"].between(1 / 3, 2 / 3)]
    counts = per_cell(inside, sel.ids)
    available = inside["cell"].value_counts().reindex(counts.index)
    # round-robin: every cell gets the same count (+-1) unless it ran out of in-window candidates
    short = counts < counts.max() - 1
    assert (counts[short] == available[short]).all() and short.sum() < len(counts)
    with pytest.raises(ValueError, match="window"):
        select("ila-band", df, 10, 0, window=[0.8, 0.2])
