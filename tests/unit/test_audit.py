"""ila-audit on a tiny fake chain (no Snakemake): current, stale inputs,
tampered outputs, changed code, changed config; and the dry-run parser."""

import json
from pathlib import Path

import pytest

from ila.plumbing import audit as aud
from ila.plumbing import configs, dryrun
from ila.plumbing import hashing
from ila.plumbing import provenance as prov

from test_provenance import build_chain, fake_job, write


@pytest.fixture(autouse=True)
def no_configfiles_env(monkeypatch):
    monkeypatch.delenv(hashing.CONFIGFILES_ENV, raising=False)


@pytest.fixture
def chain(tmp_path):
    wd = tmp_path / "run"
    build_chain(wd)
    return wd


def run(wd, name="fig.png", **kw):
    kw.setdefault("snakemake", False)
    return aud.audit(wd / name, **kw)


def problems(res):
    return [(f.check, f.status, f.path) for f in res.problems]


def test_up_to_date_chain_is_current(chain):
    res = run(chain)
    assert (res.status, res.exit_code) == ("current", 0)
    assert problems(res) == []
    assert res.target == "fig.png" and Path(res.workdir) == chain
    assert [s["rule"] for s in res.steps] == ["ingest", "cells", "figure"]
    ok = {f.check for f in res.findings if f.status == "ok"}
    assert ok == {"file", "inputs", "code"}
    # raw.txt, pool.txt, cells.txt are the inputs along the chain
    assert "3 input file(s) along the chain unchanged" in [f.message for f in res.findings]


def test_modified_source_file_is_stale_and_named(chain):
    (chain / "raw.txt").write_text("raw rows, edited\n")
    res = run(chain)
    assert (res.status, res.exit_code) == ("stale", 1)
    assert problems(res) == [("inputs", "stale", "raw.txt")]
    assert res.reasons == ["STALE (inputs): input changed since it was used: raw.txt (read by ingest)"]


def test_modified_intermediate_file_names_it_and_its_readers(chain):
    (chain / "pool.txt").write_text("pool, edited\n")
    res = run(chain)
    assert res.exit_code == 1
    assert problems(res) == [("inputs", "stale", "pool.txt")]
    assert res.problems[0].rules == ["cells", "figure"]


def test_missing_input_is_stale(chain):
    (chain / "cells.txt").unlink()
    res = run(chain)
    assert res.exit_code == 1 and res.reasons == ["STALE (inputs): input missing: cells.txt (read by figure)"]


def test_modified_output_is_tampered(chain):
    (chain / "fig.png").write_bytes(b"retouched")
    res = run(chain)
    assert (res.status, res.exit_code) == ("tampered", 2)
    assert problems(res) == [("file", "tampered", "fig.png")]
    # a stale input as well: tampering still wins
    (chain / "raw.txt").write_text("x")
    assert run(chain).exit_code == 2


def test_deleted_output_is_tampered(chain):
    (chain / "fig.pdf").unlink()
    res = run(chain, "fig.pdf")
    assert res.exit_code == 2 and "fig.pdf is gone" in res.reasons[0]


def test_file_changed_between_writer_and_reader_is_stale(chain):
    """pool.txt was edited after ingest wrote it, cells read the edit, and
    the edit was then reverted on disk: the chain itself is inconsistent."""
    car = json.loads((chain / "fig.png.provenance.json").read_text())
    car["steps"][0]["outputs"][0]["sha256"] = "0" * 64
    (chain / "fig.png.provenance.json").write_text(json.dumps(car))
    res = run(chain)
    assert res.exit_code == 1
    assert res.reasons == [
        "STALE (inputs): pool.txt was changed after rule ingest wrote it and before rule cells read it",
        "STALE (inputs): pool.txt was changed after rule ingest wrote it and before rule figure read it",
    ]


def test_changed_script_is_stale_code(chain):
    (chain / "scripts" / "job.py").write_text("# job, edited\n")
    res = run(chain)
    assert res.exit_code == 1
    assert problems(res) == [("code", "stale", "scripts/job.py")]
    assert res.problems[0].rules == ["cells", "figure", "ingest"]
    assert "code changed: script scripts/job.py" in res.reasons[0]


def test_changed_package_module_is_stale_code(chain, monkeypatch):
    car = prov.read_sidecar(chain / "fig.png.provenance.json")
    assert "ila/io.py" in car["steps"][-1]["package"]["modules"]
    real = hashing.package_files

    def edited():
        files = dict(real())
        files["ila/io.py"] = "f" * 64
        return files

    monkeypatch.setattr(hashing, "package_files", edited)
    res = run(chain)
    assert res.exit_code == 1
    assert problems(res) == [("code", "stale", "ila/io.py")]
    assert "package module ila/io.py differs" in res.reasons[0]


def test_package_change_outside_the_imported_modules_is_a_note_unless_strict(chain, monkeypatch):
    car = prov.read_sidecar(chain / "fig.png.provenance.json")
    used = set(car["steps"][-1]["package"]["modules"])
    real = hashing.package_files
    other = next(f for f in real() if f not in used)

    def edited():
        files = dict(real())
        files[other] = "e" * 64
        return files

    monkeypatch.setattr(hashing, "package_files", edited)
    res = run(chain)
    assert res.exit_code == 0
    notes = [f for f in res.findings if f.check == "code" and f.status == "note"]
    assert len(notes) == 1 and "in modules none of the steps imported" in notes[0].message
    strict = run(chain, strict_code=True)
    assert strict.exit_code == 1 and strict.problems[0].check == "code"


def test_no_sidecar_is_exit_3(tmp_path):
    write(tmp_path / "plain.csv", "a,b\n")
    res = aud.audit(tmp_path / "plain.csv", snakemake=False)
    assert (res.status, res.exit_code) == ("no-provenance", 3)
    assert "plain.csv.provenance.json does not exist" in res.reasons[0]
    write(tmp_path / "plain.csv.provenance.json", '{"format": "other"}')
    assert "not an ila-provenance/1 sidecar" in aud.audit(tmp_path / "plain.csv", snakemake=False).reasons[0]


def test_workdir_is_inferred_or_checked(chain, monkeypatch, tmp_path):
    write(chain / "sub" / "deep.txt", "d")
    prov.write_sidecars(fake_job("deep", inputs={"c": "cells.txt"}, outputs={"d": "sub/deep.txt"}), workdir=chain, project=None)
    monkeypatch.chdir(tmp_path)
    res = aud.audit("run/sub/deep.txt", snakemake=False)
    assert res.exit_code == 0 and Path(res.workdir) == chain and res.target == "sub/deep.txt"
    bad = aud.audit(chain / "sub" / "deep.txt", workdir=chain / "sub", snakemake=False)
    assert bad.exit_code == 3 and "check --workdir" in bad.reasons[0]


# ---------------------------------------------------------------- config


@pytest.fixture
def configured(tmp_path, monkeypatch):
    """A project with config.yaml and a run recorded with one extra config file."""
    project = tmp_path / "project"
    write(project / "config.yaml", "name: default\ncells:\n  grid_size: 10\n  method: grid\nseed: 0\n")
    write(project / "Snakefile", "# not run in these tests\n")
    extra = write(project / "configs" / "small.yaml", "name: small\ncells:\n  grid_size: 5\n")
    wd = tmp_path / "run"
    write(wd / "cells.txt", "cells")
    monkeypatch.setenv(hashing.CONFIGFILES_ENV, json.dumps([str(extra)]))
    config = {"name": "small", "cells": {"grid_size": 5, "method": "grid"}, "seed": 0}
    prov.write_sidecars(fake_job("cells", outputs={"c": "cells.txt"}, config=config), workdir=wd, project=project)
    monkeypatch.delenv(hashing.CONFIGFILES_ENV)
    return project, wd, extra


def test_recorded_config_files_are_project_relative_and_match(configured):
    project, wd, extra = configured
    car = prov.read_sidecar(wd / "cells.txt.provenance.json")
    assert car["steps"][0]["config"]["files"][0]["path"] == "configs/small.yaml"
    res = aud.audit(wd / "cells.txt", snakemake=False, snakefile=project / "Snakefile")
    assert res.exit_code == 0 and res.config_diff == []
    assert any(f.check == "config" and f.status == "ok" for f in res.findings)


def test_edited_config_file_names_the_key(configured):
    project, wd, extra = configured
    extra.write_text("name: small\ncells:\n  grid_size: 3\n")
    res = aud.audit(wd / "cells.txt", snakemake=False, snakefile=project / "Snakefile")
    assert res.exit_code == 1
    assert res.config_diff == [{"key": "cells.grid_size", "recorded": 5, "current": 3}]
    assert res.reasons == ["STALE (config): config differs from the recorded one: cells.grid_size (5 -> 3)"]


def test_configfile_override_defines_the_current_config(configured, tmp_path):
    project, wd, extra = configured
    other = write(tmp_path / "other.yaml", "cells:\n  method: kmeans\n")
    res = aud.audit(wd / "cells.txt", snakemake=False, snakefile=project / "Snakefile", configfiles=[extra, other])
    assert res.exit_code == 1 and [d["key"] for d in res.config_diff] == ["cells.method"]


def test_unrecorded_config_files_are_a_note(chain):
    res = run(chain)
    notes = [f.message for f in res.findings if f.check == "config"]
    assert notes == ["config not compared: the config files were not recorded (pass --configfile)"]


def test_config_diff_and_merge():
    rec = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    cur = {"a": {"b": 2, "c": [1, 2]}, "e": None}
    assert configs.config_diff(rec, cur) == [
        {"key": "a.b", "recorded": 1, "current": 2},
        {"key": "d", "recorded": 1, "current": "<absent>"},
        {"key": "e", "recorded": "<absent>", "current": None},
    ]
    assert configs.merge_config({"a": {"b": 1, "c": 2}}, {"a": {"b": 3}, "x": 1}) == {"a": {"b": 3, "c": 2}, "x": 1}


# ---------------------------------------------------------------- Snakemake output

DRY_RUN = """\
Building DAG of jobs...
Job stats:
job                 count
----------------  -------
cells                   1
figure_landscape        1
total                   2


[Fri Nov 27 14:57:47 2026]
rule cells:
    input: results/smoke/landscape/map.parquet, results/smoke/embed/embeddings.npy
    output: results/smoke/landscape/cells.parquet, results/smoke/landscape/cells.json
    log: results/smoke/logs/cells.log
    jobid: 15
    reason: Params have changed since last execution: Union of exclusive params before and now across all output: before: 5 now: 3 
    resources: tmpdir=/tmp
[Fri Nov 27 14:57:47 2026]
rule score_shard:
    output: results/smoke/depth/shards/2-of-2.parquet
    reason: Input files updated by another job: results/smoke/models/warmup
    wildcards: scatteritem=2-of-2
    resources: tmpdir=/tmp, runtime=60
Job stats:
"""


def test_parse_dry_run():
    parsed = dryrun.parse_dry_run(DRY_RUN)
    assert parsed["up_to_date"] is False
    assert [(j["rule"], j["wildcards"]) for j in parsed["jobs"]] == [("cells", None), ("score_shard", "scatteritem=2-of-2")]
    assert parsed["jobs"][0]["reason"].startswith("Params have changed since last execution")
    assert parsed["jobs"][0]["output"] == ["results/smoke/landscape/cells.parquet", "results/smoke/landscape/cells.json"]
    assert dryrun.parse_dry_run("Building DAG of jobs...\nNothing to be done (all requested files are present and up to date).\n") == {
        "up_to_date": True,
        "jobs": [],
    }


def test_job_counts_read_the_job_stats_table_and_sum_group_rules_per_stage():
    assert dryrun.job_counts(DRY_RUN) == {"cells": 1, "figure_landscape": 1}
    grouped = DRY_RUN.replace("figure_landscape        1", "scaling_finetune_g00    2\nscaling_finetune_g01    1")
    assert dryrun.job_counts(grouped) == {"cells": 1, "scaling_finetune_g00": 2, "scaling_finetune_g01": 1}
    assert dryrun.stage_counts(grouped) == {"cells": 1, "scaling_finetune": 3}
    assert dryrun.job_counts("Nothing to be done (all requested files are present and up to date).") == {}
    with pytest.raises(ValueError, match="no job stats"):
        dryrun.job_counts("Building DAG of jobs...\nWorkflowError: oops")


def test_missing_snakefile_is_an_error_not_current(chain, tmp_path):
    res = run(chain, snakemake=True, snakefile=tmp_path / "nope" / "Snakefile")
    assert (res.status, res.exit_code) == ("error", 4)
    assert "no Snakefile to ask" in res.reasons[0]


# ---------------------------------------------------------------- command line


def test_main_prints_lineage_and_returns_the_exit_code(chain, capsys):
    assert aud.main([str(chain / "fig.png"), "--no-snakemake"]) == 0
    out = capsys.readouterr().out
    lineage = out.split("checks:")[0]
    assert lineage.index("1. ingest") < lineage.index("2. cells") < lineage.index("3. figure")
    assert "params:  grid_size=5" in lineage and "inputs:  raw.txt" in lineage and "script:  scripts/job.py" in lineage
    assert out.rstrip().endswith("verdict: CURRENT (exit 0)")
    (chain / "raw.txt").write_text("edited")
    assert aud.main([str(chain / "fig.png"), "--no-snakemake", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "stale" and data["exit_code"] == 1
    assert data["reasons"] == ["STALE (inputs): input changed since it was used: raw.txt (read by ingest)"]
    assert [s["rule"] for s in data["steps"]] == ["ingest", "cells", "figure"]


def test_directory_output_is_audited_as_a_whole(tmp_path):
    write(tmp_path / "model" / "weights.bin", "w")
    prov.write_sidecars(fake_job("pretrain", outputs={"model": "model"}), workdir=tmp_path, project=None)
    assert aud.audit(tmp_path / "model", snakemake=False).exit_code == 0
    write(tmp_path / "model" / ".snakemake_timestamp", "")  # Snakemake's marker does not count
    assert aud.audit(tmp_path / "model", snakemake=False).exit_code == 0
    write(tmp_path / "model" / "extra.bin", "x")
    res = aud.audit(tmp_path / "model", snakemake=False)
    assert res.exit_code == 2 and res.problems[0].path == "model"


def test_resolve_config_merges_files_over_config_yaml_and_fills_schema_defaults(tmp_path):
    write(tmp_path / "config.yaml", "name: default\ncells:\n  grid_size: 10\n")
    write(tmp_path / "schemas" / "config.schema.yaml", (
        "$schema: http://json-schema.org/draft-07/schema#\ntype: object\nproperties:\n  name: {type: string}\n  cells:\n    type: object\n    default: {}\n"
        "    properties:\n      grid_size: {type: integer, default: 10}\n      method: {type: string, default: grid}\n"
    ))
    extra = write(tmp_path / "small.yaml", "cells:\n  grid_size: 4\n")
    assert configs.resolve_config(tmp_path, [extra]) == {"name": "default", "cells": {"grid_size": 4, "method": "grid"}}
