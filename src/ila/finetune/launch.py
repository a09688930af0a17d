"""Run a group of fine-tunes: in this process, or, when the execution asks
for more than one process, under torchrun (DDP: NCCL on GPUs, gloo on CPU).
Under torchrun every rank runs :func:`ila.finetune.core.run_group` on the
same spec; rank 0 writes the outputs.

By hand: ``torchrun --standalone --nproc_per_node N -m ila.finetune.launch SPEC.json THREADS CHECKPOINT_STEPS``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from .core import run_group
from .runs import GroupSpec
from .settings import Execution


def run(spec: GroupSpec, execution: Execution) -> None:
    """Train and evaluate every run of ``spec`` and write its outputs."""
    if execution.processes == 1 or "WORLD_SIZE" in os.environ:
        run_group(spec, execution)
        return
    with tempfile.TemporaryDirectory(prefix="ila-ddp-") as tmp:
        spec_path = os.path.join(tmp, "spec.json")
        with open(spec_path, "w", encoding="utf-8") as fh:
            fh.write(spec.to_json())
        env = dict(os.environ, OMP_NUM_THREADS=str(execution.process_threads()))
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={execution.processes}",
            "-m", "ila.finetune.launch", spec_path, str(execution.threads), str(execution.checkpoint_steps),
        ]
        proc = subprocess.run(cmd, env=env)
        if proc.returncode != 0:
            raise RuntimeError(f"torchrun with {execution.processes} processes failed with exit code "
                               f"{proc.returncode}: {' '.join(cmd)}")


def main(argv: list[str] | None = None) -> int:
    """One rank of a torchrun launch."""
    from ila.runtime import setup_logging

    spec_path, threads, checkpoint_steps = (argv or sys.argv[1:])[:3]
    setup_logging(None)
    with open(spec_path, encoding="utf-8") as fh:
        spec = GroupSpec.from_json(fh.read())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    run_group(spec, Execution(threads=int(threads), processes=world, checkpoint_steps=int(checkpoint_steps)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
