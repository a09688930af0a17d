"""The selection and scaling study in a complete smoke run: the table holds
the grid, the summary its verdicts, the export target writes a usable
selection, and a budget change reruns only what depends on it."""

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from snakemake.utils import update_config, validate
from workflow_support import ROOT, planned_jobs, snakemake

from ila import io, scaling
from ila.pool import toy

pytestmark = pytest.mark.workflow

R = "results/smoke"
FOUNDATION = (
    "toy_pool", "ingest", "split_dev", "embed_shard", "embed_gather", "project", "cells", "corpus", "tokenizer",
    "pretrain", "base_model", "warmup_set", "warmup", "score_plan", "score_shard", "score_gather", "depth_table",
)
REGRESSION = ("regression_design", "regression_finetune", "regression_table", "regression_ols", "regression_figures")


def smoke_config() -> dict:
    cfg = copy.deepcopy(yaml.safe_load((ROOT / "config.yaml").read_text()))
    update_config(cfg, yaml.safe_load((ROOT / "configs/smoke.yaml").read_text()))
    validate(cfg, str(ROOT / "schemas/config.schema.yaml"))
    return cfg


def grid_points(cfg):
    s = cfg["scaling"]
    return scaling.grid(s["pool_fractions"], s["budgets"], s["fixed_budget"], s["replicates"], s["grid"])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_scaling_table_holds_the_grid_with_values_in_range(smoke_run):
    cfg = smoke_config()
    methods, points = cfg["selection"]["methods"], grid_points(cfg)
    table = pd.read_csv(smoke_run / R / "tables/scaling.csv")
    got = sorted(zip(table["method"], table["pool_fraction"], table["budget"], table["replicate"]))
    assert got == sorted((m, p.fraction, p.budget, p.replicate) for m in methods for p in points)
    n_cand = len(pd.read_parquet(smoke_run / R / "tables/examples.parquet"))
    assert (table["pool_size"] == [scaling.pool_size(n_cand, f) for f in table["pool_fraction"]]).all()
    assert (table["n_selected"] == table["budget"]).all() and (table["short_by"] == 0).all()
    # judged on the held-out test set and the multiple-choice benchmark
    assert (table["test_loss"] > 0).all() and np.isfinite(table["test_loss"]).all()
    assert (table["test_loss_clipped"] <= cfg["scaling"]["clip"] + 1e-9).all()
    assert "dev_loss" not in table.columns
    families = sorted(toy.FAMILIES)
    for col in ["mc_accuracy", "accuracy"] + [f"mc_accuracy_{f}" for f in families] + [f"accuracy_{f}" for f in families]:
        assert table[col].notna().all() and table[col].between(0, 1).all(), col
    assert (table["mc_chance"] == 0.25).all() and (table["mc_accuracy_se"] > 0).all()
    assert table["coverage_occupied"].between(0, 1).all() and (table["coverage_occupied"] > 0).all()
    assert table["mean_RID"].between(0, 1).all()
    timings = pd.read_csv(smoke_run / R / "tables/scaling_timings.csv")
    assert len(timings) == len(table) and (timings["selection_seconds"] >= 0).all() and (timings["train_seconds"] > 0).all()
    assert not [c for c in table.columns if c.endswith("_seconds")]
    # the round-robin reading reaches every occupied cell when the budget allows it
    rr = table[table["method"] == "ila-roundrobin"]
    assert (rr.loc[rr["budget"] >= rr["cells_occupied"], "coverage_occupied"] == 1.0).all()


def test_selection_files_follow_the_nested_pools_and_join_the_runs(smoke_run):
    cfg = smoke_config()
    cand = pd.read_parquet(smoke_run / R / "selection/candidates.parquet")
    ledger = json.loads((smoke_run / R / "selection/candidates.json").read_text())
    i0 = set(io.read_ids(smoke_run / R / "depth/i0_ids.txt"))
    assert ledger["candidates"] == len(cand) and ledger["warmup_I0"] == len(i0) == 80
    assert ledger["pool_rows"] == ledger["dev"] + ledger["warmup_I0"] + ledger["candidates"] + ledger["not_scored"]
    assert not set(cand["id"]) & i0
    for method in cfg["selection"]["methods"]:
        for p in grid_points(cfg):
            ids = io.read_ids(smoke_run / R / f"selection/{method}/{p.key}.txt")
            record = json.loads((smoke_run / R / f"selection/{method}/{p.key}.json").read_text())
            run = json.loads((smoke_run / R / f"scaling/runs/{method}/{p.key}.json").read_text())
            members = set(scaling.pool_members(cand, p.fraction, cfg["seed"], p.replicate)["id"])
            assert len(ids) == len(set(ids)) == p.budget and set(ids) <= members
            assert record["ids_sha256"] == run["ids_sha256"] == io.sha256_ids(ids)
            assert run["train_examples"] == p.budget and run["seed"] == scaling.run_seed(cfg["seed"], method, p)
            if method == "deita":  # the record names the scorer: the offline proxy, not Deita
                assert record["deita_scorers"]["complexity"]["scorer"] == "proxy (not Deita)"
            if method == "ila":  # the knob its dev-loss model chose, and the model it used
                assert record["info"]["knob"] in [k["knob"] for k in record["info"]["knobs"]]
                assert record["dev_loss_model"]["path"].endswith("calibration/model.json")
            gens = read_jsonl(smoke_run / R / f"scaling/runs/{method}/{p.key}.generations.jsonl")
            assert len(gens) == run["accuracy"]["n"] and sum(g["correct"] for g in gens) == run["accuracy"]["correct"]
            mc = read_jsonl(smoke_run / R / f"scaling/runs/{method}/{p.key}.mc.jsonl")
            assert sum(m["correct"] for m in mc if m["scored"]) == round(run["mc"]["mc_accuracy"] * run["mc"]["n"])
    # each replicate drew its own sub-pool: the random selections of two replicates at the half pool
    # come from different nested pools
    half = [p for p in grid_points(cfg) if p.fraction < 1]
    if len({p.replicate for p in half}) > 1:
        pools = {p.replicate: set(scaling.pool_members(cand, p.fraction, cfg["seed"], p.replicate)["id"]) for p in half}
        assert len({frozenset(v) for v in pools.values()}) == len(pools)


def test_eval_set_is_held_out_from_the_pool(smoke_run):
    cfg = smoke_config()
    problems = read_jsonl(smoke_run / R / "scaling/eval_set.jsonl")
    pool = pd.read_parquet(smoke_run / R / "pool/pool.parquet")
    assert not {(p["instruction"], p["input"]) for p in problems} & set(zip(pool["instruction"], pool["input"]))
    per_family = pd.Series([p["domain"] for p in problems]).value_counts()
    assert set(per_family.index) == set(toy.FAMILIES) and (per_family == cfg["scaling"]["eval_per_family"]).all()


def test_summary_and_figures(smoke_run):
    cfg = smoke_config()
    summary = json.loads((smoke_run / R / "tables/scaling_summary.json").read_text())
    assert {"metrics", "baseline", "means", "differences", "slopes", "predictions", "headline", "methods"} <= set(summary)
    assert summary["metrics"][:2] == ["test_loss", "mc_accuracy"] and summary["baseline"] == "random"
    assert summary["replicates"] == cfg["scaling"]["replicates"]
    others = set(cfg["selection"]["methods"]) - {"random"}
    diffs = [d for d in summary["differences"] if d["metric"] == "test_loss"]
    assert {d["method"] for d in diffs} == others and all(d["n"] == len(cfg["scaling"]["replicates"]) for d in diffs)
    assert all(d["ci_low"] <= d["diff"] <= d["ci_high"] for d in diffs)
    slopes = {(x["method"], x["reference"]) for x in summary["slopes"] if x["metric"] == "test_loss"}
    assert ("random", None) in slopes and ("ila", "random") in slopes
    # the config's predictions about methods this config runs are decided; the others are not measured
    outcomes = {p["id"]: p["outcome"] for p in summary["predictions"]}
    assert set(outcomes) == {p["id"] for p in cfg["scaling"]["predictions"]}
    assert set(outcomes.values()) <= {"held", "failed", "not shown", "not measured"}
    assert outcomes["P2"] == "not measured"  # random-balanced is not a smoke method
    md = (smoke_run / R / "tables/scaling.md").read_text()
    assert "## Headline" in md and summary["headline"][0] in md and "## Predictions" in md
    assert any("NOT Deita" in n for n in summary["notes"]) and "NOT Deita" in md and "stand-in" in md
    comp = pd.read_csv(smoke_run / R / "tables/scaling_composition.csv")
    assert len(comp) == len(cfg["selection"]["methods"]) * len(grid_points(cfg))
    assert {"corruption_none", "corruption_wrong_answer", "near_duplicate"} <= set(comp.columns)
    check = json.loads((smoke_run / R / "tables/devloss_check.json").read_text())
    assert check["groups"] == len(grid_points(cfg)) and check["observed"] == "test_loss"
    model = json.loads((smoke_run / R / "calibration/model.json").read_text())
    assert model["sources"]["calibration"] == 3 and model["sources"]["regression"] == 8
    for stem in ("scaling_budget", "scaling_pool", "scaling_selection"):
        png = (smoke_run / R / "figures" / f"{stem}.png").read_bytes()
        pdf = (smoke_run / R / "figures" / f"{stem}.pdf").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 10_000
        assert pdf.startswith(b"%PDF") and b"CreationDate" not in pdf


def test_export_target_writes_selected_pool_rows(smoke_run):
    targets = [f"{R}/selection/export/ila-b50.jsonl", f"{R}/selection/export/b80.jsonl"]
    # an option between --configfile (which takes a list) and the targets
    snakemake(smoke_run, "--cores", "2", *targets)
    pool = pd.read_parquet(smoke_run / R / "pool/pool.parquet").set_index("id")
    rows = read_jsonl(smoke_run / R / "selection/export/ila-b50.jsonl")
    ids = io.read_ids(smoke_run / R / "selection/export/ila-b50.txt")
    assert len(rows) == 50 and [r["ila_id"] for r in rows] == ids and len(set(ids)) == 50
    # the default export format is messages; the toy rows' own keys are kept, labels renamed
    assert set(rows[0]) == {"messages", "domain", "user_labels", "steps", "answer", "ila_id", "ila_rank",
                            "ila_cell", "ila_rid", "ila_domain", "ila_source"}
    for r in rows:
        src = pool.loc[r["ila_id"]]
        user = src["instruction"] + ("\n\n" + src["input"] if src["input"] else "")
        assert r["messages"] == [{"role": "user", "content": user}, {"role": "assistant", "content": src["output"]}]
        assert r["ila_domain"] == src["domain"] and r["user_labels"] == list(src["labels"])
    record = json.loads((smoke_run / R / "selection/export/ila-b50.json").read_text())
    assert record["method"] == "ila" and record["n_selected"] == 50 and record["jsonl_rows"] == 50
    assert record["dev_loss_model"]["path"].endswith("calibration/model.json") and record["dev_loss_model"]["knob"] is not None
    assert record["candidates_ledger"]["warmup_I0"] == 80
    # the shortcut exports ILA, and equals the study's selection at that point
    assert io.read_ids(smoke_run / R / "selection/export/b80.txt") == io.read_ids(smoke_run / R / "selection/ila/f1-b80-s0.txt")


def test_changing_a_budget_reruns_selection_training_and_figures_only(smoke_run, tmp_path):
    extra = tmp_path / "budget.yaml"
    extra.write_text(yaml.safe_dump({"scaling": {"budgets": [40, 60], "fixed_budget": 60}}))
    jobs = planned_jobs(snakemake(smoke_run, "-n", configfiles=("configs/smoke.yaml", str(extra))))
    n_methods = len(smoke_config()["selection"]["methods"])
    assert jobs.get("select_method") == n_methods
    assert jobs.get("scaling_finetune", 0) >= n_methods  # every method's groups hold new points
    assert {"scaling_table", "scaling_summary", "scaling_figures"} <= set(jobs)
    for rule in FOUNDATION + REGRESSION + ("select_candidates", "toy_eval_set"):
        assert rule not in jobs, rule


def test_changing_one_methods_parameters_reruns_only_that_method(smoke_run, tmp_path):
    extra = tmp_path / "params.yaml"
    extra.write_text(yaml.safe_dump({"selection": {"params": {"deita": {"similarity_threshold": 0.95}}}}))
    jobs = planned_jobs(snakemake(smoke_run, "-n", configfiles=("configs/smoke.yaml", str(extra))))
    assert jobs.get("select_method") == 1
    runs_per_job = smoke_config()["finetune"]["runs_per_job"]
    assert jobs.get("scaling_finetune") == -(-len(grid_points(smoke_config())) // runs_per_job)  # deita's groups only
    for rule in FOUNDATION + REGRESSION:
        assert rule not in jobs, rule
