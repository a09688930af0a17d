"""The fine-tuning recipe and how a fine-tune is executed.

The config's ``finetune`` section holds both. The *recipe* (learning rate,
epochs, batch, ...) decides a run's result: rules pass it as params, so a
change reruns the runs. The *execution* (threads, processes, checkpoint
interval, runs per job) does not change any result: jobs read it from the
config, so a change reruns nothing. This module is the one place that
tells the two apart.
"""

from __future__ import annotations

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

    @classmethod
    def from_config(cls, finetune_cfg: dict, threads: int) -> "Execution":
        return cls(
            threads=int(threads),
            processes=int(finetune_cfg.get("processes", 1)),
            checkpoint_steps=int(finetune_cfg.get("checkpoint_steps", 0)),
        )
