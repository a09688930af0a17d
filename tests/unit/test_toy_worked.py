"""Worked toy problems of the tiny base model's pretraining corpus
(ila.pool.toy.worked) and how the corpus mixes them in (ila.lm.jobs)."""

from __future__ import annotations

import collections

import pytest

from ila.lm.jobs import pretraining_corpus
from ila.lm.prompt import PromptTemplate
from ila.pool.toy.corrupt import Realism
from ila.pool.toy.generator import solve
from ila.pool.toy.heldout import pool_and_heldout
from ila.pool.toy.worked import worked_problems, worked_records, worked_text


def test_worked_problems_are_clean_plain_text_balanced_and_deterministic():
    docs = worked_problems(70, seed=5)
    assert docs == worked_problems(70, seed=5)
    assert docs != worked_problems(70, seed=6)
    assert len(docs) == len(set(docs)) == 70
    recs = worked_records(70, seed=5)
    assert [worked_text(r) for r in recs] == docs
    # every (family, depth) cell twice, and every response correct by the independent solver
    assert set(collections.Counter((r["domain"], r["steps"]) for r in recs).values()) == {2}
    assert all(solve(r) == r["answer"] for r in recs)
    for doc, rec in zip(docs, recs):
        assert "###" not in doc and "Response:" not in doc  # never the fine-tuning prompt template
        head = rec["instruction"] + ("\n" + rec["input"] if rec["input"] else "")
        assert doc == head + "\n" + rec["output"]


def test_worked_problems_repeat_no_banned_problem():
    free = worked_records(200, seed=0)
    banned = {(r["instruction"], r["input"]) for r in free[::3]}  # as if the pool held every third one
    kept = worked_records(200, seed=0, banned=banned)
    keys = [(r["instruction"], r["input"]) for r in kept]
    assert len(set(keys)) == 200 and not set(keys) & banned
    # the others are the same draws: only the clashing ones were redrawn
    assert [r for i, r in enumerate(free) if i % 3] == [r for i, r in enumerate(kept) if i % 3]


def test_worked_problems_are_disjoint_from_a_real_pool_and_its_heldout_sets():
    records, *_ = pool_and_heldout(350, 0, None, 1, 5, Realism(), 70, 35, 3)
    banned = {(r["instruction"], r["input"]) for r in records}
    kept = worked_records(2000, seed=0, banned=banned)
    assert not {(r["instruction"], r["input"]) for r in kept} & banned
    assert worked_problems(2000, seed=0, banned=banned) == [worked_text(r) for r in kept]


def test_worked_problems_follow_the_configured_families_and_depths():
    recs = worked_records(12, seed=1, families=["sorting", "dates"], min_depth=2, max_depth=4)
    assert {r["domain"] for r in recs} == {"sorting", "dates"} and {r["steps"] for r in recs} == {2, 3, 4}
    with pytest.raises(ValueError, match="unknown family"):
        worked_problems(3, seed=0, families=["poetry"])


def test_corpus_without_worked_problems_is_the_docstrings_unchanged():
    doc = ["alpha docs", "beta docs", "gamma docs"]
    assert pretraining_corpus(doc, [], seed=0) == doc


def test_corpus_mixes_both_kinds_by_seed():
    doc = [f"docstring {i}" for i in range(50)]
    worked = [f"worked {i}" for i in range(50)]
    mixed = pretraining_corpus(doc, worked, seed=0)
    assert sorted(mixed) == sorted(doc + worked)
    assert mixed == pretraining_corpus(doc, worked, seed=0) != pretraining_corpus(doc, worked, seed=1)
    first_half = mixed[:50]
    assert 10 < sum(d.startswith("worked") for d in first_half) < 40  # interleaved, not appended


def test_worked_text_of_a_template_free_record():
    rec = {"instruction": "Sort: 3, 1, 2", "input": "", "output": "Step 1: 1\nAnswer: 1, 2, 3"}
    assert worked_text(rec) == "Sort: 3, 1, 2\nStep 1: 1\nAnswer: 1, 2, 3"
    assert PromptTemplate().render(rec) not in worked_text(rec)
