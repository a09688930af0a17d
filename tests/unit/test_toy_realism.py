"""Tests of the toy pool's realism knobs, its ground truth, its held-out sets
and the multiple-choice items of its benchmark (ila.pool.toy.corrupt,
ila.pool.toy.heldout, ila.pool.toy.choices)."""

from __future__ import annotations

import collections
import hashlib
import importlib.util
import json
import math
import re
import subprocess
from pathlib import Path

import pytest

from ila.io import stable_id
from ila.pool import ingest, toy
from ila.pool.toy.choices import MC_KEYS, mc_items, mc_rows
from ila.pool.toy.corrupt import CORRUPTIONS, Realism, family_counts, make_pool
from ila.pool.toy.generator import redraw
from ila.pool.toy.heldout import heldout_sets, pool_and_heldout

ROOT = Path(__file__).resolve().parents[2]
N = 3000
KNOBS = dict(imbalance=1.0, near_duplicate_rate=0.15, near_duplicate_burst=6, wrong_answer_rate=0.10,
             inconsistent_step_rate=0.05, terse_rate=0.10, truncated_rate=0.03, mismatched_rate=0.02)
TEXT = ("instruction", "input", "output", "domain", "steps", "answer")


@pytest.fixture(scope="module")
def realistic():
    recs, truth = make_pool(N, 4, realism=Realism(**KNOBS))
    # The same pool before the response corruptions: same rows, clean responses.
    clean, _ = make_pool(N, 4, realism=Realism(imbalance=1.0, near_duplicate_rate=0.15, near_duplicate_burst=6))
    return recs, truth, {(r["instruction"], r["input"]): r for r in clean}


def _old_generator(tmp_path):
    """The generator as it was at a437422 (before the realism knobs), or None
    when the repository history is not available."""
    try:
        src = subprocess.run(["git", "show", "a437422:src/ila/pool/toy.py"], cwd=ROOT, capture_output=True,
                             check=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = tmp_path / "toy_a437422.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("toy_a437422", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# -------------------------------------------------------------------------- clean control


def test_clean_control_equals_the_pool_before_the_knobs(tmp_path):
    recs, truth = make_pool(6000, 0, realism=Realism())
    assert recs == toy.generate(6000, 0)
    rows = [[r[k] for k in TEXT] for r in recs]
    # Frozen digest of generate(6000, seed=0) at a437422 without labels.
    digest = hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()
    assert digest == "9beabbda0fe3d2c4e478580c3f8ec04620185a7041b70efac7dd01775279510e"
    old = _old_generator(tmp_path)
    if old is not None:
        for seed, n, fams in ((0, 700, None), (3, 350, ["dates", "sorting"])):
            new_rows = make_pool(n, seed, fams, realism=Realism())[0]
            old_rows = old.generate(n, seed, families=fams)
            assert [[r[k] for k in TEXT] for r in new_rows] == [[r[k] for k in TEXT] for r in old_rows]
            ids = [stable_id(r["instruction"], r["input"], r["output"]) for r in new_rows]
            assert ids == [stable_id(r["instruction"], r["input"], r["output"]) for r in old_rows]
    assert {t["corruption"] for t in truth} == {"none"} and not any(t["dup_burst"] for t in truth)


# -------------------------------------------------------------------------- corruptions


def _tolerance(p: float, n: int) -> float:
    return 4 * math.sqrt(p * (1 - p) / n) + 1 / n


def test_each_corruption_appears_at_its_rate(realistic):
    recs, truth, _ = realistic
    counts = collections.Counter(t["corruption"] for t in truth)
    for kind in CORRUPTIONS:
        p = KNOBS[f"{kind}_rate"]
        assert abs(counts[kind] / len(recs) - p) <= _tolerance(p, len(recs)), (kind, counts[kind])
    dups = sum(t["dup_kind"] in ("rephrase", "numbers") for t in truth)
    assert abs(dups / len(recs) - 0.15) <= _tolerance(0.15, len(recs))
    assert len(recs) == N


def test_each_corruption_is_really_wrong_by_the_solver(realistic):
    recs, truth, clean = realistic
    seen = collections.Counter()
    for r, t in zip(recs, truth):
        ok = clean[(r["instruction"], r["input"])]
        true = toy.solve(r)
        stated = toy.final_answer(r["output"])
        kind = t["corruption"]
        seen[kind] += 1
        assert r["answer"] == (stated or "")
        if kind == "none":
            assert r["output"] == ok["output"] and stated == true
        elif kind == "wrong_answer":
            assert stated != true
            assert r["output"].rsplit("\n", 1)[0] == ok["output"].rsplit("\n", 1)[0]
        elif kind == "inconsistent_step":
            assert stated == true
            a, b = r["output"].split("\n"), ok["output"].split("\n")
            diff = [k for k in range(len(b)) if a[k] != b[k]]
            # one wrong step, never the last one, and the lines after it are the right ones
            assert len(a) == len(b) and len(diff) == 1 and diff[0] < len(b) - 2
        elif kind == "terse":
            assert r["output"] == f"Answer: {true}"
        elif kind == "truncated":
            assert stated is None and ok["output"].startswith(r["output"]) and r["output"]
        elif kind == "mismatched":
            assert stated != true
            others = {o["output"] for o in clean.values() if o["domain"] == r["domain"]}
            assert r["output"] in others
    assert set(seen) == {"none", *CORRUPTIONS}


def test_near_duplicates_come_in_bursts_of_the_same_problem(realistic):
    recs, truth, clean = realistic
    bursts = collections.defaultdict(list)
    for r, t in zip(recs, truth):
        if t["dup_burst"]:
            bursts[t["dup_burst"]].append((r, t))
    ids = {t["id"]: r for r, t in zip(recs, truth)}
    sizes = collections.Counter()
    for src_id, members in bursts.items():
        kinds = [t["dup_kind"] for _, t in members]
        assert kinds.count("source") == 1 and 2 <= len(members) <= 7
        sizes[len(members)] += 1
        src = clean[(ids[src_id]["instruction"], ids[src_id]["input"])]
        for r, t in members:
            c = clean[(r["instruction"], r["input"])]
            assert toy.final_answer(c["output"]) == toy.solve(c)  # copies are correct
            if t["dup_kind"] == "rephrase":
                assert c["output"] == src["output"]
                assert (r["instruction"], r["input"]) != (src["instruction"], src["input"])
            elif t["dup_kind"] == "numbers":
                ta, tb = src["instruction"] + src["input"], r["instruction"] + r["input"]
                a, b = re.findall(r"\d+", ta), re.findall(r"\d+", tb)
                assert re.sub(r"\d+", "#", ta) == re.sub(r"\d+", "#", tb)
                assert len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1
                assert r["domain"] in ("arithmetic", "unit_conversion", "dates", "chained")
    assert len(sizes) > 2  # bursts of several sizes
    assert len({(r["instruction"], r["input"]) for r in recs}) == len(recs)


def test_long_tail_over_families():
    counts = family_counts(700, list(toy.FAMILIES), 1.0)
    assert sum(counts.values()) == 700
    assert list(counts.values()) == sorted(counts.values(), reverse=True)
    assert counts["arithmetic"] == round(700 / sum(1 / k for k in range(1, 8)))
    recs, _ = make_pool(700, 1, realism=Realism(imbalance=1.0))
    assert collections.Counter(r["domain"] for r in recs) == collections.Counter(counts)


def test_bad_knobs_raise():
    with pytest.raises(ValueError, match="sum to"):
        make_pool(100, 0, realism=Realism(wrong_answer_rate=0.6, terse_rate=0.5))
    with pytest.raises(ValueError, match="pool.toy.terse_rate"):
        make_pool(100, 0, realism=Realism(terse_rate=-0.1))
    with pytest.raises(ValueError, match="inconsistent_step_rate"):
        make_pool(100, 0, min_depth=1, max_depth=1, realism=Realism(inconsistent_step_rate=0.5))


# -------------------------------------------------------------------------- the pool table carries no truth


def test_pool_table_does_not_carry_the_truth(tmp_path, realistic):
    recs, truth, clean = realistic
    path = tmp_path / "toy.jsonl"
    toy.write_jsonl(recs, path)
    res = ingest.ingest("jsonl", path=path)
    assert list(res.pool.columns) == ingest.POOL_COLUMNS
    assert set(res.pool["source"]) == {"toy"} and res.ledger["rejected_total"] == 0
    by_id = {t["id"]: t for t in truth}
    assert set(res.pool["id"]) == set(by_id)
    # Labels describe the problem, the same for a corrupted row as for its clean twin.
    for row in res.pool.itertuples():
        c = clean[(row.instruction, row.input)]
        assert list(row.labels) == c["labels"]
    raw_keys = {k for r in recs for k in r}
    assert raw_keys == {"instruction", "input", "output", "domain", "labels", "steps", "answer"}


# -------------------------------------------------------------------------- labels are skills


def test_labels_name_skills_not_task_options():
    recs = toy.generate(35 * 40, seed=9)
    for r in recs:
        if r["domain"] == "sorting":
            assert not {"descending", "alphabetical", "sorting"} & set(r["labels"])
            items = r["answer"].split(", ")
            if r["labels"][0] == "alphabetical_comparison":
                assert ("later_letter_comparison" in r["labels"]) == (len({w[0] for w in items}) < len(items))
            else:
                assert ("digit_count_comparison" in r["labels"]) == (len({len(x) for x in items}) > 1)
        if r["domain"] == "counting":
            assert ("absent_letter" in r["labels"]) == ("appears 0 times" in r["output"])
        if r["domain"] == "dates":
            years = re.findall(r"(\d{4})-\d{2}-\d{2}", r["output"])
            assert ("year_rollover" in r["labels"]) == (len(set(years)) > 1)
    # The order asked is an option, not a skill: the flipped sort has the same labels.
    drawn = heldout_sets([], 0, 35, 0, 0, families=["sorting"])["dev"]
    for rec, state in drawn:
        assert redraw("sorting", rec["steps"], state, flip=True)["labels"] == rec["labels"]


# -------------------------------------------------------------------------- held-out sets


def test_heldout_sets_are_clean_balanced_and_disjoint():
    pool, _ = make_pool(700, 2, realism=Realism(**KNOBS))
    sets = heldout_sets([(r["instruction"], r["input"]) for r in pool], 2, 70, 35, 5)
    keys = {(r["instruction"], r["input"]) for r in pool}
    for split, drawn in sets.items():
        recs = [r for r, _ in drawn]
        ks = {(r["instruction"], r["input"]) for r in recs}
        assert len(ks) == len(recs) and not ks & keys
        keys |= ks
        assert all(toy.final_answer(r["output"]) == toy.solve(r) for r in recs)
        assert {r["source"] for r in recs} == {f"toy_{split}"}
        fam = collections.Counter(r["domain"] for r in recs)
        assert set(fam) == set(toy.FAMILIES) and max(fam.values()) - min(fam.values()) <= 1
    assert len(sets["benchmark"]) == 35


# -------------------------------------------------------------------------- multiple-choice items


def _flipped_problem(rec: dict) -> dict | None:
    """The problem text of the flipped task, for the families where it can be
    written; None otherwise."""
    text = rec["instruction"] + "\n" + rec["input"]
    swaps = {
        "arithmetic": [(" + ", " @ "), (" - ", " + "), (" @ ", " - ")],
        "dates": [("add ", "@ "), ("subtract ", "add "), ("@ ", "subtract ")],
        "chained": [("add ", "@ "), ("subtract ", "add "), ("@ ", "subtract ")],
        "string_edit": [("remove the first letter", "@"), ("remove the last letter", "remove the first letter"),
                        ("@", "remove the last letter"),
                        ("append", "@"), ("prepend", "append"), ("@", "prepend")],
        "sorting": [("in descending order", "@1"), ("in ascending order", "in descending order"),
                    ("@1", "in ascending order"), ("from largest to smallest", "@2"),
                    ("from smallest to largest", "from largest to smallest"), ("@2", "from smallest to largest"),
                    ("in reverse alphabetical order", "@3"), ("from Z to A", "@4"),
                    ("alphabetically", "from Z to A"), ("in alphabetical order", "from Z to A"),
                    ("@3", "alphabetically"), ("@4", "alphabetically")],
    }.get(rec["domain"])
    if swaps is None:
        return None
    for a, b in swaps:
        text = text.replace(a, b)
    if rec["domain"] == "string_edit":
        text = re.sub(r"replace every '(.)' with '(.)'", r"replace every '\2' with '\1'", text)
    return {"domain": rec["domain"], "instruction": text, "input": ""}


def test_mc_items_gold_distractors_and_flips():
    sets = heldout_sets([], 5, 7, 0, 20)
    drawn = sets["benchmark"]
    items, ledger = mc_items(drawn, seed=5)
    by_id = {stable_id(r["instruction"], r["input"], r["output"]): (r, s) for r, s in drawn}
    labels = collections.Counter()
    flips = 0
    for it in items:
        rec, state = by_id[it["id"]]
        ch = it["choices"]
        assert len(ch) == 4 and len(set(ch)) == 4  # distractors differ from the gold and from each other
        assert ch[it["label"]] == rec["output"] and ch.count(rec["output"]) == 1
        assert it["distractors"][it["label"]] == "gold"
        labels[it["label"]] += 1
        same = {r["output"] for r, _ in drawn if r["domain"] == rec["domain"] and r["output"] != rec["output"]}
        for kind, text in zip(it["distractors"], ch):
            if kind.startswith("other_problem"):
                assert text in same
            elif kind == "wrong_answer":
                assert text.rsplit("\n", 1)[0] == rec["output"].rsplit("\n", 1)[0]
                assert toy.final_answer(text) != rec["answer"]
            elif kind == "flipped_task":
                flips += 1
                flipped = _flipped_problem(rec)
                if flipped is not None:
                    assert toy.final_answer(text) == toy.solve(flipped), (rec["instruction"], text)
                else:  # unit conversion: multiply for divide (integer division), same units
                    assert rec["domain"] == "unit_conversion"
                    steps = re.findall(r"(\d+) \w+ ([*/]) (\d+) = (\d+)", text)
                    gold = re.findall(r"\d+ \w+ ([*/]) \d+", rec["output"])
                    assert [s[1] for s in steps] == ["/" if g == "*" else "*" for g in gold]
                    for a, op, f, b in steps:
                        assert int(b) == (int(a) * int(f) if op == "*" else int(a) // int(f))
    assert flips >= 90 and ledger["sorting"]["flipped_task"] == 20 and ledger["counting"]["flipped_task"] == 0
    assert set(labels) == {0, 1, 2, 3}  # the gold's position is shuffled
    assert mc_items(drawn, seed=5)[0] == items
    from ila.lm.prompt import PromptTemplate

    rows = mc_rows(items, PromptTemplate(with_input="Q: {instruction}\n{input}\nA:\n", without_input="Q: {instruction}\nA:\n"))
    assert all(tuple(r) == MC_KEYS for r in rows) and rows[0]["prompt"].startswith("Q: ")


def test_pool_and_heldout_truth_covers_every_row():
    recs, truth, items, ledger = pool_and_heldout(350, 1, None, 1, 5, Realism(terse_rate=0.1), 35, 35, 3)
    assert len(recs) == len(truth) == 350 + 35 + 35 + 21
    assert [t["id"] for t in truth] == [stable_id(r["instruction"], r["input"], r["output"]) for r in recs]
    assert ledger["rows"] == {"pool": 350, "dev": 35, "test": 35, "benchmark": 21}
    assert ledger["corruption_by_split"]["pool"]["terse"] == 35
    assert all(t["corruption"] == "none" for t in truth if t["split"] != "pool")
    assert len(items) == 21
