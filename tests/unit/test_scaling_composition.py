"""What each selection picked: shares per domain and per ground-truth corruption, joined by id."""

import pandas as pd
import pytest

from ila.scaling.composition import candidate_shares, composition_markdown, composition_table


def _data():
    ids = [f"id{i}" for i in range(8)]
    cand = pd.DataFrame({"id": ids, "domain": ["a"] * 4 + ["b"] * 4, "RID": [0.1 * i for i in range(8)]})
    truth = pd.DataFrame({"id": ids[::-1],  # another order: joined by id
                          "corruption": ["none", "terse", "none", "wrong_answer", "none", "none", "terse", "none"][::-1],
                          "dup_kind": ["", "source", "rephrase", "", "", "numbers", "", ""][::-1]})
    return cand, truth


def test_shares_per_domain_corruption_and_near_duplicate():
    cand, truth = _data()
    t = composition_table([("ila", "f1-b4-s0", ["id1", "id2", "id6", "id7"]), ("random", "f1-b4-s0", ["id0", "id4"])],
                          cand, truth)
    ila = t.set_index("method").loc["ila"]
    assert ila["n"] == 4 and ila["domain_a"] == 0.5 and ila["domain_b"] == 0.5
    assert ila["corruption_terse"] == 0.5 and ila["corruption_none"] == 0.5 and ila["corruption_wrong_answer"] == 0
    assert ila["near_duplicate"] == 0.25  # id2 is a rephrased copy; id1 is a burst's source, not a copy
    assert ila["mean_RID"] == pytest.approx((0.1 + 0.2 + 0.6 + 0.7) / 4)
    shares = candidate_shares(cand, truth)
    assert shares["corruption"] == {"none": 0.625, "terse": 0.25, "wrong_answer": 0.125}
    assert shares["near_duplicate"] == 0.25
    md = composition_markdown(t, shares, 4)
    assert "| candidates |" in md and "| ila |" in md
    with pytest.raises(KeyError, match="not candidates"):
        composition_table([("ila", "f1-b4-s0", ["nope"])], cand, truth)
    # a real pool: domains only
    assert "near_duplicate" not in composition_table([("ila", "f1-b4-s0", ["id1"])], cand).columns
