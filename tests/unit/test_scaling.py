"""The scaling study's pieces: nested pool fractions, the grid, candidates,
selections per grid point, the table and the summary's win/loss logic."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ila import scaling
from ila.scaling import GridPoint


def _ids(n: int, salt: str = "") -> list[str]:
    return sorted(hashlib.sha256(f"{salt}{i}".encode()).hexdigest()[:16] for i in range(n))


# --------------------------------------------------------------------------- keys and grid


def test_fraction_labels_and_keys_round_trip():
    assert scaling.fraction_label(0.25) == "0.25"
    assert scaling.fraction_label(1.0) == "1"
    assert scaling.fraction_label(0.5) == "0.5"
    p = GridPoint(0.25, 1000, 3)
    assert p.key == "f0.25-b1000-s3"
    assert scaling.parse_key(p.key) == p
    assert scaling.parse_key("f1-b40-s0") == GridPoint(1.0, 40, 0)
    for bad in ("f1.0-b40-s0", "b40-f1-s0", "f1-b40", "f0-b40-s0x"):
        with pytest.raises(ValueError):
            scaling.parse_key(bad)
    for bad in (0.0, 1.5, 0.1234567):
        with pytest.raises(ValueError):
            scaling.fraction_label(bad)


def test_axes_grid_is_budgets_at_the_full_pool_plus_fractions_at_the_fixed_budget():
    points = scaling.grid([0.25, 0.5, 1.0], [250, 500, 1000], None, [0, 1], "axes")
    cells = sorted({(p.fraction, p.budget) for p in points})
    assert cells == [(0.25, 1000), (0.5, 1000), (1.0, 250), (1.0, 500), (1.0, 1000)]
    assert len(points) == 10 and points == sorted(points)
    assert {p.replicate for p in points} == {0, 1}
    # a fixed budget outside the budgets adds its own points on the pool axis
    points = scaling.grid([0.5, 1.0], [40, 80], 60, [0], "axes")
    assert [(p.fraction, p.budget) for p in points] == [(0.5, 60), (1.0, 40), (1.0, 60), (1.0, 80)]


def test_full_grid_is_the_cross_product_and_checks_the_fixed_budget():
    points = scaling.grid([0.25, 0.5, 1.0], [250, 500, 1000], 500, [0, 1], "full")
    assert len(points) == 3 * 3 * 2
    assert len({p.key for p in points}) == 18
    with pytest.raises(ValueError, match="fixed_budget 750"):
        scaling.grid([0.5, 1.0], [250, 500], 750, [0], "full")


def test_grid_rejects_duplicates_and_bad_values():
    with pytest.raises(ValueError, match="budgets lists"):
        scaling.grid([1.0], [40, 40], None, [0])
    with pytest.raises(ValueError, match="pool_fractions lists"):
        scaling.grid([0.5, 0.5], [40], None, [0])
    with pytest.raises(ValueError, match="positive integer"):
        scaling.grid([1.0], [0], None, [0])
    with pytest.raises(ValueError, match="grid must be"):
        scaling.grid([1.0], [40], None, [0], "diagonal")


# --------------------------------------------------------------------------- nested pools


def test_pool_fractions_are_nested_sized_by_rounding_and_order_independent():
    ids = _ids(1001)
    cand = pd.DataFrame({"id": ids})
    ranks = scaling.pool_ranks(ids, seed=scaling.pool_order_seed(7, 0))
    members = {f: set(scaling.pool_members(cand, f, 7, 0)["id"]) for f in (0.25, 0.5, 1.0)}
    assert [len(members[f]) for f in (0.25, 0.5, 1.0)] == [250, 501, 1001]  # 250.25 -> 250, 500.5 -> 501
    assert members[0.25] < members[0.5] < members[1.0]
    # the same ids in another order give the same ranks
    shuffled = list(np.random.default_rng(0).permutation(ids))
    again = scaling.pool_ranks(shuffled, seed=scaling.pool_order_seed(7, 0))
    pd.testing.assert_series_equal(ranks.sort_index(), again.sort_index())
    # another seed gives another pool
    other = scaling.pool_ranks(ids, seed=scaling.pool_order_seed(7, 1))
    assert set(other[other < 250].index) != members[0.25]
    # a quarter pool is not the first quarter of ids
    assert members[0.25] != set(ids[:250])


def test_pool_size_rounds_half_up_and_keeps_one():
    assert scaling.pool_size(10, 0.25) == 3
    assert scaling.pool_size(10, 0.5) == 5
    assert scaling.pool_size(3, 0.1) == 1
    assert scaling.pool_size(0, 0.5) == 0
    with pytest.raises(ValueError, match="duplicate"):
        scaling.pool_ranks(["a", "a"], 0)


# --------------------------------------------------------------------------- candidates


def _pool(n=12):
    ids = _ids(n, "pool")
    return pd.DataFrame({"id": ids, "instruction": [f"ins {i}" for i in range(n)], "input": "", "output": [f"out {i}" for i in range(n)]})


def test_candidate_table_joins_text_by_id_and_accounts_for_every_pool_row():
    pool = _pool(12)
    ids = pool["id"].tolist()
    dev, non_dev = ids[:2], ids[2:]
    i0 = ids[2:4]
    scored = ids[4:11]  # ids[11] is not scored
    examples = pd.DataFrame({"id": scored[::-1], "cell": range(7), "RID": np.linspace(0, 1, 7)})
    cand, ledger = scaling.candidate_table(examples, pool, non_dev, dev, i0, seed=0)
    assert ledger == {
        "pool_rows": 12, "dev": 2, "non_dev": 10, "warmup_I0": 2, "candidates": 7, "not_scored": 1,
        "candidates_without_RID": 0, "master_seed": 0,
    }
    assert cand["id"].tolist() == sorted(scored)
    row = cand.set_index("id").loc[ids[5]]
    assert row["instruction"] == "ins 5" and row["output"] == "out 5"
    assert row["cell"] == 5  # examples were reversed: the join is by id


def test_candidate_table_refuses_examples_in_the_warmup_or_dev_set():
    pool = _pool(6)
    ids = pool["id"].tolist()
    examples = pd.DataFrame({"id": [ids[2], ids[4]], "RID": [0.1, 0.2]})
    with pytest.raises(ValueError, match="warm-up set I0"):
        scaling.candidate_table(examples, pool, ids[1:], ids[:1], [ids[2]], seed=0)
    with pytest.raises(ValueError, match="dev set"):
        scaling.candidate_table(examples, pool, ids[3:], ids[:3], [], seed=0)


# --------------------------------------------------------------------------- selections


def _candidates(n=200, cells=10, seed=0):
    rng = np.random.default_rng(seed)
    ids = _ids(n, "cand")
    cand = pd.DataFrame({"id": ids, "cell": rng.integers(0, cells, n), "RID": rng.random(n)})
    emb = rng.normal(size=(n, 8)).astype(np.float32)
    return cand, emb


def test_select_grid_selects_inside_each_pool_fraction():
    cand, emb = _candidates()
    points = scaling.grid([0.25, 1.0], [20, 40], 40, [0], "axes")
    results = scaling.select_grid("ila-roundrobin", cand, points, 5, emb)
    assert [p for p, _ in results] == points
    quarter = set(scaling.pool_members(cand, 0.25, 5, 0)["id"])
    for point, sel in results:
        assert len(sel.ids) == point.budget and len(set(sel.ids)) == point.budget
        if point.fraction == 0.25:
            assert set(sel.ids) <= quarter
            assert sel.info["n_candidates"] == 50
        else:
            assert sel.info["n_candidates"] == 200
    # ILA covers every cell of the full pool at budget 40 (10 cells)
    full40 = {p.key: s for p, s in results}["f1-b40-s0"]
    assert full40.info["coverage_occupied"] == 1.0
    # one selection seed per replicate: random at 20 is the prefix of random at 40
    r = {p.key: s for p, s in scaling.select_grid("random", cand, points, 5, emb)}
    assert r["f1-b40-s0"].ids[:20] == r["f1-b20-s0"].ids
    assert r["f1-b20-s0"].seed == scaling.selection_seed(5, 0)


def test_select_grid_names_the_point_when_a_budget_does_not_fit():
    cand, emb = _candidates(n=40)
    points = [GridPoint(0.25, 20, 0)]
    with pytest.raises(ValueError, match=r"pool fraction 0.25 \(10 candidates\), budget 20"):
        scaling.select_grid("random", cand, points, 0, emb)
    [(_, sel)] = scaling.select_grid("random", cand, points, 0, emb, allow_short=True)
    assert len(sel.ids) == 10 and sel.info["short_by"] == 10


def test_selection_record_and_run_seed():
    cand, emb = _candidates(n=50)
    point = GridPoint(1.0, 10, 2)
    [(_, sel)] = scaling.select_grid("ila-roundrobin", cand, [point], 0, emb)
    d = scaling.selection_record("ila-roundrobin", point, sel, len(cand))
    assert "ids" not in d
    assert d["key"] == "f1-b10-s2" and d["pool_size"] == 50 and d["n_selected"] == 10
    assert d["replicate"] == 2 and d["seed"] == scaling.selection_seed(0, 2)  # the index, and the seed it gave
    seeds = {scaling.run_seed(0, m, GridPoint(f, b, s)) for m in ("ila", "random") for f in (0.5, 1.0) for b in (40, 80) for s in (0, 1)}
    assert len(seeds) == 16


def test_each_replicate_draws_its_own_nested_pools():
    cand, emb = _candidates()
    points = scaling.grid([0.25, 0.5, 1.0], [20], 20, [0, 1], "axes")
    quarter = {s: set(scaling.pool_members(cand, 0.25, 5, s)["id"]) for s in (0, 1)}
    half = {s: set(scaling.pool_members(cand, 0.5, 5, s)["id"]) for s in (0, 1)}
    assert quarter[0] != quarter[1]  # re-drawn per replicate
    assert quarter[0] <= half[0] and quarter[1] <= half[1]  # nested within a replicate
    sel = {p.key: s for p, s in scaling.select_grid("random", cand, points, 5, emb)}
    assert set(sel["f0.25-b20-s1"].ids) <= quarter[1] and set(sel["f0.25-b20-s0"].ids) <= quarter[0]


# --------------------------------------------------------------------------- table and summary


def _run(method, key, test_loss, mc=None, families=None, accuracy=None):
    acc = None
    if accuracy is not None:
        acc = {"accuracy": accuracy, "n": 10, "correct": int(accuracy * 10), "no_answer": 0, "per_family": {}}
    out = {"method": method, "key": key, "test_loss": test_loss, "test_loss_domain_mean": test_loss,
           "test_loss_example_mean": test_loss, "test_loss_clipped": test_loss, "accuracy": acc, "train_loss": 1.0,
           "steps": 3, "train_seconds": 1.5, "eval_seconds": 0.5, "run_seed": 1}
    if mc is not None:
        out["mc"] = {"mc_accuracy": mc, "mc_accuracy_se": 0.05, "chance": 0.25, "acc_norm": mc, "answer_loss": 1.0,
                     "gold_loss": 2.0, "per_family": families or {}}
    return out


def _sel(method, key, pool_size, excluded=None, coverage=0.5, rid=0.6):
    p = scaling.parse_key(key)
    return {"method": method, "key": key, "pool_size": pool_size, "n_selected": p.budget, "seconds": 0.01,
            "excluded": excluded or {}, "info": {"coverage_occupied": coverage, "cells_reached": 5, "cells_occupied": 10, "mean_RID": rid}}


def test_scaling_table_joins_runs_and_selections_by_method_and_key():
    sels = [_sel("ila", "f1-b40-s0", 100, {"cell_missing": 0, "rid_missing": 2}), _sel("random", "f1-b40-s0", 100)]
    runs = [_run("random", "f1-b40-s0", 2.5, 0.3, {"dates": 0.2, "sorting": 0.4}),
            _run("ila", "f1-b40-s0", 2.4, 0.5, {"dates": 0.6, "sorting": 0.4})]
    t = scaling.scaling_table(sels, runs)
    assert t["method"].tolist() == ["ila", "random"]
    ila = t.iloc[0]
    assert ila["test_loss"] == 2.4 and ila["mc_accuracy"] == 0.5 and ila["mc_accuracy_dates"] == 0.6
    assert ila["mc_chance"] == 0.25 and ila["answer_loss"] == 1.0
    assert ila["excluded_rid_missing"] == 2 and ila["excluded_total"] == 2
    assert pd.isna(t.iloc[1]["excluded_rid_missing"])  # random has no such reason
    assert ila["pool_size"] == 100 and ila["budget"] == 40 and ila["pool_fraction"] == 1.0
    assert not set(scaling.TIMING_COLUMNS) & set(t.columns)  # wall-clock columns live in their own table
    timings = scaling.timing_table(sels, runs)
    assert timings.set_index("method").loc["ila", "train_seconds"] == 1.5
    assert timings.set_index("method").loc["random", "selection_seconds"] == 0.01
    with pytest.raises(KeyError, match="kcenter/f1-b40-s0"):
        scaling.scaling_table(sels, runs + [_run("kcenter", "f1-b40-s0", 2.0)])
    # a run without a benchmark: null, not 0
    t2 = scaling.scaling_table(sels[:1], [_run("ila", "f1-b40-s0", 2.4)])
    assert t2["mc_accuracy"].isna().all() and t2["accuracy"].isna().all()


def _hand_table():
    """Five replicates. At budget 100 ila beats random by exactly 0.1 nats at
    every replicate at the largest pool, and its margin grows by exactly
    0.05 per pool doubling (0 at 250, -0.05 at 500, -0.1 at 1000) while
    random is flat; kcenter is worse than random with noise; at budget 50 ila
    ties random."""
    rows = []
    noise = [0.02, -0.01, 0.0, 0.01, -0.02]

    def add(method, fraction, size, budget, loss, spread=0.0, acc=0.5):
        for replicate in range(5):
            rows.append({"method": method, "pool_fraction": fraction, "pool_size": size, "budget": budget,
                         "replicate": replicate, "test_loss": loss + noise[replicate] * (1 + spread), "mc_accuracy": acc,
                         "coverage_occupied": 0.5, "mean_RID": 0.5})

    for fraction, size, margin in ((0.25, 250, 0.0), (0.5, 500, -0.05), (1.0, 1000, -0.1)):
        add("random", fraction, size, 100, 2.2)
        add("ila", fraction, size, 100, 2.2 + margin, acc=0.6)
        add("kcenter", fraction, size, 100, 2.4, spread=3.0)
    add("random", 1.0, 1000, 50, 2.5)
    add("ila", 1.0, 1000, 50, 2.5)
    add("kcenter", 1.0, 1000, 50, 2.6, spread=3.0)
    return pd.DataFrame(rows)


PREDICTIONS = [
    {"id": "P1", "text": "random is flat in pool size", "kind": "slope", "method": "random", "reference": None,
     "metric": "test_loss", "expect": "zero"},
    {"id": "P2", "text": "ila beats random at the largest pool", "kind": "difference", "method": "ila",
     "reference": "random", "metric": "test_loss", "expect": "negative"},
    {"id": "P3", "text": "ila's margin grows with the pool", "kind": "slope", "method": "ila", "reference": "random",
     "metric": "test_loss", "expect": "negative"},
    {"id": "P4", "text": "kcenter beats random", "kind": "difference", "method": "kcenter", "reference": "random",
     "metric": "test_loss", "expect": "negative"},
    {"id": "P5", "text": "ila ties random at budget 50", "kind": "difference", "method": "ila", "reference": "random",
     "metric": "test_loss", "expect": "positive", "pool_fraction": 1.0, "budget": 50},
    {"id": "P6", "text": "ila beats kcenter (a pair without the baseline)", "kind": "difference", "method": "ila",
     "reference": "kcenter", "metric": "test_loss", "expect": "negative"},
]


def test_summary_intervals_slopes_and_predictions_on_a_hand_made_table():
    s = scaling.summarize(_hand_table(), ["test_loss", "mc_accuracy", "answer_loss"], "random", 100,
                          predictions=PREDICTIONS)
    assert s["metrics"] == ["test_loss", "mc_accuracy"]  # answer_loss was not measured
    assert s["replicates"] == [0, 1, 2, 3, 4] and s["n_runs"] == 60
    d = {(x["method"], x["budget"], x["pool_fraction"], x["metric"]): x for x in s["differences"]
         if x["reference"] == "random"}
    vs_kc = [x for x in s["differences"] if x["reference"] == "kcenter"]
    assert len(vs_kc) == 4 and {x["metric"] for x in vs_kc} == {"test_loss"}  # only the pair a prediction names
    ila = d[("ila", 100, 1.0, "test_loss")]
    assert ila["diff"] == pytest.approx(-0.1) and ila["n"] == 5 and ila["holds"] is True
    assert ila["half_width"] == pytest.approx(0.0, abs=1e-12)  # the same margin in every replicate
    kc = d[("kcenter", 100, 1.0, "test_loss")]
    assert kc["diff"] == pytest.approx(0.2) and kc["holds"] is True  # worse, and the interval says so
    assert d[("ila", 50, 1.0, "test_loss")]["holds"] is False
    slopes = {(x["method"], x["reference"], x["metric"]): x for x in s["slopes"]}
    assert slopes[("ila", "random", "test_loss")]["slope"] == pytest.approx(-0.05)
    assert slopes[("random", None, "test_loss")]["slope"] == pytest.approx(0.0, abs=1e-12)
    m = {(x["method"], x["budget"], x["pool_fraction"], x["metric"]): x for x in s["means"]}
    rnd = m[("random", 100, 1.0, "test_loss")]
    sd = np.std([0.02, -0.01, 0.0, 0.01, -0.02], ddof=1)
    assert rnd["mean"] == pytest.approx(2.2) and rnd["half_width"] == pytest.approx(2.776445 * sd / np.sqrt(5), rel=1e-5)
    outcomes = {p["id"]: p["outcome"] for p in s["predictions"]}
    assert outcomes == {"P1": "held", "P2": "held", "P3": "held", "P4": "failed", "P5": "not shown", "P6": "held"}
    text = "\n".join(s["headline"])
    assert "better than random (95% CI excludes 0): ila; worse: kcenter" in text
    md = scaling.summary_markdown(s)
    assert "## Predictions (written before the run)" in md and "| P4 | kcenter beats random |" in md
    assert "**failed**" in md and "ila - random: -0.0500" in md


def test_prediction_outcomes():
    assert scaling.outcome("negative", -0.3, -0.1) == "held"
    assert scaling.outcome("negative", 0.1, 0.3) == "failed"
    assert scaling.outcome("negative", -0.1, 0.3) == "not shown"
    assert scaling.outcome("positive", 0.1, 0.3) == "held"
    assert scaling.outcome("zero", -0.1, 0.3) == "held" and scaling.outcome("zero", 0.1, 0.3) == "failed"
    assert scaling.outcome("negative", None, None) == "not shown"
    with pytest.raises(ValueError, match="expects"):
        scaling.outcome("smaller", 0, 1)


def test_summary_needs_a_measured_metric_and_the_baseline():
    t = _hand_table()
    with pytest.raises(ValueError, match="none of the summary metrics"):
        scaling.summarize(t, ["answer_loss"], "random", 100)
    with pytest.raises(ValueError, match="baseline 'coverage'"):
        scaling.summarize(t, ["test_loss"], "coverage", 100)


def test_figures_are_written_and_byte_stable(tmp_path):
    t = _hand_table()
    for i in (0, 1):
        scaling.plot_budget(t, "test_loss", "ila", tmp_path / f"b{i}.png", tmp_path / f"b{i}.pdf", dpi=50)
        scaling.plot_pool(t, "test_loss", "ila", 100, tmp_path / f"p{i}.png", tmp_path / f"p{i}.pdf", dpi=50)
        scaling.plot_selection(t, "ila", tmp_path / f"s{i}.png", tmp_path / f"s{i}.pdf", dpi=50)
    for stem in ("b", "p", "s"):
        for ext in ("png", "pdf"):
            a, b = (tmp_path / f"{stem}0.{ext}").read_bytes(), (tmp_path / f"{stem}1.{ext}").read_bytes()
            assert len(a) > 1000 and a == b
