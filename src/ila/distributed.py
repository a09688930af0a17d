"""Multi-process fine-tuning: the same fine-tune-and-evaluate run, launched
under torchrun (DDP: NCCL on GPUs, gloo on CPU) when the config asks for more
than one process. The calling job writes the run's inputs to a folder,
torchrun starts N copies of this module, and rank 0 writes the metrics.

Run by hand: ``torchrun --standalone --nproc_per_node N -m ila.distributed SPEC OUT``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tempfile

from . import io


def launch(
    base: str,
    pool,
    train_ids,
    dev_ids,
    settings,
    template,
    seed: int,
    processes: int,
    threads: int,
    device: str = "cpu",
    clip: float | None = None,
    dev_batch_size: int = 64,
    out_dir: str | None = None,
) -> dict:
    """Run :func:`ila.study.train_and_evaluate` under torchrun with
    `processes` processes; `threads` are shared among them."""
    from . import records as rec

    with tempfile.TemporaryDirectory(prefix="ila-ddp-") as tmp:
        rows = rec.rows_by_id(pool, sorted(set(train_ids) | set(dev_ids)), "pool")
        io.write_parquet(os.path.join(tmp, "pool.parquet"), rows[["id", "instruction", "input", "output", "domain"]])
        spec = {
            "base": base,
            "pool": os.path.join(tmp, "pool.parquet"),
            "train_ids": list(train_ids),
            "dev_ids": list(dev_ids),
            "settings": dataclasses.asdict(settings),
            "template": dataclasses.asdict(template),
            "seed": seed,
            "device": device,
            "clip": clip,
            "dev_batch_size": dev_batch_size,
            "out_dir": out_dir,
        }
        spec_path, out_path = os.path.join(tmp, "spec.json"), os.path.join(tmp, "metrics.json")
        io.write_json(spec_path, spec)
        per_process = max(1, threads // processes)
        env = dict(os.environ, OMP_NUM_THREADS=str(per_process), ILA_THREADS=str(per_process))
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={processes}", "-m", "ila.distributed", spec_path, out_path,
        ]
        proc = subprocess.run(cmd, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"torchrun with {processes} processes failed with exit code {proc.returncode}: {' '.join(cmd)}")
        return io.read_json(out_path)


def main(argv: list[str] | None = None) -> int:
    from .lm.prompt import PromptTemplate
    from .lm.train import FinetuneSettings
    from .study import train_and_evaluate

    spec_path, out_path = (argv or sys.argv[1:])[:2]
    spec = json.loads(open(spec_path, encoding="utf-8").read())
    metrics = train_and_evaluate(
        spec["base"],
        io.read_parquet(spec["pool"]),
        spec["train_ids"],
        spec["dev_ids"],
        FinetuneSettings(**spec["settings"]),
        PromptTemplate(**spec["template"]),
        seed=spec["seed"],
        threads=int(os.environ.get("ILA_THREADS", "1")),
        device=spec["device"],
        clip=spec["clip"],
        dev_batch_size=spec["dev_batch_size"],
        out_dir=spec["out_dir"],
    )
    if int(os.environ.get("RANK", "0")) == 0:
        io.write_json(out_path, metrics)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
