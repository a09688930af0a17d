"""What pretraining and fine-tuning share around the transformers Trainer:
the TrainingArguments of a recipe (transformers 5.x), the process count of
a torchrun launch, the per-process batch, the logged loss curve and the
atomic save of a model folder (written beside ``out_dir`` and renamed into
place, so a killed job never leaves a folder that looks complete).

Under torchrun (WORLD_SIZE > 1) the Trainer runs data-parallel; on CPU the
gloo backend is used. Only rank 0 writes the output folder.
"""

from __future__ import annotations

import os

from ila.io import atomic_dir

SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")


def check_positive(owner: str, **values) -> None:
    for name, v in values.items():
        if not v > 0:
            raise ValueError(f"{owner}.{name} must be positive, got {v}")


class ListDataset:
    """A map-style dataset over a list of feature dicts."""

    def __init__(self, items: list[dict]):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return self.items[i]


def world_size() -> int:
    """Number of processes of a torchrun launch (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


#: TrainingArguments the recipe sets itself; trainer_args may not override them
MANAGED_TRAINER_ARGS = frozenset({
    "output_dir", "seed", "data_seed", "learning_rate", "per_device_train_batch_size", "gradient_accumulation_steps",
    "weight_decay", "lr_scheduler_type", "warmup_steps", "max_steps", "num_train_epochs", "use_cpu", "bf16",
    "save_strategy", "save_steps", "save_total_limit", "report_to", "ddp_backend", "ddp_find_unused_parameters",
    "train_sampling_strategy",
})


def per_device_batch(batch_size: int) -> int:
    """Per-process batch for a global batch of `batch_size` examples."""
    n = world_size()
    if batch_size % n:
        raise ValueError(f"batch_size {batch_size} is not divisible by the {n} training processes")
    return batch_size // n


def check_device(device: str) -> None:
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' was asked for but torch sees no CUDA device")


def training_args(
    output_dir: str,
    *,
    seed: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    lr_scheduler: str,
    warmup_steps: float,
    logging_steps: int,
    device: str,
    max_steps: int = -1,
    epochs: float = 1.0,
    gradient_accumulation_steps: int = 1,
    bf16: bool = False,
    checkpoint_steps: int = 0,
    checkpoint_keep: int | None = None,
    extra: dict | None = None,
):
    """TrainingArguments for transformers 5.x (use_cpu, warm-up ratio as a
    float < 1 in warmup_steps, no evaluation, no reporting)."""
    from transformers import TrainingArguments

    kwargs = dict(
        output_dir=output_dir,
        seed=seed,
        data_seed=seed,
        learning_rate=lr,
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=gradient_accumulation_steps,
        weight_decay=weight_decay,
        lr_scheduler_type=lr_scheduler,
        warmup_steps=warmup_steps,
        max_steps=max_steps,
        num_train_epochs=epochs,
        logging_strategy="steps",
        logging_steps=logging_steps,
        logging_first_step=True,
        eval_strategy="no",
        report_to="none",
        disable_tqdm=False,
        use_cpu=(device == "cpu"),
        bf16=bf16,
        dataloader_drop_last=False,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    if checkpoint_steps > 0:
        kwargs.update(save_strategy="steps", save_steps=checkpoint_steps, save_total_limit=checkpoint_keep)
    else:
        kwargs.update(save_strategy="no")
    kwargs.update(extra or {})
    if world_size() > 1:
        kwargs["ddp_find_unused_parameters"] = False
        if device == "cpu":
            kwargs["ddp_backend"] = "gloo"
    return TrainingArguments(**kwargs)


def loss_curve(log_history: list[dict]) -> list[tuple[int, float]]:
    return [(int(h["step"]), float(h["loss"])) for h in log_history if "loss" in h and "step" in h]


def sharded(trainer) -> bool:
    """Whether the trainer holds the model's weights in shards across the
    processes (FSDP, DeepSpeed ZeRO-3): then no process alone can run or
    save the model. ZeRO-1 and ZeRO-2 shard only the optimizer state (and
    the gradients); every process holds the whole model."""
    if trainer.is_fsdp_enabled:
        return True
    if trainer.is_deepspeed_enabled:
        from transformers.integrations import is_deepspeed_zero3_enabled

        return is_deepspeed_zero3_enabled()
    return False


def _rank0_model(state, fresh, is_rank0: bool):
    """``fresh()`` with the gathered full ``state`` loaded strictly, on rank
    0; None on the other ranks."""
    if not is_rank0:
        return None
    model = fresh()
    model.load_state_dict(state, strict=True)
    return model


def gather_full_model(module, fresh):
    """The weights of a sharded ``module`` (FSDP 1 or 2, or a plain or DDP
    module) gathered into ``fresh()``, an untrained model of the same
    architecture, on rank 0's CPU; None on the other ranks. A collective:
    every rank calls it. The full state dict has the unwrapped model's names
    (FSDP's and activation checkpointing's wrappers removed), so it loads
    strictly."""
    import torch.distributed as dist
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    state = get_model_state_dict(module, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    return _rank0_model(state, fresh, not dist.is_initialized() or dist.get_rank() == 0)


def tuned_model(trainer, fresh=None):
    """The trained model as one plain module that rank 0 can save and
    evaluate alone; every rank must call it. Under FSDP or DeepSpeed ZeRO-3
    each process holds a shard of the weights, and a forward pass or a
    ``state_dict`` on rank 0 alone waits for the others for ever: there the
    full weights are gathered into ``fresh()`` (default: the architecture
    built from the model's config) and moved to the training device, and the
    other ranks get None. Otherwise ``trainer.model`` itself, on every rank."""
    if not sharded(trainer):
        return trainer.model
    if fresh is None:
        from transformers import AutoModelForCausalLM

        config = trainer.model.config
        fresh = lambda: AutoModelForCausalLM.from_config(config)  # noqa: E731
    if trainer.is_deepspeed_enabled:  # ZeRO-3 consolidates its partitions through accelerate
        state = trainer.accelerator.get_state_dict(trainer.model_wrapped)
        model = _rank0_model(state, fresh, trainer.is_world_process_zero())
    else:
        model = gather_full_model(trainer.model, fresh)
    trainer.accelerator.wait_for_everyone()
    return model.to(trainer.args.device) if model is not None else None


def save_tuned(trainer, tokenizer, out_dir: str | os.PathLike):
    """:func:`tuned_model`, saved atomically by rank 0 to ``out_dir``;
    every rank calls it and gets the model (None on the other ranks of a
    sharded trainer)."""
    model = tuned_model(trainer)
    if trainer.is_world_process_zero():
        save_atomic(model, tokenizer, out_dir)
    trainer.accelerator.wait_for_everyone()
    return model


def save_atomic(model, tokenizer, out_dir: str | os.PathLike) -> None:
    """Save a plain model (:func:`tuned_model`) and its tokenizer to a
    temporary folder beside ``out_dir``, then swap it into place. Rank 0
    calls it."""
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
