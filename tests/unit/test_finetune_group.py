"""Groups of fine-tunes in one process (and under torchrun): each run's
metrics equal the same run trained alone; a group killed mid-way keeps its
finished runs and resumes the unfinished one from its checkpoint; two
processes resume from checkpoints too."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lm_support import tiny_base, toy_records  # noqa: E402

from ila import io  # noqa: E402
from ila.finetune import Execution, GroupSpec, RunSpec, group_runs  # noqa: E402
from ila.finetune.settings import EXECUTION_KEYS, recipe  # noqa: E402
from ila.lm.prompt import PromptTemplate  # noqa: E402
from ila.lm.train import FinetuneSettings  # noqa: E402

#: wall-clock fields: the only ones allowed to differ between two runs of the same fine-tune
TIMING = {"train_seconds", "eval_seconds", "seconds"}
#: what a resumed run reports differently: the flag, and the Trainer's train_loss (steps after the resume only)
RESUME = {"resumed", "train_loss"}
SETTINGS = FinetuneSettings(epochs=2, lr=2e-2, batch_size=4, max_length=64, warmup_ratio=0.0, logging_steps=1)


def test_runs_are_grouped_in_order_within_a_family():
    runs = [("ila", "ila/a"), ("ila", "ila/b"), ("ila", "ila/c"), ("random", "random/a")]
    assert group_runs(runs, 2) == {"g00": ["ila/a", "ila/b"], "g01": ["ila/c"], "g02": ["random/a"]}
    assert group_runs(runs, 1) == {f"g0{k}": [n] for k, (_, n) in enumerate(runs)}
    assert group_runs(runs, 10) == {"g00": ["ila/a", "ila/b", "ila/c"], "g01": ["random/a"]}
    with pytest.raises(ValueError, match="runs_per_job"):
        group_runs(runs, 0)
    with pytest.raises(ValueError, match="repeat"):
        group_runs(runs + [("x", "ila/a")], 2)


def test_recipe_and_execution_are_told_apart_in_one_place():
    cfg = {"lr": 1e-3, "epochs": 1, "threads": 2, "processes": 2, "checkpoint_steps": 5, "runs_per_job": 3}
    assert recipe(cfg, 128) == {"lr": 1e-3, "epochs": 1, "max_length": 128}
    assert set(cfg) - set(recipe(cfg, 128)) == set(EXECUTION_KEYS)
    assert Execution.from_config(cfg, threads=2) == Execution(threads=2, processes=2, checkpoint_steps=5)
    FinetuneSettings(**recipe(cfg, 128))  # the recipe is exactly the settings' keywords


def test_the_jobs_threads_are_shared_by_its_processes(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert Execution(threads=16, processes=4).process_threads() == 4  # the launcher, before torchrun
    assert Execution(threads=2).process_threads() == 2
    assert Execution(threads=3, processes=2).process_threads() == 1
    monkeypatch.setenv("WORLD_SIZE", "2")  # a rank of a launch made elsewhere (srun torchrun)
    assert Execution(threads=8, processes=1).process_threads() == 4


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("group")
    base, _, _ = tiny_base(root / "base")
    records = toy_records(64, seed=3)
    io.write_parquet(root / "pool.parquet", pd.DataFrame(records))
    ids = [r["id"] for r in records]
    io.write_ids(root / "dev.txt", ids[48:])
    for k, name in enumerate("abc"):
        io.write_ids(root / f"{name}.txt", ids[k * 12 : k * 12 + 24])
    return root, base


def make_spec(root, base, names, out, settings=SETTINGS, problems=None):
    runs = tuple(
        RunSpec(name=n, ids=str(root / f"{n}.txt"), seed=11 + ord(n), metrics=str(out / f"{n}.json"),
                timing=str(out / "timings" / f"{n}.json"), staging=str(out / "staging" / n), fields={"subset": n})
        for n in names
    )
    return GroupSpec(kind="study", base=base, pool=str(root / "pool.parquet"), eval_sets={"dev": str(root / "dev.txt")},
                     settings=settings, template=PromptTemplate(), runs=runs, clip=8.0, eval_batch_size=8)


def start(spec: GroupSpec, execution: Execution, where: Path) -> subprocess.Popen:
    """The group in a process of its own, as a workflow job runs it."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"spec-{time.monotonic_ns()}.json"
    path.write_text(spec.to_json())
    code = ("import sys; from ila.finetune import launch, GroupSpec, Execution; "
            "launch.run(GroupSpec.from_json(open(sys.argv[1]).read()), Execution(*map(int, sys.argv[2:])))")
    cmd = [sys.executable, "-c", code, str(path), str(execution.threads), str(execution.processes),
           str(execution.checkpoint_steps)]
    env = dict(os.environ, OMP_NUM_THREADS=str(execution.threads))
    return subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def run(spec, execution, where, log=None):
    """Run the group to its end; its stderr is appended to ``log`` when given."""
    proc = start(spec, execution, where)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-4000:]
    if log is not None:
        log.append(err)
    return {r.name: io.read_json(r.metrics) for r in spec.runs}


def without_timing(metrics: dict, also=()) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMING and k not in also}


def test_each_run_of_a_group_equals_the_run_trained_alone(setup, tmp_path):
    root, base = setup
    grouped = run(make_spec(root, base, "abc", tmp_path / "grouped"), Execution(), tmp_path)
    for name in "cb":
        alone = run(make_spec(root, base, name, tmp_path / f"alone-{name}"), Execution(), tmp_path)
        assert without_timing(grouped[name]) == without_timing(alone[name]), name
        # the metrics file holds no wall-clock seconds (same bytes every time); its timing file holds them
        same = (tmp_path / "grouped" / f"{name}.json").read_bytes() == (tmp_path / f"alone-{name}" / f"{name}.json").read_bytes()
        assert same and not TIMING & set(grouped[name])
        clock = io.read_json(tmp_path / "grouped" / "timings" / f"{name}.json")
        assert set(clock) == {"train_seconds", "eval_seconds"} and clock["train_seconds"] > 0
    # one metrics file per run, its extra fields, and no staging left behind
    assert {m["subset"] for m in grouped.values()} == set("abc")
    assert len({m["train_ids_sha256"] for m in grouped.values()}) == 3
    assert not (tmp_path / "grouped" / "staging" / "a").exists()


def kill_when(proc, ready, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if ready():
            import psutil

            # torchrun starts its workers in sessions of their own: kill the whole tree
            tree = psutil.Process(proc.pid).children(recursive=True)
            os.killpg(proc.pid, signal.SIGKILL)
            for child in tree:
                try:
                    child.kill()
                except psutil.NoSuchProcess:
                    pass
            proc.wait(timeout=60)
            psutil.wait_procs(tree, timeout=60)
            return True
        time.sleep(0.02)
    return False


def checkpoints(staging: Path):
    return sorted(staging.glob("trainer/checkpoint-*/trainer_state.json"))


def test_a_killed_group_keeps_its_finished_runs_and_resumes_the_unfinished_one(setup, tmp_path):
    root, base = setup
    long = dataclasses.replace(SETTINGS, epochs=8)
    execution = Execution(checkpoint_steps=1)
    spec = make_spec(root, base, "ab", tmp_path / "out", long)
    staging = tmp_path / "out" / "staging"
    proc = start(spec, execution, tmp_path)
    assert kill_when(proc, lambda: (staging / "a" / "finished.json").exists() and checkpoints(staging / "b")), \
        "the group finished, or never checkpointed its second run, before it could be killed"
    first = io.read_json(staging / "a" / "metrics.json")
    assert not (tmp_path / "out" / "a.json").exists()  # nothing published before the whole group is done

    again = run(spec, execution, tmp_path)
    clock = io.read_json(tmp_path / "out" / "timings" / "a.json")
    # kept as it was: the same wall-clock seconds too (now in its timing file), so it was not retrained
    assert without_timing(first) == again["a"] and clock == {k: first[k] for k in TIMING if k in first}
    assert again["b"]["resumed"] is True and again["a"]["resumed"] is False
    assert not staging.exists() or not any(staging.iterdir())

    straight = run(make_spec(root, base, "ab", tmp_path / "straight", long), Execution(), tmp_path)
    assert without_timing(again["a"]) == without_timing(straight["a"])
    # the Trainer's train_loss of a resumed run averages the steps after the resume only
    assert without_timing(again["b"], RESUME) == without_timing(straight["b"], RESUME)


def test_two_processes_resume_from_checkpoints_to_the_same_metrics(setup, tmp_path):
    root, base = setup
    long = dataclasses.replace(SETTINGS, epochs=6)
    two = Execution(threads=2, processes=2, checkpoint_steps=1)
    spec = make_spec(root, base, "a", tmp_path / "out", long)
    proc = start(spec, two, tmp_path)
    assert kill_when(proc, lambda: len(checkpoints(tmp_path / "out" / "staging" / "a")) >= 2), \
        "the 2-process run finished before it could be killed"
    resumed = run(spec, two, tmp_path)["a"]
    assert resumed["resumed"] is True and resumed["processes"] == 2

    err = []
    straight = run(make_spec(root, base, "a", tmp_path / "straight", long), Execution(threads=2, processes=2),
                   tmp_path, log=err)["a"]
    assert straight["processes"] == 2 and straight["resumed"] is False
    # the job's 2 threads are shared by its 2 processes: one each, never 2 each on 2 cores
    said = sorted(re.findall(r"process (\d) of 2: training on (\d+) torch thread", err[0]))
    assert said == [("0", "1"), ("1", "1")], err[0][-2000:]
    assert without_timing(resumed, RESUME) == without_timing(straight, RESUME)

    one = run(make_spec(root, base, "a", tmp_path / "one", long), Execution(), tmp_path)["a"]
    assert one["processes"] == 1 and one["steps"] == straight["steps"] and one["train_examples"] == 24
    # stated tolerance: DDP averages gradients in another order
    assert straight["dev_loss"] == pytest.approx(one["dev_loss"], rel=1e-3)


def test_settings_that_cannot_run_together_are_rejected_before_any_job():
    import yaml

    from ila.finetune.settings import check_config

    root = Path(__file__).resolve().parents[2]
    paper = yaml.safe_load((root / "configs/paper.yaml").read_text())
    check_config(paper)  # processes 4 with checkpoint_steps 200 is a supported pair
    base = {"device": "cpu", "model": {"max_length": 128},
            "finetune": {"batch_size": 16, "processes": 2, "threads": 2, "checkpoint_steps": 10}}
    check_config(base)
    with pytest.raises(ValueError, match=r"finetune.batch_size \(10\).*finetune.processes \(4\)"):
        check_config({**base, "finetune": {**base["finetune"], "batch_size": 10, "processes": 4, "threads": 4}})
    with pytest.raises(ValueError, match=r"finetune.processes \(2\) exceeds finetune.threads \(1\)"):
        check_config({**base, "finetune": {**base["finetune"], "threads": 1}})
    with pytest.raises(ValueError, match="finetune: .*learning_rate"):
        check_config({**base, "finetune": {**base["finetune"], "trainer_args": {"learning_rate": 1.0}}})


def test_sharded_training_that_cannot_finish_is_rejected_before_any_job(tmp_path, monkeypatch):
    """FSDP on CPU (accelerate would train plain DDP and say nothing) and a
    ZeRO-3 config that cannot gather the tuned weights for rank 0 (every
    fine-tune would fail after training) fail when the config is checked,
    naming the key, the file and the line."""
    import json

    from ila.finetune.settings import check_config

    base = {"device": "cpu", "model": {"max_length": 128}, "finetune": {"batch_size": 16, "processes": 2, "threads": 2}}

    def with_args(device="cpu", **trainer_args):
        return {**base, "device": device, "finetune": {**base["finetune"], "trainer_args": trainer_args}}

    with pytest.raises(ValueError, match=r"finetune.trainer_args.fsdp needs device: cuda"):
        check_config(with_args(fsdp=True, fsdp_config={"activation_checkpointing": True}))
    check_config(with_args("cuda", fsdp=True))
    check_config(with_args(activation_checkpointing=True))

    monkeypatch.chdir(tmp_path)  # a relative path is read from the workflow's folder
    zero3 = {"zero_optimization": {"stage": 3}, "train_micro_batch_size_per_gpu": "auto"}
    (tmp_path / "ds.json").write_text(json.dumps(zero3))
    with pytest.raises(ValueError, match=r"ds.json: zero_optimization.stage 3 needs .*gather_16bit"):
        check_config(with_args("cuda", deepspeed="ds.json"))
    with pytest.raises(ValueError, match=r"finetune.trainer_args.deepspeed: zero_optimization.stage 3"):
        check_config(with_args("cuda", deepspeed=zero3))
    gathered = {**zero3, "zero_optimization": {"stage": 3, "stage3_gather_16bit_weights_on_model_save": True}}
    (tmp_path / "ds.json").write_text(json.dumps(gathered))
    check_config(with_args("cuda", deepspeed="ds.json"))
    check_config(with_args("cuda", deepspeed={"zero_optimization": {"stage": 2}}))  # ZeRO-2: the model stays whole
    with pytest.raises(ValueError, match=r"deepspeed: missing.json: no such file"):
        check_config(with_args("cuda", deepspeed="missing.json"))
    (tmp_path / "bad.json").write_text('{"zero_optimization": {\n  "stage": 3,\n}}\n')
    with pytest.raises(ValueError, match=r"bad.json, line 3: not JSON"):
        check_config(with_args("cuda", deepspeed="bad.json"))
