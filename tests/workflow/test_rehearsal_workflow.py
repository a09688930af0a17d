"""The rehearsal of the real-scale config (configs/rehearsal.yaml: paper.yaml
on local stand-ins) runs its whole DAG on 2 CPU cores: hub-layout pools
through datasets.load_dataset, a Qwen2 base model loaded by path, the Deita
scorer models, two-process torchrun fine-tunes with checkpoints, and
lm-evaluation-harness benchmarks; one fine-tune killed mid-way (its whole
process tree, torchrun workers included) resumes from its checkpoint with
the metrics of the uninterrupted run."""

import json
import math
import re
import shutil
import subprocess
import time

import pandas as pd
import psutil
import pytest
import yaml
from workflow_support import ROOT, SNAKEMAKE, planned_jobs, snakemake

from ila import scaling

pytestmark = [pytest.mark.workflow, pytest.mark.rehearsal]

CONFIG = "configs/rehearsal.yaml"
CFG = yaml.safe_load((ROOT / CONFIG).read_text())
R = f"results/{CFG['name']}"
METHODS = CFG["selection"]["methods"]
_S = CFG["scaling"]
KEYS = [p.key for p in scaling.grid(_S["pool_fractions"], _S["budgets"], _S["fixed_budget"], _S["replicates"], "axes")]
FULL = next(k for k in KEYS if scaling.parse_key(k).fraction == 1.0)  # the whole candidate pool


@pytest.fixture(scope="module")
def rehearsal_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("rehearsal")
    t0 = time.perf_counter()
    snakemake(work, configfiles=(CONFIG,), timeout=2400)
    print(f"rehearsal run: {time.perf_counter() - t0:.0f} s")
    return work


def read_json(path):
    return json.loads(path.read_text())


def test_rehearsal_is_complete_and_up_to_date(rehearsal_run):
    assert planned_jobs(snakemake(rehearsal_run, "-n", configfiles=(CONFIG,))) == {}
    info = read_json(rehearsal_run / R / "standins/standins.json")
    assert info["base"]["architecture"] == "Qwen2ForCausalLM"
    pre = info["base"]["pretrain"]
    assert pre["steps"] == CFG["rehearsal"]["pretrain_steps"] and pre["last_loss"] < pre["first_loss"] - 2
    base = read_json(rehearsal_run / CFG["model"]["base"] / "config.json")
    assert base["model_type"] == "qwen2" and base["num_key_value_heads"] < base["num_attention_heads"]
    assert info["complexity"]["architecture"] == info["quality"]["architecture"] == "LlamaForCausalLM"
    # every fine-tune starts from the stand-in, by path
    assert read_json(rehearsal_run / R / "models/base.json")["name_or_path"] == CFG["model"]["base"]
    embed = read_json(rehearsal_run / R / "embed/embeddings.json")
    assert embed["model"] == CFG["embed"]["model"] and embed["dimension"] == 384


def test_hub_pool_mixture_is_read_through_load_dataset(rehearsal_run):
    ledger = read_json(rehearsal_run / R / "pool/ledger.json")
    rows = CFG["rehearsal"]["pool_rows"]
    assert ledger["read"] == 3 * rows and ledger["read"] == ledger["kept"] + ledger["rejected_total"]
    sources = [f"{d['name']}:train" for d in CFG["pool"]["hf"]["datasets"]]
    pool = pd.read_parquet(rehearsal_run / R / "pool/pool.parquet")
    assert sorted(pool["source"].unique()) == sorted(sources)
    domains = set(pool["domain"])
    assert {"general", "evol"} <= domains and {"GSM_AnsAug", "MATH_AnsAug"} <= domains  # MetaMathQA's type column


def test_deita_scores_come_from_the_scorer_models_with_unparsable_answers_counted(rehearsal_run):
    info = read_json(rehearsal_run / R / "selection/deita_scores.json")
    scores = pd.read_parquet(rehearsal_run / R / "selection/deita_scores.parquet")
    candidates = pd.read_parquet(rehearsal_run / R / "selection/candidates.parquet")
    assert len(scores) == len(candidates) == info["n"]
    for kind in ("complexity", "quality"):
        d = info[kind]
        assert d["scorer"] == "deita" and d["model"] == CFG["selection"]["deita"][f"{kind}_model"]
        assert d["n_scored"] == len(scores)
        unparsable = int(scores[kind].isna().sum())
        assert d["n_unparsable"] == unparsable == info["missing"][kind]
        finite = scores[kind].dropna()
        assert finite.between(1, 6).all() and finite.nunique() > 1
    record = read_json(rehearsal_run / R / f"selection/deita/{FULL}.json")
    missing = int((scores["complexity"].isna() | scores["quality"].isna()).sum())
    assert record["excluded"].get("score_missing", 0) == missing


def test_every_fine_tune_ran_as_two_torchrun_processes(rehearsal_run):
    processes = CFG["finetune"]["processes"]
    assert processes == 2
    assert read_json(rehearsal_run / R / "models/warmup.json")["processes"] == processes
    runs = [p for p in sorted((rehearsal_run / R / "regression/runs").glob("*.json"))
            + sorted((rehearsal_run / R / "scaling/runs").glob("*/*.json")) if not p.name.endswith(".provenance.json")]
    assert len(runs) == 6 + len(METHODS) * len(KEYS)
    for path in runs:
        m = read_json(path)
        assert m["processes"] == processes, path
        loss = m["dev_loss"] if "/regression/" in str(path) else m["test_loss"]  # scaling runs are judged on test
        assert m["resumed"] is False and math.isfinite(loss)
    assert not any((rehearsal_run / R / "checkpoints").rglob("checkpoint-*")), "checkpoints are removed once a run is done"
    # the job's 2 cores are shared by its 2 processes: one torch thread each, never 2 each
    logs = sorted((rehearsal_run / R / "logs/scaling_finetune").glob("*.log"))
    assert len(logs) == len(METHODS) * len(KEYS)
    for log in logs:
        said = sorted(re.findall(r"process (\d) of 2: training on (\d+) torch thread", log.read_text()))
        assert said == [("0", "1"), ("1", "1")], log


def test_benchmark_table_from_lm_eval(rehearsal_run):
    table = pd.read_csv(rehearsal_run / R / "tables/benchmarks.csv")
    tasks = CFG["benchmarks"]["tasks"]
    docs = read_json(rehearsal_run / R / "standins/standins.json")["tasks"]
    assert sorted(table["task"].unique()) == sorted(tasks)
    assert len(table[["method", "pool_fraction", "budget", "replicate"]].drop_duplicates()) == len(METHODS) * len(KEYS)
    main = {tasks[0]: "exact_match,final_answer", tasks[1]: "acc,none"}  # generate_until, multiple_choice
    for task, metric in main.items():
        rows = table[(table["task"] == task) & (table["metric"] == metric)]
        assert len(rows) == len(METHODS) * len(KEYS), (task, metric)
        assert rows["value"].between(0, 1).all() and (rows["n_samples"] == docs[task]).all()
    acc_norm = table[(table["task"] == tasks[1]) & (table["metric"] == "acc_norm,none")]
    assert len(acc_norm) == len(METHODS) * len(KEYS)


def _kill_tree(proc):
    """SIGKILL a process and every descendant (torchrun workers start their
    own sessions, so a process group kill misses them); returns each
    process with its command line."""
    root = psutil.Process(proc.pid)
    family = root.children(recursive=True) + [root]
    named = []
    for p in family:
        try:
            named.append((p, " ".join(p.cmdline())))
        except psutil.Error:
            named.append((p, ""))
    for p in family:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=30)
    return named


def test_killed_fine_tune_resumes_from_its_checkpoint(rehearsal_run, tmp_path):
    work = tmp_path / "run"
    shutil.copytree(rehearsal_run, work, symlinks=True)
    run = f"ila/{FULL}"
    metrics = work / R / f"scaling/runs/{run}.json"
    straight = read_json(metrics)
    metrics.unlink()
    shutil.rmtree(work / R / f"scaling/models/{run}")
    staging = work / R / f"checkpoints/scaling/{run}"
    # checkpoint after every step (an execution setting: only the missing run reruns)
    extra = tmp_path / "every_step.yaml"
    extra.write_text(yaml.safe_dump({"finetune": {"checkpoint_steps": 1}}))
    cmd = SNAKEMAKE + ["-s", str(ROOT / "Snakefile"), "--directory", str(work), "--cores", "2", str(metrics.relative_to(work)),
                       "--configfile", str(ROOT / CONFIG), str(extra)]
    proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed_at, family = None, []
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        states = sorted(staging.glob("trainer/checkpoint-*/trainer_state.json"))
        if states:
            killed_at = states[-1].parent.name
            family = _kill_tree(proc)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    assert killed_at is not None, "the fine-tune finished, or never checkpointed, before it could be killed"
    assert any("torch.distributed.run" in cmd for _, cmd in family), "torchrun was among the killed"
    workers = [cmd for _, cmd in family if "ila.finetune.launch" in cmd and "torch.distributed.run" not in cmd]
    assert len(workers) == 2, f"both training processes were killed: {workers}"
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p, _ in family), "no process survives"
    assert not metrics.exists(), "the killed job left no output that looks complete"

    snakemake(work, "--unlock", configfiles=(CONFIG, str(extra)))
    snakemake(work, "--rerun-incomplete", str(metrics.relative_to(work)), configfiles=(CONFIG, str(extra)))
    resumed = read_json(metrics)
    assert resumed["resumed"] is True and straight["resumed"] is False
    assert resumed["processes"] == straight["processes"] == 2
    for key in ("test_loss", "test_loss_domain_mean", "test_loss_example_mean", "test_per_domain", "steps",
                "train_ids_sha256", "train_examples"):  # a scaling run: judged on the test set
        assert resumed[key] == straight[key], key
    assert not staging.exists(), "staging is removed once the run is done"
