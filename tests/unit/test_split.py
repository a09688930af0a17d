"""Dev split: largest-remainder stratification by domain, seeded hash choice
inside a domain, determinism, order independence and errors."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from ila.io import stable_id
from ila.pool.split import allocate_dev, dev_split, resolve_dev_size, split_summary


def make_pool(sizes: dict[str, int]) -> pd.DataFrame:
    rows = []
    for domain, n in sizes.items():
        for k in range(n):
            rows.append({"id": stable_id(f"task {domain} {k}", "", "answer"), "domain": domain})
    return pd.DataFrame(rows)


def dev_counts(pool: pd.DataFrame, dev_ids: list[str]) -> dict[str, int]:
    dom = dict(zip(pool["id"], pool["domain"]))
    out = {d: 0 for d in pool["domain"].unique()}
    for i in dev_ids:
        out[dom[i]] += 1
    return out


# Pool "" 10, b 7, c 3, d 1 (21 examples), 5 dev examples. d has one example
# and stays a candidate; the rest share 5 seats over 20 examples:
#   "": 5*10/20 = 2.50 -> 2, remainder 0.50
#   b : 5*7/20  = 1.75 -> 1, remainder 0.75
#   c : 5*3/20  = 0.75 -> 0, remainder 0.75
# floors give 3; the 2 seats left go to the largest remainders, b and c.
SIZES = {"": 10, "b": 7, "c": 3, "d": 1}
EXPECTED = {"": 2, "b": 2, "c": 1, "d": 0}


def test_stratification_matches_hand_computed_largest_remainder():
    pool = make_pool(SIZES)
    cand, dev = dev_split(pool, 5, seed=0)
    assert dev_counts(pool, dev) == EXPECTED
    assert len(dev) == 5 and len(cand) == 16
    assert cand == sorted(cand) and dev == sorted(dev)
    assert set(cand).isdisjoint(dev) and set(cand) | set(dev) == set(pool["id"])


def test_fraction_gives_the_same_count():
    pool = make_pool(SIZES)
    # 0.25 * 21 = 5.25 -> 5; 0.22 * 21 = 4.62 -> 5 (rounded half up)
    assert dev_split(pool, 0.25, seed=3) == dev_split(pool, 5, seed=3)
    assert dev_split(pool, 0.22, seed=3) == dev_split(pool, 5, seed=3)
    assert resolve_dev_size(0.5, 21) == 11  # 10.5 rounds up


def test_remainder_tie_goes_to_larger_domain_then_name():
    # 3 seats over z 6, b 2, c 4 (12): z 18/12 = 1 r6, b 6/12 = 0 r6, c 12/12 = 1 r0;
    # one seat left, z and b tie on remainder: z is larger, so z gets it.
    assert allocate_dev({"z": 6, "b": 2, "c": 4}, 3) == {"z": 2, "b": 0, "c": 1}
    # 1 seat over b 2, c 2: equal remainders and sizes, name order -> b
    assert allocate_dev({"c": 2, "b": 2}, 1) == {"b": 1, "c": 0}


def test_max_per_domain_caps_and_redistributes():
    # 5 seats over a 20, b 2, c 2: a 4 r4, b 0 r10, c 0 r10 -> b gets the spare seat
    assert allocate_dev({"a": 20, "b": 2, "c": 2}, 5) == {"a": 4, "b": 1, "c": 0}
    # with max 3: a capped at 3, the 2 seats left go to b and c (1 each, cap size-1 = 1)
    assert allocate_dev({"a": 20, "b": 2, "c": 2}, 5, max_per_domain=3) == {"a": 3, "b": 1, "c": 1}
    pool = make_pool({"a": 20, "b": 2, "c": 2})
    _, dev = dev_split(pool, 5, seed=1, max_per_domain=3)
    assert dev_counts(pool, dev) == {"a": 3, "b": 1, "c": 1}
    with pytest.raises(ValueError, match="at most 5"):
        allocate_dev({"a": 20, "b": 2, "c": 2}, 6, max_per_domain=3)


def test_singleton_domains_stay_candidates():
    pool = make_pool({"x": 1, "y": 1, "z": 4})
    cand, dev = dev_split(pool, 3, seed=0)
    assert dev_counts(pool, dev) == {"x": 0, "y": 0, "z": 3}
    single = set(pool.loc[pool["domain"].isin(["x", "y"]), "id"])
    assert single <= set(cand)
    with pytest.raises(ValueError, match="at most 3"):
        dev_split(pool, 4, seed=0)  # z must keep one candidate


def test_choice_inside_domain_is_smallest_seeded_hash():
    pool = make_pool(SIZES)
    _, dev = dev_split(pool, 5, seed=7)
    ids_b = pool.loc[pool["domain"] == "b", "id"].tolist()
    expected = sorted(ids_b, key=lambda i: hashlib.sha256(f"7:{i}".encode()).hexdigest())[:2]
    assert sorted(set(dev) & set(ids_b)) == sorted(expected)


def test_deterministic_and_seed_dependent():
    pool = make_pool({"a": 60, "b": 40, "": 25})
    first = dev_split(pool, 20, seed=11)
    assert dev_split(pool, 20, seed=11) == first
    other = dev_split(pool, 20, seed=12)
    assert other[1] != first[1]
    assert dev_counts(pool, other[1]) == dev_counts(pool, first[1]) == {"a": 10, "b": 6, "": 4}


def test_independent_of_row_order():
    pool = make_pool({"a": 60, "b": 40, "": 25})
    ref = dev_split(pool, 0.1, seed=5)
    for seed in range(3):
        shuffled = pool.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        assert dev_split(shuffled, 0.1, seed=5) == ref


@pytest.mark.parametrize("bad", [0, -1, 21, 25, 0.0, 1.0, 1.5, True, "5", None])
def test_bad_dev_size(bad):
    pool = make_pool(SIZES)
    with pytest.raises(ValueError):
        dev_split(pool, bad, seed=0)


def test_bad_pool():
    with pytest.raises(ValueError, match="domain"):
        dev_split(pd.DataFrame({"id": ["a", "b", "c"]}), 1, seed=0)
    with pytest.raises(ValueError, match="not unique"):
        dev_split(pd.DataFrame({"id": ["a", "a", "c"], "domain": ["x"] * 3}), 1, seed=0)
    with pytest.raises(ValueError, match="string"):
        dev_split(pd.DataFrame({"id": ["a", "b", "c"], "domain": ["x", None, "x"]}), 1, seed=0)


def test_split_summary():
    pool = make_pool(SIZES)
    cand, dev = dev_split(pool, 5, seed=0)
    s = split_summary(pool, cand, dev)
    assert (s["n_pool"], s["n_candidates"], s["n_dev"]) == (21, 16, 5)
    assert s["domains"] == {
        "": {"pool": 10, "candidates": 8, "dev": 2},
        "b": {"pool": 7, "candidates": 5, "dev": 2},
        "c": {"pool": 3, "candidates": 2, "dev": 1},
        "d": {"pool": 1, "candidates": 1, "dev": 0},
    }
    with pytest.raises(ValueError, match="partition"):
        split_summary(pool, cand[1:], dev)
    with pytest.raises(ValueError, match="both"):
        split_summary(pool, cand + dev[:1], dev)


# -------------------------------------------------------------------------- test set and benchmarks


def _ingest_folder(tmp_path, files: dict[str, list[tuple[str, str]]]):
    from ila.pool import ingest

    for name, rows in files.items():
        with open(tmp_path / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for ins, out in rows:
                fh.write(f'{{"instruction": "{ins}", "output": "{out}", "domain": "{name[:4]}"}}\n')
    return ingest.ingest("jsonl", path=tmp_path)


def test_hold_out_benchmark_files_test_draw_and_decontamination(tmp_path):
    from ila.pool.split import heldout_summary, hold_out

    train = [(f"train question {k}", f"a{k}") for k in range(40)]
    # "shared" sits in both files; the pool copy has the smaller id, so the
    # ingest keeps it and rejects the benchmark row as its duplicate.
    bench = [(f"bench question {k}", f"b{k}") for k in range(6)]
    shared_train, shared_bench = ("shared question", "zz"), ("shared question", "zzz")
    if stable_id(*shared_bench[:1], "", shared_bench[1]) < stable_id(shared_train[0], "", shared_train[1]):
        shared_train, shared_bench = shared_bench, shared_train
    res = _ingest_folder(tmp_path, {"math_train": train + [shared_train], "gsm_test": bench + [shared_bench]})
    assert res.ledger["rejected"]["duplicate"] == 1
    pool, heldout, ledger = hold_out(res.pool, res.rejects, holdout_files=["gsm_*"], test_size=8, seed=3)
    bench_rows = heldout[heldout["split"] == "benchmark"]
    assert set(bench_rows["source"]) == {"gsm_test"} and len(bench_rows) == 6
    assert ledger["dropped_contaminated"] == 1
    assert "shared question" not in set(pool["instruction"])
    test = heldout[heldout["split"] == "test"]
    assert len(test) == 8 and set(test["source"]) == {"math_train"}
    assert not set(test["id"]) & set(pool["id"]) and not set(bench_rows["id"]) & set(pool["id"])
    assert len(pool) == 41 - 1 - 8
    again = hold_out(res.pool.sample(frac=1, random_state=1), res.rejects, holdout_files=["gsm_*"], test_size=8, seed=3)
    assert sorted(again[1]["id"]) == sorted(heldout["id"])
    cands, dev = dev_split(pool, 5, seed=0)
    summary = heldout_summary(heldout, cands, dev)
    assert summary["n_test"] == 8 and summary["benchmark_sources"] == {"gsm_test": 6}
    with pytest.raises(ValueError, match="are also candidates"):
        heldout_summary(heldout, cands + list(test["id"][:1]), dev)


def test_hold_out_pattern_that_matches_nothing_is_an_error(tmp_path):
    from ila.pool.split import hold_out

    res = _ingest_folder(tmp_path, {"math_train": [(f"q {k}", "a") for k in range(5)]})
    with pytest.raises(ValueError, match="split.holdout_files: 'alpaca_eval' matches no source"):
        hold_out(res.pool, res.rejects, holdout_files=["alpaca_eval"])


def test_hold_out_toy_sources_and_toy_dev_ids():
    from ila.pool.split import hold_out, toy_dev_ids

    rows = []
    for src, n in (("toy", 10), ("toy_dev", 3), ("toy_test", 4), ("toy_benchmark", 2)):
        rows += [{"id": stable_id(f"{src} {k}", "", "o"), "instruction": f"{src} {k}", "input": "", "output": "o",
                  "source": src, "domain": "d", "labels": []} for k in range(n)]
    pool = pd.DataFrame(rows)
    empty = pd.DataFrame(columns=["file", "line", "reason", "detail", "id", "duplicate_of"])
    kept, heldout, ledger = hold_out(pool, empty, test_size=100, toy=True)
    assert collections_counts(heldout["split"]) == {"benchmark": 2, "test": 4}
    assert set(kept["source"]) == {"toy", "toy_dev"} and len(toy_dev_ids(kept)) == 3


def collections_counts(values) -> dict:
    out: dict = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
