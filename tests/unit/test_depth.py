import numpy as np
import pandas as pd
import pytest

from ila import depth


def test_information_depth_hand_computed():
    # base loss 12 nats over 4 tokens, warm-up loss 8 -> dL = 4, per token 1, x 3 labels = 3
    assert depth.information_depth([12.0], [8.0], [4], [3]).tolist() == [3.0]
    # negative depth is kept (the warm-up model did worse)
    assert depth.information_depth([5.0], [6.0], [2], [1]).tolist() == [-0.5]


def test_information_depth_rejects_zero_tokens_and_labels():
    with pytest.raises(ValueError, match="T > 0"):
        depth.information_depth([1.0], [0.5], [0], [1])
    with pytest.raises(ValueError, match="label"):
        depth.information_depth([1.0], [0.5], [2], [0])


def test_n_labels_counts_at_least_one():
    assert depth.n_labels([["a", "b"], [], None, ["x"]]).tolist() == [2, 1, 1, 1]
    assert depth.n_labels([["a", "b"], []], mode="none").tolist() == [1, 1]


def test_rid_is_percentile_within_domain():
    ids = ["a", "b", "c", "d", "e", "f", "g"]
    ids_depth = [0.1, 0.5, 0.3, 10.0, -1.0, 20.0, 5.0]
    domains = ["m", "m", "m", "c", "c", "c", "solo"]
    rid = depth.relative_depth(ids, ids_depth, domains)
    # domain m: 0.1 < 0.3 < 0.5 -> 0, 1, 0.5; domain c: -1 < 10 < 20 -> 0.5, 0, 1; single -> 0.5
    assert rid.tolist() == [0.0, 1.0, 0.5, 0.5, 0.0, 1.0, 0.5]


def test_rid_ties_share_average_rank():
    rid = depth.relative_depth(["a", "b", "c", "d"], [1.0, 2.0, 2.0, 3.0], ["x"] * 4)
    assert rid.tolist() == pytest.approx([0.0, 0.5, 0.5, 1.0])


def test_rid_does_not_depend_on_row_order():
    rng = np.random.default_rng(3)
    ids = [f"id{i}" for i in range(200)]
    d = rng.normal(size=200)
    dom = rng.choice(["a", "b", "c"], size=200).tolist()
    rid = dict(zip(ids, depth.relative_depth(ids, d, dom)))
    perm = rng.permutation(200)
    rid2 = dict(zip([ids[i] for i in perm], depth.relative_depth([ids[i] for i in perm], d[perm], [dom[i] for i in perm])))
    assert rid == rid2


def test_depth_domains_fall_back_to_cell():
    doms, fallback = depth.depth_domains(["math", "", "code"], [4, 5, 6])
    assert doms == ["math", "cell:5", "code"] and fallback == 1
    doms, fallback = depth.depth_domains(["math", "", "code"], [4, 5, 6], mode="cell")
    assert doms == ["cell:4", "cell:5", "cell:6"] and fallback == 0


def test_examples_table_joins_by_id_and_counts_unscorable():
    pool = pd.DataFrame({"id": ["a", "b", "c", "d"], "domain": ["x", "x", "y", ""], "labels": [["p", "q"], [], ["r"], []]})
    # scores and landscape in different row orders than the pool
    scores = pd.DataFrame({"id": ["d", "c", "b", "a"], "T": [2, 0, 4, 2], "loss_base": [4.0, 0.0, 8.0, 6.0], "loss_sft": [2.0, 0.0, 4.0, 2.0]})
    land = pd.DataFrame({"id": ["b", "a", "d", "c"], "cell": [1, 0, 3, 2], "x": [0.0] * 4, "y": [0.0] * 4})
    table, ledger = depth.build_examples_table(pool, scores, land)
    assert ledger == {"scored": 4, "no_response_tokens": 1, "rid_domain_from_cell": 1, "with_depth": 3}
    t = table.set_index("id")
    assert list(t.index) == ["a", "b", "d"]
    assert t.loc["a", "info_depth"] == pytest.approx((6 - 2) / 2 * 2)  # two labels
    assert t.loc["b", "info_depth"] == pytest.approx((8 - 4) / 4 * 1)
    assert t.loc["d", "rid_domain"] == "cell:3"
    assert t.loc["a", "RID"] == 1.0 and t.loc["b", "RID"] == 0.0
    assert t.loc["a", "cell"] == 0


def test_examples_table_missing_cell_is_an_error():
    pool = pd.DataFrame({"id": ["a"], "domain": ["x"], "labels": [[]]})
    scores = pd.DataFrame({"id": ["a"], "T": [1], "loss_base": [1.0], "loss_sft": [0.5]})
    land = pd.DataFrame({"id": ["z"], "cell": [0], "x": [0.0], "y": [0.0]})
    with pytest.raises(ValueError, match="no cell"):
        depth.build_examples_table(pool, scores, land)
