"""ila-audit on the real smoke run: the lineage of a figure, and what makes
it stale (an edited input, a changed parameter)."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml
from workflow_support import ROOT

from ila.plumbing import hashing
from ila.plumbing import provenance as prov

pytestmark = pytest.mark.workflow

R = "results/smoke"
FIGURE = f"{R}/figures/landscape.png"


def ila_audit(workdir, *args, timeout=300):
    cmd = [sys.executable, "-m", "ila.plumbing.audit", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=workdir)


@pytest.fixture
def run_copy(smoke_run, tmp_path):
    """A copy of the smoke run (files, mtimes and Snakemake's metadata) that
    a test may change."""
    dst = tmp_path / "run"
    shutil.copytree(smoke_run, dst, symlinks=True)
    return dst


def test_every_output_along_the_figure_chain_has_a_sidecar(smoke_run):
    car = prov.read_sidecar(smoke_run / f"{FIGURE}.provenance.json")
    rules = [s["rule"] for s in car["steps"]]
    assert rules[-1] == "figure_landscape"
    for rule in ("toy_pool", "ingest", "split_dev", "embed_shard", "embed_gather", "project", "cells",
                 "corpus", "tokenizer", "pretrain", "warmup", "score_shard", "depth_table"):
        assert rule in rules
    assert rules.count("embed_shard") == 2 and rules.count("score_shard") == 2
    for step in car["steps"]:
        for out in step["outputs"]:
            assert (smoke_run / (out["path"] + hashing.SIDECAR_SUFFIX)).is_file(), out["path"]
            assert not os.path.isabs(out["path"])
    # one config, stored once, with the config file the run was given
    assert len(car["configs"]) == 1 and next(iter(car["configs"].values()))["cells"]["grid_size"] == 5
    assert car["steps"][-1]["config"]["files"][0]["path"] == "configs/smoke.yaml"
    assert car["steps"][-1]["script"]["path"] == "scripts/figure_landscape.py"
    assert str(smoke_run) not in (smoke_run / f"{FIGURE}.provenance.json").read_text()


def test_audit_of_a_fresh_figure_is_current_and_shows_its_lineage(smoke_run):
    proc = ila_audit(smoke_run, FIGURE)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lineage = proc.stdout.split("checks:")[0]
    order = [lineage.index(f". {rule}") for rule in ("ingest", "embed_gather", "project", "cells", "depth_table", "figure_landscape")]
    assert order == sorted(order)
    assert ". pretrain" in lineage and "grid_size=5" in lineage
    assert f"Snakemake: nothing to be done for {FIGURE}" in proc.stdout
    assert "verdict: CURRENT" in proc.stdout


def test_audit_names_an_edited_input(run_copy):
    info = run_copy / R / "landscape/cells.json"
    data = json.loads(info.read_text())
    data["edited_by_hand"] = True
    info.write_text(json.dumps(data))
    proc = ila_audit(run_copy, FIGURE, "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    res = json.loads(proc.stdout)
    assert res["status"] == "stale"
    assert f"STALE (inputs): input changed since it was used: {R}/landscape/cells.json (read by figure_landscape)" in res["reasons"]
    # Snakemake agrees: the figure's files would be rebuilt because of that
    # file, and nothing upstream (it was edited by hand, not by its rule)
    files = res["snakemake"]["files"]
    rerun = {f["path"]: (f["rule"], f["reason"]) for f in files if f["rerun"]}
    assert rerun[FIGURE] == ("figure_landscape", "updated input")
    assert {rule for rule, _ in rerun.values()} == {"figure_landscape"}
    assert {reason for _, reason in rerun.values()} == {"updated input"}
    kept = [f for f in files if not f["rerun"]]
    assert {f["rule"] for f in kept} >= {"cells", "embed_shard", "pretrain"}
    assert {(f["reason"], f["tracked"]) for f in kept} == {("current", True)}


def test_audit_names_a_changed_parameter(smoke_run, tmp_path):
    extra = tmp_path / "grid.yaml"
    extra.write_text(yaml.safe_dump({"cells": {"grid_size": 3}}))
    proc = ila_audit(smoke_run, FIGURE, "--configfile", ROOT / "configs/smoke.yaml", extra)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    stale = [line for line in proc.stdout.splitlines() if "[STALE" in line]
    assert len(stale) == 1 and "snakemake: Snakemake would rerun" in stale[0]
    assert "cells: params (" in stale[0]
    assert "config keys changed: cells.grid_size" in stale[0]
    assert "cells.grid_size (5 -> 3)" in proc.stdout
    # embedding and models are upstream of the change: not rerun
    assert "embed_shard" not in stale[0] and "pretrain" not in stale[0]
