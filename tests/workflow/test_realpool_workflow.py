"""configs/realpool.yaml through the real workflow on a slice of the
real-data folder: JSON Lines ingest with its ledger, embeddings, landscape,
depth and the regression study, on the smoke model sizes."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_support import snakemake

pytestmark = pytest.mark.workflow

# the real-data fixture lies in shared/ beside the repository
REALPOOL = Path(__file__).resolve().parents[3] / "shared" / "data" / "realpool"
LINES_PER_FILE = 50
R = "results/realpool-slice"


@pytest.fixture(scope="module")
def realpool_run(tmp_path_factory):
    if not REALPOOL.is_dir():
        pytest.skip("realpool fixture not present")
    work = tmp_path_factory.mktemp("realpool")
    pool = work / "pool"
    pool.mkdir()
    lines = 0
    for src in sorted(REALPOOL.glob("*.jsonl")):
        head = src.read_bytes().splitlines(keepends=True)[:LINES_PER_FILE]
        (pool / src.name).write_bytes(b"".join(head))
        lines += len(head)
    override = work / "slice.yaml"
    override.write_text(yaml.safe_dump({
        "name": "realpool-slice",
        "pool": {"source": "jsonl", "path": str(pool)},
        # 270 pooled rows once the four public benchmarks (180 rows) are held out
        "split": {"dev_size": 40, "test_size": 30},
        "warmup": {"size": 40},
        "regression": {"group_by": "cell", "size": 20},
    }))
    targets = [f"{R}/tables/regression_summary.json", f"{R}/figures/landscape.png"]
    snakemake(work, *targets, configfiles=("configs/realpool.yaml", "configs/smoke.yaml", str(override)))
    return work, lines


def test_realpool_slice_is_ingested_with_a_complete_ledger(realpool_run):
    work, lines = realpool_run
    ledger = json.loads((work / R / "pool/ledger.json").read_text())
    pool = pd.read_parquet(work / R / "pool/pool.parquet")
    assert ledger["read"] == lines
    held = pd.read_parquet(work / R / "pool/heldout.parquet")
    assert ledger["read"] == ledger["kept"] + ledger["rejected_total"] and ledger["kept"] == len(pool) + len(held)
    # the folder's domains come through from the data
    assert {"general", "math", "code", "roleplay"} <= set(pool["domain"])
    assert set(pool["domain"]) <= {"general", "math", "code", "roleplay", "reasoning"}
    # the public test sets are held out as benchmarks, never pooled; a test set is drawn from the rest
    benchmarks = {"gsm8k_test", "alpaca_eval_gpt4_1106_preview", "mt_bench_gpt4_reference", "self_instruct_user_oriented"}
    assert set(held.loc[held["split"] == "benchmark", "source"]) == benchmarks
    assert not set(pool["source"]) & benchmarks
    assert not set(held["id"]) & set(pool["id"]) and (held["split"] == "test").sum() == 30


def test_realpool_slice_regression_study_fits_every_subset(realpool_run):
    work, _ = realpool_run
    examples = pd.read_parquet(work / R / "tables/examples.parquet")
    assert examples["RID"].between(0, 1).all() and np.isfinite(examples["info_depth"]).all()
    table = pd.read_csv(work / R / "tables/regression.csv")
    summary = json.loads((work / R / "tables/regression_summary.json").read_text())
    assert len(table) == 8 and summary["n"] == 8  # 2 coverage levels x 2 RID bands x 2 seeds (smoke design)
    assert np.isfinite(table["dev_loss"]).all() and (table["dev_loss"] > 0).all()
    assert (table["n"] == 20).all()  # every subset has the configured size
    assert 0.0 <= summary["r2"] <= 1.0
