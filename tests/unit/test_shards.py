import numpy as np
import pandas as pd
import pytest

from ila import embed, shards


def test_plan_assigns_whole_batches_and_same_batches_for_any_shard_count():
    rng = np.random.default_rng(0)
    ids = [f"e{i:03d}" for i in range(103)]
    lengths = rng.integers(1, 50, size=103)
    one = shards.plan(ids, lengths, batch_size=10, shards=1)
    four = shards.plan(ids, lengths, batch_size=10, shards=4)
    # identical global order and batches; only the shard column differs
    pd.testing.assert_frame_equal(one.drop(columns="shard"), four.drop(columns="shard"))
    assert sorted(four["shard"].unique()) == [0, 1, 2, 3]
    # every batch lives in exactly one shard
    assert (four.groupby("batch")["shard"].nunique() == 1).all()
    # sorted by length, longest first, ties by id
    assert list(zip(-one["length"], one["id"])) == sorted(zip((-lengths).tolist(), ids))
    assert one["batch"].max() == 10  # 103 examples, batches of 10 -> 11 batches


def test_plan_balances_padded_work_across_shards():
    # lengths fall steadily: contiguous runs of batches would give the first
    # shard about twice the padded work of the second
    lengths = [1000 - 9 * i for i in range(100)]
    ids = [f"e{i:03d}" for i in range(100)]
    p = shards.plan(ids, lengths, batch_size=10, shards=2)
    p["padded"] = p.groupby("batch")["length"].transform("max")
    work = p.groupby("shard")["padded"].sum()
    batch_cost = p.groupby("batch")["padded"].sum()
    assert work.max() - work.min() <= batch_cost.max()
    assert work.max() / work.min() < 1.2
    # longest batch first on shard 0, the next on shard 1
    assert p.loc[p["batch"] == 0, "shard"].iloc[0] == 0
    assert p.loc[p["batch"] == 1, "shard"].iloc[0] == 1


def test_plan_more_shards_than_batches_leaves_some_empty():
    p = shards.plan(["a", "b", "c"], [1, 2, 3], batch_size=2, shards=4)
    assert p["batch"].tolist() == [0, 0, 1]
    assert p.groupby("shard").size().sum() == 3


def test_shard_index():
    assert shards.shard_index("1-of-4") == (0, 4)
    assert shards.shard_index("4-of-4") == (3, 4)
    with pytest.raises(ValueError):
        shards.shard_index("5-of-4")
    with pytest.raises(ValueError):
        shards.shard_index("x")


def test_gather_frames_puts_rows_in_expected_order_and_checks_cover():
    a = pd.DataFrame({"id": ["c", "a"], "v": [3, 1]})
    b = pd.DataFrame({"id": ["b"], "v": [2]})
    out = shards.gather_frames([a, b], ["a", "b", "c"])
    assert out["id"].tolist() == ["a", "b", "c"] and out["v"].tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="1 missing"):
        shards.gather_frames([a], ["a", "b", "c"])
    with pytest.raises(ValueError, match="more than one shard"):
        shards.gather_frames([a, a], ["a", "c"])


def test_embedding_gather_joins_by_id():
    pool_ids = ["a", "b", "c"]
    out = embed.gather([["c", "a"], ["b"]], [np.array([[3.0], [1.0]], np.float32), np.array([[2.0]], np.float32)], pool_ids)
    assert out[:, 0].tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match="no embedding"):
        embed.gather([["a"]], [np.ones((1, 1), np.float32)], pool_ids)
    assert embed.rows_for(["c", "a"], pool_ids).tolist() == [2, 0]
    with pytest.raises(KeyError, match="zz"):
        embed.rows_for(["zz"], pool_ids)
