"""``coverage``, ILA's coverage-only ablation: round-robin over cells, the
seeded hash order inside a cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ila.selection import select

from ..pools import cell_rounds, landscape, sha_key


def test_coverage_round_robin_with_random_order_inside_cells():
    df = landscape(300, cells=10, seed=2)
    sel = select("coverage", df, len(df), seed=1)
    rounds = cell_rounds(df, sel.ids)
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
