"""The fine-tuning recipe and how a fine-tune is executed.

The config's ``finetune`` section holds both. The *recipe* (learning rate,
epochs, batch, ...) decides a run's result: rules pass it as params, so a
change reruns the runs. The *execution* (threads, processes, checkpoint
interval, runs per job) does not change any result: jobs read it from the
config, so a change reruns nothing. This module is the one place that
tells the two apart.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

#: keys of the config's `finetune` section that say how a run executes, not what it computes
EXECUTION_KEYS = ("threads", "processes", "checkpoint_steps", "runs_per_job")


def recipe(finetune_cfg: dict, max_length: int) -> dict:
    """The result-changing part of the config's ``finetune`` section plus
    the model's ``max_length``: the keyword arguments of
    :class:`ila.lm.train.FinetuneSettings`."""
    out = {k: v for k, v in finetune_cfg.items() if k not in EXECUTION_KEYS}
    out["max_length"] = int(max_length)
    return out


@dataclass(frozen=True)
class Execution:
    """How a group of runs executes. threads: CPU threads of the job (shared
    by its processes); processes: training processes (> 1: torchrun, DDP);
    checkpoint_steps: Trainer checkpoint interval (0: none)."""

    threads: int = 1
    processes: int = 1
    checkpoint_steps: int = 0

    def __post_init__(self) -> None:
        if self.threads < 1 or self.processes < 1 or self.checkpoint_steps < 0:
            raise ValueError(f"invalid execution settings {self}")

    def process_threads(self) -> int:
        """Torch threads of each training process: the job's threads shared
        among its processes (under torchrun, WORLD_SIZE of them). Two
        processes of a 2-thread job take one each; the job's count in every
        process would oversubscribe its cores."""
        world = int(os.environ.get("WORLD_SIZE", self.processes))
        return max(1, self.threads // max(1, world))

    @classmethod
    def from_config(cls, finetune_cfg: dict, threads: int) -> "Execution":
        return cls(
            threads=int(threads),
            processes=int(finetune_cfg.get("processes", 1)),
            checkpoint_steps=int(finetune_cfg.get("checkpoint_steps", 0)),
        )


def check_config(config: dict) -> None:
    """Combinations of fine-tuning settings that cannot run, rejected before
    any job starts (the schema checks each key alone). Raises ValueError
    naming the keys."""
    from ila.lm.train import FinetuneSettings

    ft = config["finetune"]
    processes = int(ft.get("processes", 1))
    if int(ft["batch_size"]) % processes:
        raise ValueError(
            f"finetune.batch_size ({ft['batch_size']}) must be divisible by finetune.processes ({processes}): "
            "the global batch is split evenly over the training processes"
        )
    if processes > int(ft.get("threads", 1)) and config.get("device", "cpu") == "cpu":
        raise ValueError(
            f"finetune.processes ({processes}) exceeds finetune.threads ({ft.get('threads', 1)}) on device cpu: "
            "each training process needs at least one thread"
        )
    try:
        FinetuneSettings(**recipe(ft, config["model"]["max_length"]))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"finetune: {exc}") from None
