"""``depth``, ILA's depth-only ablation: the top RID, ties by the seeded hash."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ila.selection import select

from ..pools import sha_key


def test_depth_is_top_rid_with_hash_ties():
    df = pd.DataFrame({"id": list("abcde"), "cell": [0, 0, 1, 1, 2], "RID": [0.2, 0.9, 0.9, np.nan, 0.1]})
    sel = select("depth", df, 3, seed=0)
    top2 = sorted(["b", "c"], key=lambda i: sha_key(0, i))
    assert sel.ids == top2 + ["a"]
    assert sel.excluded == {"rid_missing": 1}
