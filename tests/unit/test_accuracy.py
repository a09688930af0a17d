"""Task accuracy on the toy pool: exact match of the final answer, per
family, and a held-out problem set that excludes the pool's problems."""

from __future__ import annotations

import pytest

from ila import accuracy
from ila.lm.prompt import PromptTemplate
from ila.pool import toy


def test_exact_match_of_the_final_answer():
    assert accuracy.is_correct("Step 1: 7 + 5 = 12\nStep 2: 12 * 3 = 36\nAnswer: 36", "36")
    assert accuracy.is_correct("Answer:  36  \nStep 3: rambling on", " 36")
    assert accuracy.is_correct("Answer: 12\nAnswer: 36", "36")  # the last Answer: counts
    assert not accuracy.is_correct("Answer: 37", "36")
    assert not accuracy.is_correct("Answer: 360", "36")
    assert not accuracy.is_correct("Step 1: 7 + 5 = 12\n36", "36")  # no Answer: is wrong
    assert not accuracy.is_correct("", "36")
    assert not accuracy.is_correct(None, "36")
    assert not accuracy.is_correct("answer: 36", "36")  # case matters, as in the pool


def test_scores_per_family_and_counts_missing_answers_as_wrong():
    records = [
        {"id": "a", "domain": "arithmetic", "answer": "36"},
        {"id": "b", "domain": "arithmetic", "answer": "7"},
        {"id": "c", "domain": "dates", "answer": "Monday"},
        {"id": "d", "domain": "dates", "answer": "2024-01-02"},
        {"id": "e", "domain": "dates", "answer": "Friday"},
    ]
    gens = ["Answer: 36", "Step 1: 3 + 4 = 7", "Answer: Monday", "Answer: 2024-01-03", "Answer: Friday\n###"]
    s = accuracy.score_generations(records, gens)
    assert (s["n"], s["correct"], s["no_answer"]) == (5, 3, 1)
    assert s["accuracy"] == pytest.approx(0.6)
    assert s["per_family"]["arithmetic"] == {"n": 2, "correct": 1, "no_answer": 1, "accuracy": 0.5}
    assert s["per_family"]["dates"]["accuracy"] == pytest.approx(2 / 3)
    assert s["per_family"]["dates"]["no_answer"] == 0
    empty = accuracy.score_generations([], [])
    assert empty["accuracy"] is None and empty["per_family"] == {}
    with pytest.raises(ValueError, match="2 generations for 1"):
        accuracy.score_generations(records[:1], gens[:2])


def test_eval_set_excludes_pool_problems_and_stays_balanced():
    first, ledger0 = accuracy.toy_eval_set([], per_family=5, seed=11, families=["arithmetic", "sorting"])
    assert ledger0["dropped_in_pool"] == 0 and ledger0["per_family"] == {"arithmetic": 5, "sorting": 5}
    # depths cycle 1..5 inside a family
    assert sorted(r["steps"] for r in first if r["domain"] == "arithmetic") == [1, 2, 3, 4, 5]
    # a pool that holds exactly those problems: none may come back
    pool_keys = {(r["instruction"], r["input"]) for r in first}
    second, ledger = accuracy.toy_eval_set(pool_keys, per_family=5, seed=11, families=["arithmetic", "sorting"])
    assert ledger["dropped_in_pool"] == 10
    assert not pool_keys & {(r["instruction"], r["input"]) for r in second}
    assert ledger["per_family"] == {"arithmetic": 5, "sorting": 5} and ledger["kept"] == 10
    assert ledger["drawn"] == ledger["dropped_in_pool"] + ledger["dropped_duplicate"] + ledger["not_needed"] + ledger["kept"]
    # answers are the toy pool's own, and the independent solver agrees
    for r in second:
        assert r["answer"] == toy.final_answer(r["output"]) == toy.solve(r)
    # deterministic
    again, _ = accuracy.toy_eval_set(pool_keys, per_family=5, seed=11, families=["arithmetic", "sorting"])
    assert again == second


def test_eval_set_against_a_generated_pool_and_its_prompts():
    pool = toy.generate(140, seed=0)
    keys = {(r["instruction"], r["input"]) for r in pool}
    problems, ledger = accuracy.toy_eval_set(keys, per_family=3, seed=12345)
    assert ledger["kept"] == 3 * len(toy.FAMILIES)
    assert not keys & {(r["instruction"], r["input"]) for r in problems}
    prompts = accuracy.prompts_for(problems, PromptTemplate())
    assert all(p.startswith("### Instruction:\n") and p.endswith("### Response:\n") for p in prompts)
    with_input = [p for p, r in zip(prompts, problems) if r["input"]]
    assert all("### Input:\n" in p for p in with_input)
    with pytest.raises(ValueError, match="per_family"):
        accuracy.toy_eval_set(keys, per_family=0, seed=1)


def test_generation_limits_keep_prompt_plus_answer_within_the_trained_length():
    assert accuracy.generation_limits([50, 128, 150, 250, 256, 300], 128, 256) == [128, 128, 96, 6, 1, 1]
    assert accuracy.generation_limits([60, 70], 192, 256) == [192, 176]
    assert accuracy.generation_limits([60, 500], 64, None) == [64, 64]
    with pytest.raises(ValueError):
        accuracy.generation_limits([10], 0, 256)
