"""ila-audit on a tiny fake chain (no Snakemake): current, stale inputs,
tampered outputs, changed code, changed config; and what Snakemake would
rerun, asked of a tiny real workflow."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ila.plumbing import audit as aud
from ila.plumbing import configs, dryrun, rerun
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


# ---------------------------------------------------------------- what Snakemake would rerun

# A tiny workflow: pool (shell, params, two outputs) -> cells (script) ->
# figure (shell, its input set from the config) -> notes; group rules of
# fine-tunes for the job counts; a rule that kills Snakemake mid-job.
TINY_SNAKEFILE = """\
configfile: "config.yaml"

rule pool:
    input: "raw.txt"
    output: "pool.txt", "pool.json"
    params: k=config["k"]
    shell: "cat {input} > {output[0]}; echo {params.k} > {output[1]}"

rule cells:
    input: "pool.txt"
    output: "cells.txt"
    script: "cells.py"

rule figure:
    input: lambda w: ["cells.txt", "pool.json", *config["extra"]]
    output: "fig.txt"
    shell: "FIGURE_SHELL"

rule notes:
    input: "fig.txt"
    output: "notes.txt"
    shell: "cat {input} > {output}"

for g in range(2):
    rule:
        name: f"scaling_finetune_g{g:02d}"
        output: f"ft/{{seed}}.g{g:02d}.txt"
        shell: "echo {wildcards.seed} > {output}"

# The pause: Snakemake's local executor starts a job's thread before it
# writes the job's incomplete marker, so a kill in the job's first moments
# could beat the marker (seen once on a loaded machine).
rule killed:
    output: "killed.txt"
    shell: "echo partial > {output}; sleep 1; kill -9 $PPID"
"""


def tiny_workflow(wd, k=1, extra=(), figure_shell="cat {input} > {output}"):
    write(wd / "Snakefile", TINY_SNAKEFILE.replace("FIGURE_SHELL", figure_shell))
    write(wd / "config.yaml", json.dumps({"k": k, "extra": list(extra)}))
    if not (wd / "cells.py").exists():
        write(wd / "cells.py", "open(snakemake.output[0], 'w').write(open(snakemake.input[0]).read())\n")
        write(wd / "raw.txt", "raw rows\n")
    return wd


def tiny_snakemake(wd, *args, check=True):
    cmd = [sys.executable, "-m", "snakemake", *args, "--cores", "1", "--nolock", "-s", str(wd / "Snakefile"), "--directory", str(wd)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=wd)
    assert proc.returncode == 0 or not check, proc.stdout + proc.stderr
    return proc


def said(proc):
    return proc.stdout + proc.stderr


def ask(wd, target="fig.txt"):
    return rerun.ask_snakemake(target, wd, wd / "Snakefile", None, timeout=120)


def reasons(dry):
    """path -> (rerun, reason) of every file Snakemake listed."""
    return {f["path"]: (f["rerun"], f["reason"]) for f in dry["files"]}


@pytest.fixture(scope="module")
def tiny_done(tmp_path_factory):
    """The tiny workflow run to fig.txt; tests change copies of it (mtimes
    and Snakemake's metadata kept)."""
    wd = tiny_workflow(tmp_path_factory.mktemp("tiny") / "done")
    tiny_snakemake(wd, "fig.txt")
    return wd


@pytest.fixture
def tiny_copy(tiny_done, tmp_path):
    return Path(shutil.copytree(tiny_done, tmp_path / "copy", symlinks=True))


def test_fresh_run_plans_every_file_as_missing(tmp_path):
    wd = tiny_workflow(tmp_path)
    dry = ask(wd)
    assert dry["error"] is None and dry["up_to_date"] is False
    # one row per output file, the target first
    assert [(f["path"], f["rule"]) for f in dry["files"]] == [
        ("fig.txt", "figure"), ("cells.txt", "cells"), ("pool.txt", "pool"), ("pool.json", "pool")]
    assert set(reasons(dry).values()) == {(True, "missing")}
    assert {f["tracked"] for f in dry["files"]} == {False}
    # the same DAG as a dry run, counted per rule from its job stats
    assert dryrun.job_counts(said(tiny_snakemake(wd, "-n", "fig.txt"))) == {"pool": 1, "cells": 1, "figure": 1}


def test_complete_run_plans_nothing_and_a_file_written_by_hand_is_untracked(tiny_copy):
    (tiny_copy / "notes.txt").write_text("written by hand\n")
    dry = ask(tiny_copy, "notes.txt")
    assert dry["error"] is None and dry["up_to_date"] is True
    assert reasons(dry) == {"notes.txt": (False, "untracked"), "fig.txt": (False, "current"), "cells.txt": (False, "current"),
                            "pool.txt": (False, "current"), "pool.json": (False, "current")}
    assert [f["tracked"] for f in dry["files"]] == [False, True, True, True, True]


def test_changed_params_script_and_input_set_are_named_per_file(tiny_copy):
    tiny_workflow(tiny_copy, k=2, extra=["raw.txt"])
    (tiny_copy / "cells.py").write_text((tiny_copy / "cells.py").read_text() + "# edited\n")
    dry = ask(tiny_copy)
    assert dry["up_to_date"] is False
    assert reasons(dry) == {"fig.txt": (True, "input set"), "cells.txt": (True, "code"),
                            "pool.txt": (True, "params"), "pool.json": (True, "params")}
    # a script change is Snakemake's code trigger, which its summary calls "ok"
    assert {f["path"]: f["status"] for f in dry["files"]}["cells.txt"] == "ok"
    finding = aud._snakemake_findings(dry, "fig.txt", [], [])[0]
    assert (finding.status, finding.rules) == ("stale", ["cells", "figure", "pool"])
    assert finding.message == ("Snakemake would rerun 4 file(s) to make fig.txt: "
                               "pool: params (2 files); cells: code (1 file); figure: input set (1 file)")


def test_changed_shell_command_and_edited_input(tiny_copy):
    tiny_workflow(tiny_copy, figure_shell="sort {input} > {output}")
    (tiny_copy / "raw.txt").write_text("raw rows, edited\n")
    dry = ask(tiny_copy)
    assert reasons(dry) == {"fig.txt": (True, "code"), "cells.txt": (True, "upstream"),
                            "pool.txt": (True, "updated input"), "pool.json": (True, "updated input")}
    assert {f["path"]: f["status"] for f in dry["files"]}["fig.txt"] == "rule implementation changed"


def test_incomplete_file_is_an_error_not_current(tiny_copy):
    proc = tiny_snakemake(tiny_copy, "killed.txt", check=False)
    assert proc.returncode != 0 and (tiny_copy / "killed.txt").exists()
    dry = ask(tiny_copy, "killed.txt")
    assert dry["up_to_date"] is None and dry["files"] == []
    assert "snakemake --list-changes code failed" in dry["error"] and "IncompleteFilesException" in dry["error"]
    finding = aud._snakemake_findings(dry, "killed.txt", [], [])[0]
    assert finding.status == "error" and "Snakemake could not be asked" in finding.message


def test_parse_summary_reads_rows_and_refuses_other_text(tiny_copy):
    proc = tiny_snakemake(tiny_copy, "--detailed-summary", "fig.txt")
    rows = rerun.parse_summary(proc.stdout)
    assert [r.path for r in rows] == ["fig.txt", "cells.txt", "pool.txt", "pool.json"]
    assert rows[0].inputs == ("cells.txt", "pool.json") and rows[0].date and not rows[0].pending
    assert {r.status for r in rows} == {"ok"}
    with pytest.raises(ValueError, match="not a row"):
        rerun.parse_summary(proc.stdout.replace("no update", "perhaps"))
    done = said(tiny_snakemake(tiny_copy, "-n", "fig.txt"))
    with pytest.raises(ValueError, match="no detailed summary header"):
        rerun.parse_summary(done)
    assert "Nothing to be done" in done and dryrun.job_counts(done) == {}


def test_job_counts_read_the_job_stats_table_and_sum_group_rules_per_stage(tiny_copy):
    text = said(tiny_snakemake(tiny_copy, "-n", "ft/1.g00.txt", "ft/2.g00.txt", "ft/1.g01.txt"))
    assert dryrun.job_counts(text) == {"scaling_finetune_g00": 2, "scaling_finetune_g01": 1}
    assert dryrun.stage_counts(text) == {"scaling_finetune": 3}
    with pytest.raises(ValueError, match="no job stats"):
        dryrun.job_counts(said(tiny_snakemake(tiny_copy, "-n", "no-such-file.txt", check=False)))


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
    assert f"machine: {hashing.machine_summary(hashing.machine_record())}\n" in lineage and "machines" not in lineage
    assert out.rstrip().endswith("verdict: CURRENT (exit 0)")
    (chain / "raw.txt").write_text("edited")
    assert aud.main([str(chain / "fig.png"), "--no-snakemake", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "stale" and data["exit_code"] == 1
    assert data["reasons"] == ["STALE (inputs): input changed since it was used: raw.txt (read by ingest)"]
    assert [s["rule"] for s in data["steps"]] == ["ingest", "cells", "figure"]


def test_lineage_names_the_machines_of_a_chain_that_ran_on_several(chain):
    res = aud.audit(chain / "fig.png", snakemake=False)
    res.steps[0]["machine"] = {"system": "Linux", "arch": "x86_64", "cpu": "Other CPU", "isa": ["avx512f"], "cpus": 64}
    res.steps[1].pop("machine")  # a sidecar written before machines were recorded
    text = aud.format_lineage(res)
    here = hashing.machine_summary(hashing.machine_record())
    assert f"machine: {here}; the chain ran on 2 machines\n" in text


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
