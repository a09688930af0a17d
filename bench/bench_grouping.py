"""Fine-tunes per process: one run per process (a job of one run) against
one group of runs in one process, side by side on the same runs.

Reads a finished run of the workflow (``--results``, e.g. results/default):
its base model, pool, dev set and the first ``--runs`` regression subsets.
Alternates the two modes ``--repeats`` times (alone, grouped, alone, ...)
so that machine noise hits both alike, on one thread each, and reports per
mode the median wall seconds per run, the training + evaluation seconds
per run (as the runs report them) and the rest, the per-run overhead
(process start-up, imports, model and data loading). Checks that every
run's metrics are bit-identical between the modes.

``--workflow`` measures the same runs the way the workflow runs them: a
copy of the finished run folder, and Snakemake forced to retrain the
``--runs`` subsets as ``--runs`` jobs of one run each
(``finetune.runs_per_job: 1``, the way before grouping) and as one job of
them all (``runs_per_job: --runs``), on one core, alternating. It reports
per mode the invocation's wall seconds per run, the jobs' wall and CPU
seconds per run (Snakemake's benchmark files) and the overhead per run
beyond training and evaluation, and checks the runs' metrics are the same
bytes in both modes.

Targets: grouped >= 2.5x fewer wall seconds per run; grouped overhead per
run <= 1 s.

    python bench/bench_grouping.py --results results/default --runs 12 --out results/bench/grouping.json
    python bench/bench_grouping.py --workflow --results results/default --runs 12 --out results/bench/grouping_workflow.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMING = {"train_seconds", "eval_seconds", "seconds"}


def _args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default="results/default", help="a finished run of the workflow")
    p.add_argument("--config", default="config.yaml", help="its config file")
    p.add_argument("--runs", type=int, default=12, help="regression subsets to train")
    p.add_argument("--repeats", type=int, default=1, help="alternations of the two modes")
    p.add_argument("--out", default=None, help="write the report here (JSON)")
    p.add_argument("--workflow", action="store_true", help="run the subsets as Snakemake jobs (see above)")
    return p.parse_args(argv)


def _spec(results: Path, cfg: dict, subsets: list[str], out: Path):
    from ila import models
    from ila.finetune import GroupSpec, RunSpec, recipe
    from ila.lm.prompt import PromptTemplate
    from ila.lm.train import FinetuneSettings
    from ila.records import derived_seed

    runs = tuple(
        RunSpec(name=s, ids=str(results / "regression/subsets" / f"{s}.txt"),
                seed=derived_seed(cfg["seed"], "regression", s), metrics=str(out / f"{s}.json"),
                timing=str(out / "timings" / f"{s}.json"), staging=str(out / "staging" / s), fields={"subset": s})
        for s in subsets
    )
    return GroupSpec(
        kind="study", base=models.read_handle(results / "models/base.json"), pool=str(results / "pool/pool.parquet"),
        eval_sets={"dev": str(results / "pool/dev_ids.txt")}, settings=FinetuneSettings(**recipe(cfg["finetune"], cfg["model"]["max_length"])),
        template=PromptTemplate(**cfg["model"]["prompt"]), runs=runs, clip=cfg["regression"]["clip"],
        eval_batch_size=cfg["model"]["eval_batch_size"],
    )


def _launch(spec, tmp: Path) -> float:
    path = tmp / f"spec-{time.monotonic_ns()}.json"
    path.write_text(spec.to_json())
    code = ("import sys; from ila.finetune import launch, GroupSpec, Execution; "
            "launch.run(GroupSpec.from_json(open(sys.argv[1]).read()), Execution())")
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _work_seconds(metrics: dict) -> float:
    return float(metrics.get("train_seconds", 0.0)) + float(metrics.get("eval_seconds", 0.0))


def main(argv=None) -> int:
    import dataclasses


    from ila.regression.design import subset_names

    a = _args(argv)
    results = Path(a.results)
    cfg = _resolved_config(a.config)
    r = cfg["regression"]
    subsets = subset_names(r["design"], r["coverage_levels"], list(r["depth_bands"]), r["seeds"], r["n_random"])[: a.runs]
    if a.workflow:
        return _report(_workflow_bench(a, results, subsets), a.out)
    modes = {"alone": [], "grouped": []}
    metrics = {}
    with tempfile.TemporaryDirectory(prefix="ila-bench-") as tmp:
        tmp = Path(tmp)
        for rep in range(a.repeats):
            for mode in ("alone", "grouped"):
                out = tmp / f"{mode}-{rep}"
                spec = _spec(results, cfg, subsets, out)
                if mode == "alone":
                    wall = sum(_launch(dataclasses.replace(spec, runs=(run,)), tmp) for run in spec.runs)
                else:
                    wall = _launch(spec, tmp)
                got = {s: json.loads((out / f"{s}.json").read_text()) for s in subsets}
                work = sum(_work_seconds(json.loads((out / "timings" / f"{s}.json").read_text())) for s in subsets)
                modes[mode].append({"wall_per_run": wall / len(subsets), "work_per_run": work / len(subsets),
                                    "overhead_per_run": (wall - work) / len(subsets)})
                metrics.setdefault(mode, got)
    same = all({k: v for k, v in metrics["alone"][s].items() if k not in TIMING}
               == {k: v for k, v in metrics["grouped"][s].items() if k not in TIMING} for s in subsets)
    med = {m: {k: statistics.median(x[k] for x in rows) for k in rows[0]} for m, rows in modes.items()}
    report = {
        "runs": len(subsets), "repeats": a.repeats, "modes": med, "samples": modes,
        "ratio_wall_per_run": med["alone"]["wall_per_run"] / med["grouped"]["wall_per_run"],
        "metrics_identical": same,
    }
    return _report(report, a.out)


def _report(report: dict, out: str | None) -> int:
    text = json.dumps(report, indent=2, sort_keys=True)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n")
    return 0 if report["metrics_identical"] else 1


def _workflow_bench(a, results: Path, subsets: list[str]) -> dict:
    """Both modes through Snakemake on a copy of ``results`` (see the module doc)."""
    import shutil

    import yaml

    root = Path(__file__).resolve().parents[1]
    name = results.name
    modes = {"alone": [], "grouped": []}
    metrics = {}
    with tempfile.TemporaryDirectory(prefix="ila-bench-wf-") as tmp:
        work = Path(tmp) / "work"
        shutil.copytree(results, work / "results" / name, symlinks=True)  # copy2: times kept, nothing reruns by age
        for rep in range(a.repeats):
            for mode, per_job in (("alone", 1), ("grouped", len(subsets))):
                override = Path(tmp) / f"{mode}.yaml"
                override.write_text(yaml.safe_dump({"finetune": {"runs_per_job": per_job}}))
                targets = [f"results/{name}/regression/runs/{s}.json" for s in subsets]
                bench_dir = work / "results" / name / "benchmarks" / "regression_finetune"
                shutil.rmtree(bench_dir, ignore_errors=True)
                cmd = [sys.executable, "-m", "snakemake", "-s", str(root / "Snakefile"), "--directory", str(work),
                       "--cores", "1", *targets, "--forcerun", *targets,
                       "--configfile", str(root / a.config), str(override)]
                env = dict(os.environ, OMP_NUM_THREADS="1")
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
                wall = time.perf_counter() - t0
                if proc.returncode != 0:
                    raise RuntimeError(f"snakemake failed ({mode}):\n{proc.stderr[-4000:]}")
                jobs = [_benchmark_row(p) for p in sorted(bench_dir.glob("*.tsv"))]
                expected = len(subsets) if mode == "alone" else 1
                if len(jobs) != expected:
                    raise RuntimeError(f"{mode}: {len(jobs)} fine-tune jobs ran, expected {expected}")
                timings = work / "results" / name / "timings" / "regression" / "runs"
                run_work = sum(_work_seconds(json.loads((timings / f"{s}.json").read_text())) for s in subsets)
                job_wall = sum(j["s"] for j in jobs)
                n = len(subsets)
                modes[mode].append({
                    "wall_per_run": wall / n, "job_wall_per_run": job_wall / n,
                    "job_cpu_per_run": sum(j["cpu_time"] for j in jobs) / n,
                    "work_per_run": run_work / n, "overhead_per_run": (job_wall - run_work) / n,
                })
                runs = work / "results" / name / "regression" / "runs"
                metrics.setdefault(mode, {s: (runs / f"{s}.json").read_bytes() for s in subsets})
    med = {m: {k: statistics.median(x[k] for x in rows) for k in rows[0]} for m, rows in modes.items()}
    return {
        "runs": len(subsets), "repeats": a.repeats, "via": "snakemake, one core", "modes": med, "samples": modes,
        "ratio_wall_per_run": med["alone"]["wall_per_run"] / med["grouped"]["wall_per_run"],
        "ratio_job_wall_per_run": med["alone"]["job_wall_per_run"] / med["grouped"]["job_wall_per_run"],
        "metrics_identical": metrics["alone"] == metrics["grouped"],
    }


def _benchmark_row(path: Path) -> dict:
    """Snakemake's benchmark TSV of one job: its wall seconds and CPU seconds."""
    header, row = path.read_text().splitlines()[:2]
    values = dict(zip(header.split("\t"), row.split("\t")))
    return {"s": float(values["s"]), "cpu_time": float(values["cpu_time"])}


def _resolved_config(path: str) -> dict:
    """The config file with the schema's defaults filled in, as the workflow sees it."""
    import yaml
    from snakemake.utils import validate

    cfg = yaml.safe_load(Path(path).read_text())
    validate(cfg, str(Path(__file__).resolve().parents[1] / "schemas/config.schema.yaml"))
    return cfg


if __name__ == "__main__":
    raise SystemExit(main())
