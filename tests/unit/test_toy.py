"""Tests of the embedded synthetic instruction pool (ila.pool.toy)."""

from __future__ import annotations

import collections
import hashlib
import json
import re

import pytest

from ila.pool import toy

KEYS = {"instruction", "input", "output", "domain", "labels", "steps", "answer"}
N_CELLS = len(toy.FAMILIES) * 5
STEP_LINE = re.compile(r"^Step (\d+): ", re.MULTILINE)


@pytest.fixture(scope="module")
def pool() -> list[dict]:
    return toy.generate(N_CELLS * 60, seed=3)


def test_families_are_the_seven_task_families():
    assert toy.FAMILIES == (
        "arithmetic", "string_edit", "sorting", "unit_conversion", "counting", "dates", "chained",
    )


def test_same_seed_gives_identical_records_and_other_seed_differs():
    a = toy.generate(70, seed=0)
    b = toy.generate(70, seed=0)
    c = toy.generate(70, seed=1)
    assert a == b
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a != c
    keys_a = {(r["instruction"], r["input"]) for r in a}
    keys_c = {(r["instruction"], r["input"]) for r in c}
    assert len(keys_a & keys_c) < 5


def test_golden_first_three_records_for_seed_0():
    # The digest of the generator at a437422 (before skill labels), labels left out.
    first = toy.generate(35, seed=0)[:3]
    for r in first:
        r.pop("labels")
    digest = hashlib.sha256(json.dumps(first, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    assert digest == "2acfa7d311042a0edf509ccdae3e4eaa72da0492995799081b1cf36c756c546b"
    assert first[0]["instruction"] == "Express the quantity in the input in inches."
    assert first[0]["answer"] == "15048 inches"


def test_every_family_and_depth_is_balanced(pool):
    counts = collections.Counter((r["domain"], r["steps"]) for r in pool)
    assert set(counts) == {(f, d) for f in toy.FAMILIES for d in range(1, 6)}
    assert set(counts.values()) == {60}


def test_balance_with_remainder_and_subset_of_families_and_depths():
    recs = toy.generate(3 * 2 * 4 + 5, seed=7, families=["dates", "sorting"], min_depth=2, max_depth=4)
    counts = collections.Counter((r["domain"], r["steps"]) for r in recs)
    assert set(counts) == {(f, d) for f in ("dates", "sorting") for d in (2, 3, 4)}
    # 29 examples over 6 cells: 5 cells hold 5, one cell holds 4.
    assert sorted(counts.values()) == [4, 5, 5, 5, 5, 5]
    assert toy.generate(0, seed=7) == []


def test_record_fields_and_types(pool):
    for r in pool:
        assert set(r) == KEYS
        assert r["domain"] in toy.FAMILIES
        assert type(r["steps"]) is int and 1 <= r["steps"] <= 5
        assert isinstance(r["labels"], list) and len(r["labels"]) >= 1
        assert all(isinstance(x, str) and x for x in r["labels"])
        assert len(set(r["labels"])) == len(r["labels"])
        assert all(isinstance(r[k], str) for k in ("instruction", "input", "output", "answer"))
        assert r["answer"] and "\n" not in r["answer"]


def test_solver_recomputes_every_answer(pool):
    wrong = [(r, toy.solve(r)) for r in pool if toy.solve(r) != r["answer"]]
    assert wrong == []


def test_response_shows_one_numbered_line_per_step_then_the_answer(pool):
    for r in pool:
        numbers = [int(k) for k in STEP_LINE.findall(r["output"])]
        assert numbers == list(range(1, r["steps"] + 1)), r["output"]
        lines = r["output"].split("\n")
        assert len(lines) == r["steps"] + 1
        assert lines[-1] == f"Answer: {r['answer']}"
        assert toy.final_answer(r["output"]) == r["answer"]


def test_examples_are_distinct(pool):
    keys = [(r["instruction"], r["input"], r["output"]) for r in pool]
    assert len(set(keys)) == len(keys)


def test_length_budget(pool):
    for r in pool:
        text = r["instruction"] + r["input"] + r["output"]
        digits = sum(c.isdigit() for c in text)
        assert len(text) <= toy.MAX_CHARS == 400
        assert len(text) + digits <= toy.MAX_COST
    longest = max(len(r["instruction"] + r["input"] + r["output"]) for r in pool)
    assert longest > 300  # deep examples are genuinely longer


def test_phrasing_variety_per_family(pool):
    by_family = collections.defaultdict(set)
    with_input = collections.defaultdict(set)
    for r in pool:
        # Every template opens with two fixed words, so the opening names the template.
        by_family[r["domain"]].add(" ".join(r["instruction"].split()[:2]))
        with_input[r["domain"]].add(bool(r["input"]))
    for family in toy.FAMILIES:
        assert len(by_family[family]) == 6, (family, sorted(by_family[family]))
        assert with_input[family] == {True, False}, family


def test_depth_is_the_number_of_operations(pool):
    for r in pool:
        text = r["instruction"] + "\n" + r["input"]
        d = r["steps"]
        if r["domain"] == "arithmetic":
            assert len(re.findall(r" [+*-] ", text)) == d
        elif r["domain"] == "sorting":
            items = r["answer"].split(", ")
            assert len(items) == d + 1
        elif r["domain"] == "counting":
            assert len([q for q in re.findall(r"'([^']*)'", text) if len(q) == 1]) == d
        elif r["domain"] == "chained":
            assert len(r["labels"]) == d
        elif r["domain"] == "unit_conversion":
            assert r["labels"][1] in ("multiplication", "division")
            assert ("unit_chaining" in r["labels"]) == (d > 1)


def test_labels_combine_skills():
    recs = toy.generate(N_CELLS * 10, seed=11)
    chained5 = [r for r in recs if r["domain"] == "chained" and r["steps"] == 5]
    assert chained5 and all(len(r["labels"]) == 5 for r in chained5)
    assert all(any(x.startswith("count_") for x in r["labels"]) for r in chained5)
    arith1 = [r for r in recs if r["domain"] == "arithmetic" and r["steps"] == 1]
    assert all("nested_expression" not in r["labels"] for r in arith1)
    assert {x for r in recs if r["domain"] == "arithmetic" for x in r["labels"]} == {
        "addition", "subtraction", "multiplication", "carry_or_borrow", "multi_digit_multiplication",
        "nested_expression",
    }


@pytest.mark.parametrize(
    "record, expected",
    [
        ({"domain": "arithmetic", "instruction": "What is 3 * (4 + 5)? Show each step.", "input": ""}, "27"),
        ({"domain": "arithmetic", "instruction": "Solve the arithmetic problem below.",
          "input": "((10 - 4) * 2) + 1 = ?"}, "13"),
        ({"domain": "string_edit",
          "instruction": "Apply these edits in order to the word 'stone': reverse it, then remove the first "
                         "letter, then replace every 'o' with 'a'.", "input": ""}, "nats"),
        ({"domain": "string_edit", "instruction": "Edit the word below as follows: swap the first and last "
                                                  "letters, then prepend the letter 'x'.",
          "input": "'lamp'"}, "xpaml"),
        ({"domain": "sorting", "instruction": "Sort the following words in reverse alphabetical order.",
          "input": "pear, apple, fig"}, "pear, fig, apple"),
        ({"domain": "sorting", "instruction": "Can you list 10, 2, 33 from smallest to largest?",
          "input": ""}, "2, 10, 33"),
        ({"domain": "unit_conversion", "instruction": "How many inches are there in 2 yards?", "input": ""},
         "72 inches"),
        ({"domain": "unit_conversion", "instruction": "Please convert 3600 seconds to hours.", "input": ""},
         "1 hour"),
        ({"domain": "unit_conversion", "instruction": "Express the quantity in the input in bits.",
          "input": "3 kilobytes"}, "24000 bits"),
        ({"domain": "counting",
          "instruction": "Count how many times the letters 'a' and 'n' appear in 'banana' in total.",
          "input": ""}, "5"),
        ({"domain": "dates", "instruction": "Starting from 29 February 2024, add 1 day, subtract 2 weeks, "
                                            "name the weekday. Give the result.", "input": ""}, "Friday"),
        ({"domain": "dates", "instruction": "Do the date arithmetic in the input step by step.",
          "input": "start: December 30, 2023\nthen: add 3 days"}, "2024-01-02"),
        ({"domain": "chained", "instruction": "Take the word 'banana', remove its vowels, then count its "
                                              "letters, then multiply by 3. What is the result?",
          "input": ""}, "9"),
        ({"domain": "chained", "instruction": "Follow the instructions in order.",
          "input": "word: 'kite'\nconvert it to uppercase\nreverse it"}, "ETIK"),
    ],
)
def test_solver_on_hand_written_problems(record, expected):
    assert toy.solve(record) == expected


@pytest.mark.parametrize(
    "record, message",
    [
        ({"domain": "poetry", "instruction": "Write a poem.", "input": ""}, "poetry"),
        ({"instruction": "What is 2 + 2?", "input": ""}, "None"),
        ({"domain": "arithmetic", "instruction": "Say hello.", "input": ""}, "no expression"),
        ({"domain": "unit_conversion", "instruction": "Convert 3 hours to meters.", "input": ""}, "cannot convert"),
        ({"domain": "chained", "instruction": "Take the word 'kite', add 3.", "input": ""}, "needs a number"),
        ({"domain": "dates", "instruction": "Add 3 days to some date.", "input": ""}, "no start date"),
    ],
)
def test_solver_rejects_what_it_cannot_parse(record, message):
    with pytest.raises(ValueError, match=message):
        toy.solve(record)


def test_final_answer_extraction():
    assert toy.final_answer("Step 1: 2 + 2 = 4\nAnswer: 4") == "4"
    assert toy.final_answer("Answer: 3\nStep 1: x\nAnswer:  2024-01-02  ") == "2024-01-02"
    # A generation that runs on after its answer line.
    assert toy.final_answer("Step 1: reverse -> 'ab'\nAnswer: ab\n### Instruction:\nmore") == "ab"
    assert toy.final_answer("Answer:") == ""
    assert toy.final_answer("Step 1: 2 + 2 = 4") is None
    assert toy.final_answer("") is None


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 10, "seed": 0, "families": ["arithmetic", "poetry"]}, "poetry"),
        ({"n": 10, "seed": 0, "families": ["dates", "dates"]}, "dates"),
        ({"n": 10, "seed": 0, "families": []}, "families is empty"),
        ({"n": 10, "seed": 0, "min_depth": 0}, "min_depth"),
        ({"n": 10, "seed": 0, "max_depth": 6}, "max_depth"),
        ({"n": 10, "seed": 0, "min_depth": 4, "max_depth": 2}, "min_depth"),
        ({"n": -1, "seed": 0}, "n must be"),
        ({"n": 2.5, "seed": 0}, "n must be"),
        ({"n": 10, "seed": "0"}, "seed must be"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        toy.generate(**kwargs)


def test_cell_that_cannot_yield_distinct_examples_raises(monkeypatch):
    monkeypatch.setitem(toy._GENERATORS, "arithmetic", lambda rng, d: ("same", "", ["x"] * d, ["a"], "1"))
    monkeypatch.setattr(toy, "MAX_REDRAWS", 3)
    assert len(toy.generate(1, seed=0, families=["arithmetic"], max_depth=1)) == 1
    with pytest.raises(ValueError, match="could not draw a new distinct 'arithmetic' example of depth 1"):
        toy.generate(2, seed=0, families=["arithmetic"], max_depth=1)


def test_write_jsonl_round_trip(tmp_path):
    recs = toy.generate(14, seed=5)
    path = tmp_path / "sub" / "pool.jsonl"
    assert toy.write_jsonl(recs, path) == 14
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 14
    assert [json.loads(x) for x in lines] == recs
    assert lines[0] == json.dumps(recs[0], sort_keys=True, ensure_ascii=False)
    assert list(json.loads(lines[0])) == sorted(KEYS)
    assert sorted(p.name for p in path.parent.iterdir()) == ["pool.jsonl"]


def test_write_jsonl_keeps_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "pool.jsonl"
    path.write_text("old\n", encoding="utf-8")

    def broken():
        yield {"a": 1}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        toy.write_jsonl(broken(), path)
    assert path.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.jsonl"]
