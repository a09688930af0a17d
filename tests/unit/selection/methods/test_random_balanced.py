"""``random-balanced``: the same number from every domain, a small domain's
leftover share redistributed."""

from __future__ import annotations

import pandas as pd

from ila.selection import select
from ila.selection.methods.random_balanced import balanced_quotas


def test_balanced_random_takes_equal_domain_counts_and_redistributes_leftovers():
    q = balanced_quotas({"a": 100, "b": 100, "c": 5}, 90)
    assert q["c"] == 5 and q["a"] + q["b"] + q["__left__"] == 85
    df = pd.DataFrame({"id": [f"i{k:04d}" for k in range(400)],
                       "domain": ["big"] * 300 + ["mid"] * 90 + ["tiny"] * 10})
    sel = select("random-balanced", df, 120, 7)
    counts = df.set_index("id").loc[sel.ids, "domain"].value_counts().to_dict()
    assert counts == {"tiny": 10, "mid": 55, "big": 55}
    assert sel.info["per_domain"] == {"big": 55, "mid": 55, "tiny": 10}
    sel2 = select("random-balanced", df, 61, 7)
    c2 = df.set_index("id").loc[sel2.ids, "domain"].value_counts()
    assert c2.sum() == 61 and c2["tiny"] == 10 and abs(c2["big"] - c2["mid"]) <= 1
