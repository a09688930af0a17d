"""The fine-tuning recipe and how a fine-tune is executed.

The config's ``finetune`` section holds both. The *recipe* (learning rate,
epochs, batch, ...) decides a run's result: rules pass it as params, so a
change reruns the runs. The *execution* (threads, processes, checkpoint
interval, runs per job) does not change any result: jobs read it from the
config, so a change reruns nothing. This module is the one place that
tells the two apart.
"""

from __future__ import annotations

import json
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
    trainer_args = ft.get("trainer_args") or {}
    if trainer_args.get("fsdp") and config.get("device", "cpu") == "cpu":
        raise ValueError(
            "finetune.trainer_args.fsdp needs device: cuda: accelerate turns FSDP on only for accelerator devices and "
            "drops it on CPU without a word (device: cpu would train plain DDP); on CPU use "
            "finetune.trainer_args: {activation_checkpointing: true} instead (configs/rehearsal.yaml)"
        )
    if trainer_args.get("deepspeed"):
        check_deepspeed(trainer_args["deepspeed"])


def deepspeed_config(value) -> tuple[dict, str]:
    """``finetune.trainer_args.deepspeed`` as the Trainer will read it (a
    mapping, or the path of a JSON file relative to the workflow's folder)
    and where it came from; ValueError naming the file and line when the
    file is missing or is not JSON."""
    if isinstance(value, dict):
        return value, "finetune.trainer_args.deepspeed"
    path = str(value)
    if not os.path.isfile(path):
        raise ValueError(f"finetune.trainer_args.deepspeed: {path}: no such file (give a JSON file or a mapping)")
    try:
        with open(path, encoding="utf-8") as fh:
            loaded = json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"finetune.trainer_args.deepspeed: {path}, line {exc.lineno}: not JSON ({exc.msg})") from None
    if not isinstance(loaded, dict):
        raise ValueError(f"finetune.trainer_args.deepspeed: {path}: a DeepSpeed config is a JSON object")
    return loaded, path


def check_deepspeed(value) -> None:
    """A DeepSpeed config the fine-tunes can finish with. Under ZeRO-3 each
    process holds a partition of every weight and the tuned model is
    consolidated on rank 0 to be saved and evaluated; DeepSpeed does that
    only with ``zero_optimization.stage3_gather_16bit_weights_on_model_save:
    true``, and without it accelerate raises when the first run has trained."""
    ds, where = deepspeed_config(value)
    zero = ds.get("zero_optimization") or {}
    if zero.get("stage") == 3 and zero.get("stage3_gather_16bit_weights_on_model_save") is not True:
        raise ValueError(
            f"{where}: zero_optimization.stage 3 needs zero_optimization.stage3_gather_16bit_weights_on_model_save: "
            "true: rank 0 saves and evaluates each tuned model whole, and ZeRO-3 gathers its partitions only then "
            "(without it every fine-tune fails once it has trained)"
        )
