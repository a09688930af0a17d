"""Provenance sidecars on tiny fake jobs: content, hashes, chain folding,
determinism, and that a failed job leaves no sidecar."""

import hashlib
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from snakemake.iocontainers import Namedlist

from ila.plumbing import hashing
from ila.plumbing import provenance as prov
from ila.plumbing import report


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def named(*unnamed, **items):
    """A Snakemake-style Namedlist: list values are flattened and named by
    their index range, as in a real job's input/output."""
    nl = Namedlist()
    for value in unnamed:
        nl.append(value)
    for name, value in items.items():
        start = len(nl)
        if isinstance(value, list):
            nl.extend(value)
            nl._set_name(name, start, len(nl))
        else:
            nl.append(value)
            nl._set_name(name, start)
    return nl


def fake_job(rule, inputs=None, outputs=None, params=None, wildcards=None, threads=1, config=None, log=None):
    return SimpleNamespace(
        rule=rule,
        input=named(**(inputs or {})),
        output=named(**(outputs or {})),
        params=named(**(params or {})),
        wildcards=named(**(wildcards or {})),
        threads=threads,
        config=config if config is not None else {"name": "t", "seed": 0},
        log=named(*(log or [])),
    )


@pytest.fixture(autouse=True)
def no_configfiles_env(monkeypatch):
    monkeypatch.delenv(hashing.CONFIGFILES_ENV, raising=False)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# ---------------------------------------------------------------- hashing


def test_directory_hash_is_over_sorted_relative_paths_and_file_hashes(tmp_path):
    d = tmp_path / "model"
    write(d / "b.txt", "bee")
    write(d / "sub" / "a.txt", "ay")
    (d / "empty").mkdir()
    expected = hashlib.sha256(
        f"b.txt\0{sha(b'bee')}\n".encode() + f"sub/a.txt\0{sha(b'ay')}\n".encode()
    ).hexdigest()
    assert hashing.sha256_dir(d) == expected
    assert hashing.hash_path(d) == ("directory", expected)
    # Snakemake's timestamp marker, added after the job, does not count
    write(d / ".snakemake_timestamp", "")
    assert hashing.sha256_dir(d) == expected
    # content and names both count
    write(d / "b.txt", "bee!")
    assert hashing.sha256_dir(d) != expected
    write(d / "b.txt", "bee")
    (d / "sub" / "a.txt").rename(d / "sub" / "c.txt")
    assert hashing.sha256_dir(d) != expected


def test_hash_path_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        hashing.hash_path(tmp_path / "nope.txt")


def test_sidecar_path_sits_beside_files_and_directories():
    assert hashing.sidecar_path("results/x/fig.png") == Path("results/x/fig.png.provenance.json")
    assert hashing.sidecar_path("results/x/model/") == Path("results/x/model.provenance.json")


def test_json_safe_is_deterministic_and_plain():
    def scorer():
        pass

    value = {
        "n": np.int64(3),
        "x": np.float32(0.5),
        "arr": np.arange(3),
        "nan": float("nan"),
        "tags": {"b", "a"},
        "path": Path("a/b"),
        "fn": scorer,
        "obj": object(),
        1: (1, 2),
    }
    out = hashing.json_safe(value)
    assert out == {
        "n": 3,
        "x": 0.5,
        "arr": [0, 1, 2],
        "nan": "nan",
        "tags": ["a", "b"],
        "path": "a/b",
        "fn": f"<function {__name__}.test_json_safe_is_deterministic_and_plain.<locals>.scorer>",
        "obj": "<builtins.object>",
        "1": [1, 2],
    }
    json.dumps(out)  # plain JSON
    assert hashing.canonical_json({"b": 1, "a": [1.5]}) == '{"a":[1.5],"b":1}'


# ---------------------------------------------------------------- one job


def test_job_record_content(tmp_path, monkeypatch):
    wd = tmp_path / "run"
    write(wd / "data" / "pool.jsonl", "one\ntwo\n")
    write(wd / "data" / "model" / "w.bin", "weights")
    write(wd / "out" / "cells.json", '{"cells": 4}')
    script = write(wd / "scripts" / "cells.py", "print('cells')\n")
    cfg_file = write(wd / "configs" / "small.yaml", "cells:\n  grid_size: 4\n")
    monkeypatch.setenv(hashing.CONFIGFILES_ENV, json.dumps([str(cfg_file)]))
    config = {"name": "small", "cells": {"grid_size": 4}, "seed": 0}
    smk = fake_job(
        "cells",
        inputs={"pool": "data/pool.jsonl", "models": ["data/model"]},
        outputs={"info": "out/cells.json"},
        params={"grid_size": np.int64(4), "bands": {"low": [0.0, 0.5]}, "seed": 0},
        wildcards={"subset": "c1_d2"},
        threads=2,
        config=config,
    )
    rec = prov.job_record(smk, script=script, workdir=wd, project=None)
    step = rec.step
    assert step["rule"] == "cells" and step["threads"] == 2
    assert step["wildcards"] == {"subset": "c1_d2"}
    assert step["params"] == {"grid_size": 4, "bands": {"low": [0.0, 0.5]}, "seed": 0}
    assert step["inputs"] == [
        {"name": "pool", "path": "data/pool.jsonl", "type": "file", "sha256": sha(b"one\ntwo\n")},
        {"name": "models", "path": "data/model", "type": "directory", "sha256": hashing.sha256_dir(wd / "data/model")},
    ]
    assert step["outputs"] == [{"name": "info", "path": "out/cells.json", "type": "file", "sha256": sha(b'{"cells": 4}')}]
    assert step["script"] == {"path": "scripts/cells.py", "root": "workdir", "sha256": sha(b"print('cells')\n")}
    assert step["config"]["sha256"] == sha(b'{"cells":{"grid_size":4},"name":"small","seed":0}')
    assert step["config"]["files"] == [
        {"path": "configs/small.yaml", "root": "workdir", "sha256": sha(b"cells:\n  grid_size: 4\n")}
    ]
    assert rec.config == config
    assert set(rec.software) == {"python", *hashing.SOFTWARE}
    assert rec.software["numpy"] == np.__version__
    files = hashing.package_files()
    assert step["package"]["sha256"] == hashing.package_hash(files) and step["package"]["files"] == len(files)
    # the modules this process imported, minus the job plumbing
    assert "ila/io.py" in step["package"]["modules"] and "ila/plumbing/provenance.py" not in step["package"]["modules"]
    assert rec.modules["ila/io.py"] == sha((hashing.package_dir() / "io.py").read_bytes())
    assert step["software_sha256"] == hashing.sha256_json(rec.software)
    # the machine, as far as it can change a number (no host name)
    assert step["machine"] == hashing.machine_record()
    assert set(step["machine"]) == {"system", "arch", "cpu", "isa", "cpus"} and step["machine"]["cpus"] == os.cpu_count()
    assert socket.gethostname() not in json.dumps(step["machine"])


X86_CPUINFO = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme sse4_2 avx avx2 fma f16c avx512f avx512bw avx512dq avx512vl avx512_bf16 amx_tile amx_bf16 hypervisor

processor\t: 1
model name\t: ignored: the first processor's name
flags\t\t: fpu
"""

ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid sve sve2 i8mm bf16
CPU implementer\t: 0x41
"""


def test_cpu_model_and_isa_flags_from_cpuinfo():
    assert hashing.cpu_from_cpuinfo(X86_CPUINFO) == (
        "Intel(R) Xeon(R) Platinum 8480+",
        ["sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_bf16",
         "amx_tile", "amx_bf16"],
    )
    assert hashing.cpu_from_cpuinfo(ARM_CPUINFO) == (None, ["asimd", "asimdhp", "sve", "sve2", "bf16", "i8mm"])
    assert hashing.cpu_from_cpuinfo("") == (None, [])
    m = {"system": "Linux", "arch": "x86_64", "cpu": "AMD EPYC", "isa": ["avx", "avx2", "fma"], "cpus": 2}
    assert hashing.machine_summary(m) == "AMD EPYC (x86_64, 2 CPUs; avx avx2 fma)"
    assert hashing.machine_summary({"arch": "arm64", "cpu": None, "isa": [], "cpus": None}) == "unknown CPU (arm64)"
    assert hashing.machine_summary(None) is None


def test_config_files_are_none_when_not_exported(tmp_path):
    write(tmp_path / "o.txt", "o")
    rec = prov.job_record(fake_job("r", outputs={"o": "o.txt"}), workdir=tmp_path, project=None)
    assert rec.step["config"]["files"] is None and rec.step["script"] is None


def test_paths_outside_the_workdir_stay_absolute_and_project_paths_are_relative(tmp_path):
    project = tmp_path / "proj"
    wd = tmp_path / "wd"
    wd.mkdir()
    assert hashing.rel_path(tmp_path / "elsewhere.txt", wd) == (tmp_path / "elsewhere.txt").as_posix()
    assert hashing.file_ref(project / "scripts" / "a.py", wd, project) == {"path": "scripts/a.py", "root": "project"}
    assert hashing.file_ref(wd / "x.yaml", wd, project) == {"path": "x.yaml", "root": "workdir"}
    ref = hashing.file_ref(project / "scripts" / "a.py", wd, project)
    assert hashing.resolve_ref(ref, wd, project) == project / "scripts" / "a.py"


# ---------------------------------------------------------------- chains


def build_chain(wd: Path):
    """toy: raw.txt -> pool.txt (ingest) -> cells.txt (cells) ->
    fig.png + fig.pdf (figure, also reading pool.txt)."""
    write(wd / "raw.txt", "raw rows\n")
    script = write(wd / "scripts" / "job.py", "# job\n")
    write(wd / "pool.txt", "pool\n")
    prov.write_sidecars(
        fake_job("ingest", inputs={"raw": "raw.txt"}, outputs={"pool": "pool.txt"}, params={"max_chars": 100}),
        script=script, workdir=wd, project=None,
    )
    write(wd / "cells.txt", "cells\n")
    prov.write_sidecars(
        fake_job("cells", inputs={"pool": "pool.txt"}, outputs={"cells": "cells.txt"}, params={"grid_size": 5}),
        script=script, workdir=wd, project=None,
    )
    write(wd / "fig.png", "png bytes")
    write(wd / "fig.pdf", "pdf bytes")
    return prov.write_sidecars(
        fake_job("figure", inputs={"cells": "cells.txt", "pool": "pool.txt"}, outputs={"png": "fig.png", "pdf": "fig.pdf"},
                 params={"dpi": 150}),
        script=script, workdir=wd, project=None,
    )


def test_chain_is_folded_from_the_inputs_sidecars(tmp_path):
    written = build_chain(tmp_path)
    assert written == [tmp_path / "fig.png.provenance.json", tmp_path / "fig.pdf.provenance.json"]
    car = prov.read_sidecar(tmp_path / "fig.png.provenance.json")
    assert car["file"] == {"path": "fig.png", "type": "file", "sha256": sha(b"png bytes")}
    assert car["rule"] == "figure"
    # ingest appears once although both inputs of the figure descend from it
    assert [s["rule"] for s in car["steps"]] == ["ingest", "cells", "figure"]
    ingest, cells, figure = car["steps"]
    assert ingest["inputs"][0] == {"name": "raw", "path": "raw.txt", "type": "file", "sha256": sha(b"raw rows\n")}
    assert ingest["outputs"][0]["sha256"] == cells["inputs"][0]["sha256"] == sha(b"pool\n")
    assert cells["params"] == {"grid_size": 5} and figure["params"] == {"dpi": 150}
    # the config and software are stored once, referred to by hash
    assert list(car["configs"]) == [figure["config"]["sha256"]] and car["configs"][figure["config"]["sha256"]] == {"name": "t", "seed": 0}
    assert list(car["software"]) == [figure["software_sha256"]]
    assert set(car["packages"]) == {figure["package"]["sha256"]}
    assert set(car["packages"][figure["package"]["sha256"]]) == set(figure["package"]["modules"])
    for step in car["steps"]:
        assert "configs" not in step and set(step["config"]) == {"sha256", "files"}
    # both outputs of a job share the chain; only the file header differs
    pdf = prov.read_sidecar(tmp_path / "fig.pdf.provenance.json")
    assert pdf["steps"] == car["steps"] and pdf["file"]["path"] == "fig.pdf"
    # the upstream sidecars are chains of their own
    assert [s["rule"] for s in prov.read_sidecar(tmp_path / "pool.txt.provenance.json")["steps"]] == ["ingest"]
    # no absolute path of the run leaks into the bytes
    assert str(tmp_path) not in (tmp_path / "fig.png.provenance.json").read_text()


def test_same_job_gives_the_same_sidecar_bytes_in_any_working_directory(tmp_path):
    build_chain(tmp_path / "a")
    build_chain(tmp_path / "b")
    for name in ("pool.txt", "cells.txt", "fig.png", "fig.pdf"):
        a = (tmp_path / "a" / (name + hashing.SIDECAR_SUFFIX)).read_bytes()
        b = (tmp_path / "b" / (name + hashing.SIDECAR_SUFFIX)).read_bytes()
        assert a == b
    # rewriting in place is byte-identical too
    before = (tmp_path / "a" / "fig.png.provenance.json").read_bytes()
    build_chain(tmp_path / "a")
    assert (tmp_path / "a" / "fig.png.provenance.json").read_bytes() == before


def test_directory_output_sidecar_is_beside_the_directory(tmp_path):
    write(tmp_path / "model" / "config.json", "{}")
    write(tmp_path / "model" / "weights.bin", "w")
    prov.write_sidecars(fake_job("pretrain", outputs={"model": "model"}), workdir=tmp_path, project=None)
    car = prov.read_sidecar(tmp_path / "model.provenance.json")
    assert car["file"] == {"path": "model", "type": "directory", "sha256": hashing.sha256_dir(tmp_path / "model")}
    assert not (tmp_path / "model" / "model.provenance.json").exists()
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["config.json", "weights.bin"]


def test_a_corrupt_upstream_sidecar_fails_naming_it(tmp_path):
    write(tmp_path / "a.txt", "a")
    write(tmp_path / "a.txt.provenance.json", "{not json")
    write(tmp_path / "b.txt", "b")
    with pytest.raises(hashing.ProvenanceError, match=r"a\.txt\.provenance\.json: not valid JSON \(line 1"):
        prov.write_sidecars(fake_job("b", inputs={"a": "a.txt"}, outputs={"b": "b.txt"}), workdir=tmp_path, project=None)
    assert not (tmp_path / "b.txt.provenance.json").exists()


def test_a_conflicting_record_of_the_same_step_is_kept(tmp_path):
    """Two inputs whose sidecars hold different records of one upstream step
    (it was rerun between them) keep both, so the audit can see it."""
    build_chain(tmp_path)
    car = json.loads((tmp_path / "cells.txt.provenance.json").read_text())
    car["steps"][0]["params"]["max_chars"] = 99
    (tmp_path / "cells.txt.provenance.json").write_text(json.dumps(car))
    write(tmp_path / "t.txt", "t")
    prov.write_sidecars(fake_job("t", inputs={"cells": "cells.txt", "pool": "pool.txt"}, outputs={"t": "t.txt"}),
                        workdir=tmp_path, project=None)
    steps = prov.read_sidecar(tmp_path / "t.txt.provenance.json")["steps"]
    assert [s["rule"] for s in steps] == ["ingest", "cells", "ingest", "t"]
    assert {s["params"].get("max_chars") for s in steps if s["rule"] == "ingest"} == {99, 100}


# ---------------------------------------------------------------- a job's lifetime

RUNNER = textwrap.dedent(
    """
    import sys
    from types import SimpleNamespace
    from snakemake.iocontainers import Namedlist

    mode = sys.argv[1]
    def nl(**kw):
        out = Namedlist()
        for k, v in kw.items():
            out.append(v)
            out._set_name(k, len(out) - 1)
        return out
    snakemake = SimpleNamespace(
        rule="make", input=nl(src="in.txt"), output=nl(out="out.txt"), params=nl(k=1),
        wildcards=nl(), threads=1, config={"offline": True}, log=nl(log="make.log"),
    )
    from ila.plumbing import job
    with job(snakemake) as log:
        if mode != "missing":
            open("out.txt", "w").write("result")
        if mode == "raise":
            raise ValueError("boom")
        if mode == "exit":
            sys.exit(3)
        if mode == "exit0":
            sys.exit(0)
    """
)


def run_job(wd: Path, mode: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop(hashing.CONFIGFILES_ENV, None)
    return subprocess.run([sys.executable, "job.py", mode], cwd=wd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def job_dir(tmp_path):
    write(tmp_path / "job.py", RUNNER)
    write(tmp_path / "in.txt", "input")
    return tmp_path


def test_successful_job_writes_the_sidecar_when_its_block_ends(job_dir):
    proc = run_job(job_dir, "ok")
    assert proc.returncode == 0, (job_dir / "make.log").read_text()
    car = prov.read_sidecar(job_dir / "out.txt.provenance.json")
    (step,) = car["steps"]
    assert step["rule"] == "make" and step["params"] == {"k": 1}
    assert step["inputs"][0]["sha256"] == sha(b"input") and car["file"]["sha256"] == sha(b"result")
    # the script is found from __main__.__file__, as Snakemake's preamble sets it
    assert step["script"] == {"path": "job.py", "root": "workdir", "sha256": sha(RUNNER.encode())}
    assert "provenance: wrote 1 sidecar(s) for rule make" in (job_dir / "make.log").read_text()
    mode = os.stat(job_dir / "out.txt.provenance.json").st_mode & 0o777
    assert mode & 0o044 == 0o666 & ~_umask() & 0o044


def _umask():
    m = os.umask(0o022)
    os.umask(m)
    return m


def test_sys_exit_zero_counts_as_success(job_dir):
    assert run_job(job_dir, "exit0").returncode == 0
    assert (job_dir / "out.txt.provenance.json").exists()


@pytest.mark.parametrize("mode, code", [("raise", 1), ("exit", 3), ("missing", 0)])
def test_failed_job_writes_no_sidecar_and_removes_an_old_one(job_dir, mode, code):
    assert run_job(job_dir, "ok").returncode == 0
    assert (job_dir / "out.txt.provenance.json").exists()
    (job_dir / "out.txt").unlink()  # Snakemake removes the outputs before a rerun
    proc = run_job(job_dir, mode)
    assert proc.returncode == code
    assert not (job_dir / "out.txt.provenance.json").exists()
    if mode == "raise":
        assert "ValueError: boom" in (job_dir / "make.log").read_text()
    if mode == "missing":
        assert "missing output(s): out.txt" in (job_dir / "make.log").read_text()


def test_a_provenance_error_fails_the_job(job_dir):
    write(job_dir / "in.txt.provenance.json", "[]")  # not a sidecar
    proc = run_job(job_dir, "ok")
    assert proc.returncode == 1
    assert not (job_dir / "out.txt.provenance.json").exists()
    assert "in.txt.provenance.json: not an ila-provenance/1 sidecar" in (job_dir / "make.log").read_text()


# ---------------------------------------------------------------- report tables


def test_report_tables_list_every_product_and_each_step_once(tmp_path):
    build_chain(tmp_path)
    write(tmp_path / "old.csv", "made before provenance\n")
    t = report.report_tables(["fig.png", "fig.pdf", "cells.txt", "old.csv"], workdir=tmp_path)
    p = t.products.set_index("file")
    assert list(p.index) == ["fig.png", "fig.pdf", "cells.txt", "old.csv"]
    assert list(p["status"]) == ["recorded"] * 3 + ["no provenance"]
    assert p.loc["fig.png", "rule"] == "figure" and p.loc["fig.png", "params"] == '{"dpi":150}'
    assert p.loc["fig.png", "chain"] == "1 2 3" and p.loc["cells.txt", "chain"] == "1 2"
    assert p.loc["fig.png", "sha256"] == sha(b"png bytes") and p.loc["fig.png", "script"] == "scripts/job.py"
    assert list(t.steps["rule"]) == ["ingest", "cells", "figure"]
    assert list(t.steps["params"]) == ['{"max_chars":100}', '{"grid_size":5}', '{"dpi":150}']
    assert t.steps.loc[2, "inputs"] == "cells.txt;pool.txt" and t.steps.loc[2, "outputs"] == "fig.png;fig.pdf"
    assert set(t.software["package"]) == {"python", *hashing.SOFTWARE} and set(t.software["steps"]) == {3}
    assert dict(zip(t.config["key"], t.config["value"])) == {"name": "t", "seed": "0"}
    here = hashing.machine_summary(hashing.machine_record())
    assert list(t.steps["machine"]) == [here] * 3 and list(p["machine"].iloc[:3]) == [here] * 3
    assert p["machine"].isna().tolist() == [False] * 3 + [True]
    out = {n: tmp_path / f"{n}.csv" for n in ("products", "steps", "software", "config")}
    report.write_report_tables(["fig.png"], workdir=tmp_path, **out)
    assert out["steps"].read_text().splitlines()[0].startswith("step,rule,wildcards,params")


# ---------------------------------------------------------------- git


def test_git_state_of_a_repository_and_without_one(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    write(repo / "a.txt", "a")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "a.txt"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    assert hashing.git_state(repo) == {"commit": head, "dirty": False}
    write(repo / "a.txt", "edited")
    assert hashing.git_state(repo) == {"commit": head, "dirty": True}
    # no repository, no path, no git at all: None, never an error
    assert hashing.git_state(tmp_path / "plain") is None
    assert hashing.git_state(None) is None
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert hashing.git_state(repo) is None
