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
    assert {p.seed for p in points} == {0, 1}
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
    ranks = scaling.pool_ranks(ids, seed=7)
    cand["pool_rank"] = ranks.loc[cand["id"]].to_numpy()
    members = {f: set(scaling.pool_members(cand, f)["id"]) for f in (0.25, 0.5, 1.0)}
    assert [len(members[f]) for f in (0.25, 0.5, 1.0)] == [250, 501, 1001]  # 250.25 -> 250, 500.5 -> 501
    assert members[0.25] < members[0.5] < members[1.0]
    # the same ids in another order give the same ranks
    shuffled = list(np.random.default_rng(0).permutation(ids))
    again = scaling.pool_ranks(shuffled, seed=7)
    pd.testing.assert_series_equal(ranks.sort_index(), again.sort_index())
    # another seed gives another pool
    other = scaling.pool_ranks(ids, seed=8)
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
        "candidates_without_RID": 0, "pool_order_seed": 0,
    }
    assert cand["id"].tolist() == sorted(scored)
    row = cand.set_index("id").loc[ids[5]]
    assert row["instruction"] == "ins 5" and row["output"] == "out 5"
    assert row["cell"] == 5  # examples were reversed: the join is by id
    assert sorted(cand["pool_rank"]) == list(range(7))


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
    cand["pool_rank"] = scaling.pool_ranks(ids, 0).loc[ids].to_numpy()
    emb = rng.normal(size=(n, 8)).astype(np.float32)
    return cand, emb


def test_select_grid_selects_inside_each_pool_fraction():
    cand, emb = _candidates()
    points = scaling.grid([0.25, 1.0], [20, 40], 40, [0], "axes")
    results = scaling.select_grid("ila", cand, points, 5, emb)
    assert [p for p, _ in results] == points
    quarter = set(scaling.pool_members(cand, 0.25)["id"])
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
    [(_, sel)] = scaling.select_grid("ila", cand, [point], 0, emb)
    d = scaling.selection_record("ila", point, sel, len(cand))
    assert "ids" not in d
    assert d["key"] == "f1-b10-s2" and d["pool_size"] == 50 and d["n_selected"] == 10
    assert d["replicate_seed"] == 2 and d["seed"] == scaling.selection_seed(0, 2)
    seeds = {scaling.run_seed(0, m, GridPoint(f, b, s)) for m in ("ila", "random") for f in (0.5, 1.0) for b in (40, 80) for s in (0, 1)}
    assert len(seeds) == 16


# --------------------------------------------------------------------------- table and summary


def _run(method, key, dev_loss, accuracy=None, families=None):
    acc = None
    if accuracy is not None:
        acc = {"accuracy": accuracy, "n": 10, "correct": int(accuracy * 10), "no_answer": 0,
               "per_family": {f: {"accuracy": a, "n": 5, "correct": int(a * 5), "no_answer": 0} for f, a in (families or {}).items()}}
    return {"method": method, "key": key, "dev_loss": dev_loss, "dev_loss_domain_mean": dev_loss, "dev_loss_example_mean": dev_loss,
            "dev_loss_clipped": dev_loss, "accuracy": acc, "train_loss": 1.0, "steps": 3, "train_seconds": 1.0, "run_seed": 1}


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
    assert ila["dev_loss"] == 2.4 and ila["accuracy"] == 0.5 and ila["accuracy_dates"] == 0.6
    assert ila["excluded_rid_missing"] == 2 and ila["excluded_total"] == 2
    assert pd.isna(t.iloc[1]["excluded_rid_missing"])  # random has no such reason
    assert ila["pool_size"] == 100 and ila["budget"] == 40 and ila["pool_fraction"] == 1.0
    with pytest.raises(KeyError, match="kcenter/f1-b40-s0"):
        scaling.scaling_table(sels, runs + [_run("kcenter", "f1-b40-s0", 2.0)])
    # non-toy pools: accuracy stays null, not 0
    t2 = scaling.scaling_table(sels[:1], [_run("ila", "f1-b40-s0", 2.4)])
    assert t2["accuracy"].isna().all()


def _hand_table():
    """ILA beats random and loses to kcenter at budget 100 (largest pool);
    its margin over random grows with the pool at budget 100."""
    rows = []

    def add(method, fraction, size, budget, losses, accs):
        for seed, (loss, acc) in enumerate(zip(losses, accs)):
            rows.append({"method": method, "pool_fraction": fraction, "pool_size": size, "budget": budget, "seed": seed,
                         "dev_loss": loss, "accuracy": acc, "coverage_occupied": 0.5, "mean_RID": 0.5})

    add("ila", 1.0, 1000, 50, [2.50, 2.60], [0.30, 0.30])
    add("random", 1.0, 1000, 50, [2.50, 2.60], [0.30, 0.30])
    add("kcenter", 1.0, 1000, 50, [2.70, 2.70], [0.20, 0.20])
    add("ila", 1.0, 1000, 100, [2.00, 2.20], [0.50, 0.60])
    add("random", 1.0, 1000, 100, [2.10, 2.25], [0.50, 0.40])
    add("kcenter", 1.0, 1000, 100, [1.90, 2.00], [0.70, 0.80])
    add("ila", 0.5, 500, 100, [2.10, 2.10], [0.40, 0.40])
    add("random", 0.5, 500, 100, [2.15, 2.15], [0.40, 0.40])
    add("kcenter", 0.5, 500, 100, [2.20, 2.20], [0.30, 0.30])
    add("ila", 0.25, 250, 100, [2.30, 2.30], [0.30, 0.30])
    add("random", 0.25, 250, 100, [2.30, 2.30], [0.30, 0.30])
    add("kcenter", 0.25, 250, 100, [2.40, 2.40], [0.20, 0.20])
    return pd.DataFrame(rows)


def test_summary_win_loss_logic_on_a_hand_made_table():
    s = scaling.summarize(_hand_table(), "dev_loss", "ila", "random", fixed_budget=100)
    assert s["metrics"] == ["dev_loss", "accuracy"]
    assert [c["budget"] for c in s["by_budget"]] == [50, 100]
    b100 = s["by_budget"][1]
    vs_random, vs_kcenter = b100["vs"]["random"]["dev_loss"], b100["vs"]["kcenter"]["dev_loss"]
    assert vs_random["mean_diff"] == pytest.approx(-0.075)
    assert vs_random["diffs"] == pytest.approx({"0": -0.10, "1": -0.05})
    assert vs_random["verdict"] == "reference_better" and vs_random["reference_wins"] == 2
    # ILA loses to kcenter: the summary says so
    assert vs_kcenter["mean_diff"] == pytest.approx(0.15)
    assert vs_kcenter["verdict"] == "reference_worse" and vs_kcenter["reference_losses"] == 2
    assert vs_kcenter["min_diff"] == pytest.approx(0.1) and vs_kcenter["max_diff"] == pytest.approx(0.2)
    assert vs_kcenter["std_diff"] == pytest.approx(np.std([0.1, 0.2], ddof=1))
    assert b100["rank"] == ["kcenter", "ila", "random"]
    # accuracy: higher is better; one seed tied, one won
    acc = b100["vs"]["random"]["accuracy"]
    assert acc["mean_diff"] == pytest.approx(0.1) and acc["verdict"] == "reference_better"
    assert (acc["reference_wins"], acc["ties"], acc["reference_losses"]) == (1, 1, 0)
    assert b100["vs"]["kcenter"]["accuracy"]["verdict"] == "reference_worse"
    # budget 50: identical to random (tie), better than kcenter
    b50 = s["by_budget"][0]
    assert b50["vs"]["random"]["dev_loss"]["verdict"] == "tie"
    assert b50["vs"]["kcenter"]["dev_loss"]["verdict"] == "reference_better"
    # per-method spread over seeds
    st = b100["methods"]["ila"]["dev_loss"]
    assert (st["min"], st["max"], st["n"]) == (2.0, 2.2, 2)
    assert st["mean"] == pytest.approx(2.1) and st["std"] == pytest.approx(np.std([2.0, 2.2], ddof=1))
    # the margin over random grows with the pool: 0 (250), 0.05 (500), 0.075 (1000)
    pool = s["pool_scaling"]
    assert pool["pool_sizes"] == [250, 500, 1000]
    assert pool["dev_loss"]["margin_over_baseline"] == pytest.approx([0.0, 0.05, 0.075])
    assert pool["dev_loss"]["grows"] is True and pool["dev_loss"]["monotone"] is True
    assert pool["dev_loss"]["slope_per_doubling"] == pytest.approx(0.0375)
    gains = pool["dev_loss"]["method_gain_small_to_large_pool"]
    assert gains["ila"] == pytest.approx(0.2) and gains["random"] == pytest.approx(0.125)
    text = " ".join(s["headline"])
    assert "loses to kcenter (+0.1500)" in text
    assert "margin of ila over random grows with pool size" in text


def test_summary_reports_a_shrinking_margin_and_a_single_seed_without_spread():
    t = _hand_table()
    t = t[t["seed"] == 0].copy()
    # make ILA's advantage at the largest pool vanish
    t.loc[(t["method"] == "ila") & (t["pool_size"] == 1000) & (t["budget"] == 100), "dev_loss"] = 2.20
    s = scaling.summarize(t, "dev_loss", "ila", "random", fixed_budget=100)
    p = s["pool_scaling"]["dev_loss"]
    assert p["margin_over_baseline"] == pytest.approx([0.0, 0.05, -0.1])
    assert p["grows"] is False and p["monotone"] is False
    cmp = s["by_budget"][1]["vs"]["random"]["dev_loss"]
    assert cmp["verdict"] == "reference_worse" and cmp["std_diff"] is None and cmp["n_seeds"] == 1
    assert s["by_budget"][1]["methods"]["ila"]["dev_loss"]["std"] is None
    assert "does not grow" in " ".join(s["headline"])
    md = scaling.summary_markdown(s)
    assert "## By budget (largest pool)" in md and "## By pool size (budget 100)" in md
    assert "## Notes" not in md
    noted = scaling.summary_markdown(scaling.summarize(t, "dev_loss", notes=["deita ran with a proxy"]))
    assert "## Notes\n\n- deita ran with a proxy" in noted
    assert "| ila |" in md


def test_summary_without_accuracy_or_reference():
    t = _hand_table().assign(accuracy=np.nan)
    s = scaling.summarize(t, "dev_loss", "ila", "random", 100)
    assert s["metrics"] == ["dev_loss"] and "accuracy" not in s["pool_scaling"]
    s = scaling.summarize(t[t["method"] != "ila"], "dev_loss", "ila", "random", 100)
    assert s["reference_present"] is False and s["by_budget"][0]["vs"] == {}
    assert "no comparison" in s["headline"][0]
    with pytest.raises(ValueError, match="metric"):
        scaling.summarize(t, "accuracy")


def test_figures_are_written_and_byte_stable(tmp_path):
    t = _hand_table()
    for i in (0, 1):
        scaling.plot_budget(t, "dev_loss", "ila", tmp_path / f"b{i}.png", tmp_path / f"b{i}.pdf", dpi=50)
        scaling.plot_pool(t, "dev_loss", "ila", 100, tmp_path / f"p{i}.png", tmp_path / f"p{i}.pdf", dpi=50)
        scaling.plot_selection(t, "ila", tmp_path / f"s{i}.png", tmp_path / f"s{i}.pdf", dpi=50)
    for stem in ("b", "p", "s"):
        for ext in ("png", "pdf"):
            a, b = (tmp_path / f"{stem}0.{ext}").read_bytes(), (tmp_path / f"{stem}1.{ext}").read_bytes()
            assert len(a) > 1000 and a == b
