"""The smoke workflow on a real single-node SLURM cluster: every job goes
through sbatch (the controller knows each one by id, rule and working
directory), and the outputs are byte-identical to a local run of the same
config.

Needs root (the cluster is installed with apt and its daemons started by
tests/cluster/slurm_cluster.sh) and snakemake-executor-plugin-slurm (the
`cluster` extra). Without them every test here is skipped with a reason that
starts "SLURM unavailable:"; with ILA_REQUIRE_SLURM=1 that is a failure
instead (for a CI job that must prove the cluster path). About 15 minutes on
a 2-core machine: one local (~5 min) and one SLURM (~10 min) run of
configs/smoke.yaml.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ila.plumbing.dryrun import stage_of, stage_counts

pytestmark = pytest.mark.cluster

ROOT = Path(__file__).resolve().parents[2]
TOOL = Path(__file__).resolve().with_name("slurm_cluster.sh")
PROFILE = ROOT / "profiles" / "slurm-test"
CONFIG = ROOT / "configs" / "smoke.yaml"
CONTROLLER_LOG = Path("/var/log/slurm/slurmctld.log")
PLUGINS = ("snakemake_executor_plugin_slurm", "snakemake_executor_plugin_slurm_jobstep")
# per snakemake attempt (`timeout -k 10 ...`); the smoke DAG of 33 jobs took
# 600-715 s on SLURM on a loaded 2-core machine (status polling and a
# snakemake start per job add ~10-30 s to each job)
RUN_TIMEOUT_S = int(os.environ.get("ILA_SLURM_RUN_TIMEOUT", "1800"))
R = "results/smoke"
# outputs that must be the same bytes whether the jobs ran locally or on SLURM
COMPARED = (
    f"{R}/pool/pool.parquet",
    f"{R}/pool/ledger.json",
    f"{R}/pool/candidate_ids.txt",
    f"{R}/embed/embeddings.npy",
    f"{R}/tables/examples.parquet",
    f"{R}/tables/regression.csv",
    f"{R}/tables/regression_summary.json",
)
# rules that only gather targets (no script): Snakemake finishes them itself
TARGET_RULES = {"all"}
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")


def unavailable(reason: str):
    """Skip (or fail, under ILA_REQUIRE_SLURM=1) with a reason nobody can miss."""
    message = f"SLURM unavailable: {reason}"
    if os.environ.get("ILA_REQUIRE_SLURM") == "1":
        pytest.fail(message + " (ILA_REQUIRE_SLURM=1)", pytrace=False)
    pytest.skip(message)


def tool(command: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(TOOL), command], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running single-node cluster; stopped at the end unless it was already
    up (started by slurm_cluster.sh) before this session."""
    missing = [m for m in PLUGINS if importlib.util.find_spec(m) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not importable by {sys.executable} (pip install -e '.[cluster]')")
    if os.geteuid() != 0:
        unavailable("starting the test cluster needs root (apt-get install, slurmctld/slurmd)")
    if shutil.which("slurmctld") is None and shutil.which("apt-get") is None:
        unavailable("SLURM is not installed and there is no apt-get to install it")
    was_up = tool("status").returncode == 0
    started = time.perf_counter()
    try:
        up = tool("up")
    except subprocess.TimeoutExpired:
        tool("down")
        unavailable("`slurm_cluster.sh up` took more than 900 s")
    if up.returncode != 0:
        if not was_up:
            tool("down")
        unavailable(f"`slurm_cluster.sh up` failed ({up.returncode}):\n{up.stdout[-2000:]}\n{up.stderr[-3000:]}")
    print(f"SLURM cluster up in {time.perf_counter() - started:.1f} s\n{up.stdout}")
    yield up.stdout
    if not was_up:
        down = tool("down")
        assert down.returncode == 0, f"slurm_cluster.sh down failed:\n{down.stdout}\n{down.stderr}"


@dataclass
class Run:
    """One snakemake run of the smoke config (one attempt, or two after a
    failure)."""

    workdir: Path
    wall_s: float  # of the attempt that succeeded
    outputs: list[str] = field(default_factory=list)  # stdout + stderr of each attempt, the last one succeeded
    controller_log_offset: int = 0  # size of the controller log before the run

    @property
    def attempts(self) -> int:
        return len(self.outputs)


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(CONFIG), *args]


def run_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return env


def cancel_leftover_jobs(workdir: Path) -> list[str]:
    """scancel the jobs of this working directory still queued or running
    (a run killed by the timeout may leave some); returns their ids."""
    proc = subprocess.run(["squeue", "-h", "-o", "%i|%Z"], capture_output=True, text=True)
    ids = [line.split("|")[0] for line in proc.stdout.splitlines()
           if line.count("|") == 1 and Path(line.split("|")[1]).resolve() == workdir.resolve()]
    if ids:
        subprocess.run(["scancel", *ids], capture_output=True)
    return ids


def run_workflow(workdir: Path, *args: str, slurm: bool) -> Run:
    """Run the smoke config under `timeout -k 10 900`; after a failure unlock
    the directory and try once more (a warning keeps the first failure)."""
    outputs, failed = [], []
    for attempt in (1, 2):
        started = time.perf_counter()
        cmd = ["timeout", "-k", "10", str(RUN_TIMEOUT_S), *snakemake_cmd(workdir, *args)]
        proc = subprocess.run(cmd, cwd=workdir, env=run_env(), capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S + 60)
        wall = time.perf_counter() - started
        outputs.append(proc.stdout + proc.stderr)
        if proc.returncode == 0:
            for earlier in failed:
                warnings.warn(f"snakemake run in {workdir} failed once and passed on retry:\n{earlier}")
            return Run(workdir, wall, outputs)
        cancelled = cancel_leftover_jobs(workdir) if slurm else []
        failed.append(f"attempt {attempt}: exit {proc.returncode} after {wall:.0f} s "
                      f"(cancelled jobs: {cancelled or 'none'})\n{' '.join(cmd)}\n{outputs[-1][-6000:]}")
        subprocess.run(snakemake_cmd(workdir, "--unlock"), cwd=workdir, env=run_env(), capture_output=True)
    raise AssertionError("snakemake failed twice:\n" + "\n\n".join(failed))


def executed_jobs(output: str) -> Counter:
    """Stage -> job count from the 'Job stats' table a run prints first."""
    return Counter(stage_counts(output))


def controller_jobs() -> dict[str, dict[str, str]]:
    """Every job slurmctld still holds (finished ones for MinJobAge):
    id -> name, comment, state, working directory."""
    proc = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%j|%k|%T|%Z"],
                          capture_output=True, text=True, check=True)
    jobs = {}
    for line in proc.stdout.splitlines():
        jid, name, comment, state, workdir = line.split("|", 4)
        jobs[jid] = {"name": name, "comment": comment, "state": state, "workdir": workdir}
    return jobs


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke-local")
    return run_workflow(workdir, "--cores", "2", slurm=False)


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, local_run, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke-slurm")
    offset = CONTROLLER_LOG.stat().st_size if CONTROLLER_LOG.exists() else 0
    run = run_workflow(workdir, "--profile", str(PROFILE), slurm=True)
    run.controller_log_offset = offset
    print(f"SLURM smoke run: {run.wall_s:.1f} s wall ({run.attempts} attempt(s)); "
          f"local smoke run: {local_run.wall_s:.1f} s")
    return run


def test_every_job_went_through_sbatch(slurm_run, local_run, capsys):
    # snakemake job id -> SLURM job id, from each attempt's output
    per_attempt = [dict(SUBMITTED.findall(text)) for text in slurm_run.outputs]
    final_ids = set(per_attempt[-1].values())
    slurm_ids = set().union(*(a.values() for a in per_attempt))
    assert slurm_ids, f"no 'submitted with SLURM jobid' lines in the output:\n{slurm_run.outputs[-1][-4000:]}"

    # the plugin's per-job logs: .snakemake/slurm_logs/rule_<rule>/[<wildcards>/]<jobid>.log
    logdir = slurm_run.workdir / ".snakemake" / "slurm_logs"
    logged = {p.stem: p.relative_to(logdir).parts[0] for p in logdir.rglob("*.log")}
    assert slurm_ids <= set(logged), f"jobs without a SLURM log: {sorted(slurm_ids - set(logged))}"

    # the controller's view: each job is known by id, ran in this working
    # directory and carries its rule in the comment; the successful attempt's
    # jobs all completed, under one run id (the job name)
    held = controller_jobs()
    assert slurm_ids <= set(held), f"jobs slurmctld does not know: {sorted(slurm_ids - set(held), key=int)}"
    for jid in slurm_ids:
        job = held[jid]
        assert Path(job["workdir"]).resolve() == slurm_run.workdir.resolve(), (jid, job)
        assert job["comment"].startswith(logged[jid]), (jid, job, logged[jid])
    assert all(held[jid]["state"] == "COMPLETED" for jid in final_ids), {j: held[j] for j in final_ids}
    assert len({held[jid]["name"] for jid in final_ids}) == 1
    with CONTROLLER_LOG.open("rb") as f:  # only what was logged during the run
        f.seek(slurm_run.controller_log_offset)
        log = f.read().decode(errors="replace")
    received = set(re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+) ", log))
    finished_ok = set(re.findall(r"_job_complete: JobId=(\d+) WEXITSTATUS 0", log))
    assert final_ids <= received and final_ids <= finished_ok, (
        f"not in {CONTROLLER_LOG}: submitted {sorted(final_ids - received)}, "
        f"finished with exit 0 {sorted(final_ids - finished_ok)}")

    # every job the local run executed ran on SLURM (rule by rule)
    completed = [jid for jid in slurm_ids if held[jid]["state"] == "COMPLETED"]
    per_rule = Counter(stage_of(re.sub(r"^rule_(\S+?)(_wildcards_.*)?$", r"\1", held[jid]["comment"]))
                       for jid in completed)
    local = executed_jobs(local_run.outputs[-1])
    expected = {rule: n for rule, n in local.items() if rule not in TARGET_RULES}
    short = {rule: (n, per_rule[rule]) for rule, n in expected.items() if per_rule[rule] < n}
    assert not short, f"rule: (local jobs, SLURM jobs) where SLURM ran fewer: {short}"
    assert sum(per_rule.values()) >= sum(expected.values())
    assert per_rule["pretrain"] == 1 and per_rule["embed_shard"] == 2 and per_rule["regression_finetune"] >= 2
    with capsys.disabled():
        print(f"\n[cluster] SLURM smoke run: {slurm_run.wall_s:.1f} s wall, {len(completed)} sbatch jobs "
              f"({slurm_run.attempts} attempt(s)); local smoke run (--cores 2): {local_run.wall_s:.1f} s, "
              f"{sum(local.values())} jobs")


def test_outputs_equal_local_run(slurm_run, local_run):
    differ = []
    for rel in COMPARED:
        a, b = local_run.workdir / rel, slurm_run.workdir / rel
        assert a.is_file(), f"local run did not write {rel}"
        assert b.is_file(), f"SLURM run did not write {rel}"
        if sha256(a) != sha256(b):
            differ.append(f"{rel}: local {a.stat().st_size} B {sha256(a)[:12]}, SLURM {b.stat().st_size} B {sha256(b)[:12]}")
    assert not differ, "outputs differ between the local and the SLURM run:\n" + "\n".join(differ)
