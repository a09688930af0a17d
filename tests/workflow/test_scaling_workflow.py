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
    return scaling.grid(s["pool_fractions"], s["budgets"], s["fixed_budget"], s["seeds"], s["grid"])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_scaling_table_holds_the_grid_with_values_in_range(smoke_run):
    cfg = smoke_config()
    methods, points = cfg["selection"]["methods"], grid_points(cfg)
    table = pd.read_csv(smoke_run / R / "tables/scaling.csv")
    got = sorted(zip(table["method"], table["pool_fraction"], table["budget"], table["seed"]))
    assert got == sorted((m, p.fraction, p.budget, p.seed) for m in methods for p in points)
    n_cand = len(pd.read_parquet(smoke_run / R / "tables/examples.parquet"))
    assert (table["pool_size"] == [scaling.pool_size(n_cand, f) for f in table["pool_fraction"]]).all()
    assert (table["n_selected"] == table["budget"]).all() and (table["short_by"] == 0).all()
    assert (table["dev_loss"] > 0).all() and np.isfinite(table["dev_loss"]).all()
    assert (table["dev_loss_clipped"] <= cfg["scaling"]["clip"] + 1e-9).all()
    families = sorted(toy.FAMILIES)
    for col in ["accuracy"] + [f"accuracy_{f}" for f in families]:
        assert table[col].notna().all() and table[col].between(0, 1).all(), col
    assert table["coverage_occupied"].between(0, 1).all() and (table["coverage_occupied"] > 0).all()
    assert table["mean_RID"].between(0, 1).all()
    assert (table["selection_seconds"] >= 0).all()
    # ILA reaches every occupied cell when the budget allows it
    ila = table[table["method"] == "ila"]
    assert (ila.loc[ila["budget"] >= ila["cells_occupied"], "coverage_occupied"] == 1.0).all()


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
            members = set(scaling.pool_members(cand, p.fraction)["id"])
            assert len(ids) == len(set(ids)) == p.budget and set(ids) <= members
            assert record["ids_sha256"] == run["ids_sha256"] == io.sha256_ids(ids)
            assert run["train_examples"] == p.budget and run["seed"] == scaling.run_seed(cfg["seed"], method, p)
            if method == "deita":  # the record names the scorer: the offline proxy, not Deita
                assert record["deita_scorers"]["complexity"]["scorer"] == "proxy (not Deita)"
            gens = read_jsonl(smoke_run / R / f"scaling/runs/{method}/{p.key}.generations.jsonl")
            assert len(gens) == run["accuracy"]["n"] and sum(g["correct"] for g in gens) == run["accuracy"]["correct"]


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
    assert {"metric", "reference", "baseline", "cells", "by_budget", "pool_scaling", "headline", "methods"} <= set(summary)
    assert summary["metrics"] == ["dev_loss", "accuracy"]
    assert [c["budget"] for c in summary["by_budget"]] == sorted(cfg["scaling"]["budgets"])
    others = set(cfg["selection"]["methods"]) - {"ila"}
    for cell in summary["cells"]:
        assert set(cell["vs"]) == others
        for cmp in cell["vs"].values():
            assert cmp["dev_loss"]["verdict"] in {"reference_better", "reference_worse", "tie"}
    pool = summary["pool_scaling"]
    assert pool["budget"] == cfg["scaling"]["fixed_budget"] and len(pool["pool_sizes"]) == len(cfg["scaling"]["pool_fractions"])
    assert isinstance(pool["dev_loss"]["grows"], bool)
    md = (smoke_run / R / "tables/scaling.md").read_text()
    assert "## Headline" in md and summary["headline"][0] in md
    assert "NOT Deita" in summary["notes"][0] and "NOT Deita" in md
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
    assert record["candidates_ledger"]["warmup_I0"] == 80
    # the shortcut exports ILA, and equals the study's selection at that point
    assert io.read_ids(smoke_run / R / "selection/export/b80.txt") == io.read_ids(smoke_run / R / "selection/ila/f1-b80-s0.txt")


def test_changing_a_budget_reruns_selection_training_and_figures_only(smoke_run, tmp_path):
    extra = tmp_path / "budget.yaml"
    extra.write_text(yaml.safe_dump({"scaling": {"budgets": [40, 60], "fixed_budget": 60}}))
    jobs = planned_jobs(snakemake(smoke_run, "-n", configfiles=("configs/smoke.yaml", str(extra))))
    n_methods = len(smoke_config()["selection"]["methods"])
    assert jobs.get("select_method") == n_methods
    assert jobs.get("scaling_finetune", 0) >= n_methods * 2  # the new f0.5-b60 and f1-b60 points at least
    assert {"scaling_table", "scaling_summary", "scaling_figures"} <= set(jobs)
    for rule in FOUNDATION + REGRESSION + ("select_candidates", "toy_eval_set"):
        assert rule not in jobs, rule


def test_changing_one_methods_parameters_reruns_only_that_method(smoke_run, tmp_path):
    extra = tmp_path / "params.yaml"
    extra.write_text(yaml.safe_dump({"selection": {"params": {"deita": {"similarity_threshold": 0.95}}}}))
    jobs = planned_jobs(snakemake(smoke_run, "-n", configfiles=("configs/smoke.yaml", str(extra))))
    assert jobs.get("select_method") == 1
    assert jobs.get("scaling_finetune") == len(grid_points(smoke_config()))
    for rule in FOUNDATION + REGRESSION:
        assert rule not in jobs, rule
