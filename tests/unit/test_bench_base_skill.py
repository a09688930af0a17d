"""The base-recipe benchmark's probe items and recipe strings
(bench/bench_base_skill.py): the probes must never be a pool, dev, test or
benchmark problem, since the base's recipe is chosen on them."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from ila.pool.toy.corrupt import Realism
from ila.pool.toy.heldout import pool_and_heldout

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_base_skill.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_base_skill", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_recipes_parse_with_and_without_a_learning_rate(bench):
    assert bench.parse_recipe("20000x1600@0.006") == (20000, 1600, 0.006)
    assert bench.parse_recipe("0x500") == (0, 500, 3e-3)
    with pytest.raises(SystemExit, match="WORKEDxSTEPS"):
        bench.parse_recipe("1600steps")


def test_probe_items_repeat_no_pool_or_heldout_problem(bench):
    records, *_ = pool_and_heldout(350, 0, None, 1, 5, Realism(), 70, 35, 3)
    frame = pd.DataFrame(records)
    pool, heldout = frame[frame["source"].isin(["toy", "toy_dev"])], frame[~frame["source"].isin(["toy", "toy_dev"])]
    items, banned = bench.probe_items(pool, heldout, per_family=4, families=["arithmetic", "sorting"])
    assert len(items) == 8 and {it["family"] for it in items} == {"arithmetic", "sorting"}
    keys = {(it["instruction"], it["input"]) for it in items}
    assert not keys & set(zip(frame["instruction"], frame["input"]))
    assert keys <= banned and len(banned) == len(frame.drop_duplicates(["instruction", "input"])) + 8
    for it in items:  # four distinct choices, the gold at the label
        assert len(set(it["choices"])) == 4 and it["distractors"][it["label"]] == "gold"
