"""Supervised fine-tuning with the transformers Trainer: ``finetune``
loads any causal LM with ``from_pretrained(base)`` and trains it on
instruction records with the loss on response tokens only (see
:mod:`ila.lm.data`). Deterministic on CPU: the same inputs and seed give
bit-identical weights. Checkpoints resume only the run that wrote them
(a fingerprint beside them); the tuned model is saved atomically
(:func:`ila.lm.trainer.save_atomic`; under FSDP the shards are
gathered first, :func:`ila.lm.trainer.tuned_model`).

Under torchrun (WORLD_SIZE > 1) the Trainer runs data-parallel; on CPU the
gloo backend is used. Only rank 0 writes the output folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Sequence

from ila.io import sha256_ids

from .data import PaddingCollator, pad_token_id, tokenize_records
from .model import load_causal_lm
from .prompt import PromptTemplate
from .trainer import (
    MANAGED_TRAINER_ARGS,
    SCHEDULERS,
    ListDataset,
    check_device,
    check_positive,
    loss_curve,
    per_device_batch,
    save_atomic,
    training_args,
    tuned_model,
    world_size,
)

log = logging.getLogger(__name__)

_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
FINGERPRINT_FILE = "ila_run_fingerprint.json"


@dataclass(frozen=True)
class FinetuneSettings:
    """Supervised fine-tuning on instruction records.

    epochs: passes over the records (ignored when max_steps > 0); max_steps:
    stop after this many optimiser steps when > 0; lr: peak learning rate
    (3e-3 suits the 0.5M embedded model: on a toy task set it beat 1e-3 and
    3e-4 and matched 6e-3; real models want ~1e-5 to 2e-5);
    batch_size: examples per optimiser micro-step over all processes (each
    of N torchrun processes takes batch_size / N, so results depend on the
    config, not on the process count); gradient_accumulation_steps:
    micro-batches per optimiser step; max_length: sequence cut (see
    ila.lm.data); warmup_ratio: share of the steps spent on linear warm-up;
    weight_decay: AdamW decay; lr_scheduler: "cosine" or "linear" (or
    constant); bf16: mixed precision on GPUs; logging_steps: interval of the
    logged loss curve; group_by_length: batches of similar length (see
    :mod:`ila.lm.sampling`; ~35% less padding on the toy pool), else a
    random order; trainer_args: further TrainingArguments passed through
    as they are, for large models (e.g. ``{"fsdp": True, "fsdp_config":
    {...}}`` or ``{"deepspeed": "ds_config.json"}``, which needs the
    deepspeed package); keys the recipe sets itself are refused.
    """

    epochs: float = 2.0
    max_steps: int = -1
    lr: float = 3e-3
    batch_size: int = 16
    gradient_accumulation_steps: int = 1
    max_length: int = 256
    warmup_ratio: float = 0.03
    weight_decay: float = 0.0
    lr_scheduler: str = "cosine"
    bf16: bool = False
    logging_steps: int = 10
    group_by_length: bool = True
    trainer_args: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        clash = sorted(set(self.trainer_args) & MANAGED_TRAINER_ARGS)
        if clash:
            raise ValueError(f"FinetuneSettings.trainer_args may not set {clash}: they are set from the fine-tuning recipe")
        check_positive("FinetuneSettings", epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                        gradient_accumulation_steps=self.gradient_accumulation_steps,
                        max_length=self.max_length, logging_steps=self.logging_steps)
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"FinetuneSettings.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.lr_scheduler not in SCHEDULERS:
            raise ValueError(f"FinetuneSettings.lr_scheduler must be one of {SCHEDULERS}, got {self.lr_scheduler!r}")


def latest_checkpoint(checkpoint_dir: str | os.PathLike | None) -> str | None:
    """The newest complete Trainer checkpoint (``checkpoint-<step>`` with a
    ``trainer_state.json``; the Trainer writes checkpoints in place, so a
    folder without it may be half written) in ``checkpoint_dir``, or None."""
    if not checkpoint_dir or not os.path.isdir(checkpoint_dir):
        return None
    found = []
    for name in os.listdir(checkpoint_dir):
        m = _CHECKPOINT_RE.match(name)
        path = os.path.join(checkpoint_dir, name)
        if m and os.path.isfile(os.path.join(path, "trainer_state.json")):
            found.append((int(m.group(1)), path))
    return max(found)[1] if found else None


def _fingerprint(base: str, ids: list[str], settings: FinetuneSettings, template: PromptTemplate, seed: int) -> dict:
    h = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()
    return {
        "base": str(base),
        "ids_sha256": h,
        "settings": asdict(settings),
        "template": asdict(template),
        "seed": int(seed),
        "world_size": world_size(),
    }


def _check_resume_fingerprint(checkpoint_dir: str, fp: dict) -> None:
    """Refuse to resume checkpoints written by a different run."""
    path = os.path.join(checkpoint_dir, FINGERPRINT_FILE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            old = json.load(fh)
        if old != fp:
            diff = sorted(k for k in set(old) | set(fp) if old.get(k) != fp.get(k))
            raise ValueError(
                f"{path}: the checkpoints in {checkpoint_dir} were written by a different run "
                f"(differs in {diff}); remove the folder or use another checkpoint_dir"
            )
    elif world_size() == 1 or int(os.environ.get("RANK", "0")) == 0:
        os.makedirs(checkpoint_dir, exist_ok=True)
        from ila.io import write_json

        write_json(path, fp)


def finetune_model(
    base: str,
    records: Sequence[dict],
    settings: FinetuneSettings = FinetuneSettings(),
    template: PromptTemplate = PromptTemplate(),
    seed: int = 0,
    threads: int = 1,
    device: str = "cpu",
    checkpoint_dir: str | None = None,
    checkpoint_steps: int = 0,
    checkpoint_keep: int | None = 2,
    callbacks: Sequence | None = None,
    model=None,
    tokenizer=None,
):
    """Fine-tune ``base`` (loaded with ``from_pretrained``) on ``records``
    and return ``(trainer, tokenizer, metrics)`` without saving the model;
    ``trainer.model`` is the tuned model (under FSDP or DeepSpeed only a
    shard of it: take it through :func:`ila.lm.trainer.tuned_model`).
    ``checkpoint_keep``: newest checkpoints kept (None: all); ``callbacks``:
    extra TrainerCallbacks. ``model`` / ``tokenizer``: the base already
    loaded from ``base`` (a job that trains several runs loads it once; the
    model is trained in place, so pass a fresh copy per run). See
    :func:`finetune`."""
    from ila.runtime import torch_threads

    torch_threads(threads)
    check_device(device)
    if device == "cpu" and settings.trainer_args.get("fsdp"):
        raise ValueError(
            "finetune.trainer_args.fsdp needs GPUs: accelerate turns FSDP on only for accelerator devices and "
            "drops it on CPU without a word (device: cpu would train plain DDP); on CPU use "
            "{activation_checkpointing: true} instead (configs/rehearsal.yaml)"
        )
    import torch
    from transformers import AutoTokenizer, Trainer

    t0 = time.perf_counter()
    if checkpoint_steps < 0:
        raise ValueError(f"checkpoint_steps must be >= 0, got {checkpoint_steps}")
    if checkpoint_steps > 0 and not checkpoint_dir:
        raise ValueError("checkpoint_steps > 0 needs a checkpoint_dir")
    if tokenizer is None:
        tokenizer = AutoTokenizer.from_pretrained(base)
    tokset = tokenize_records(records, tokenizer, template, settings.max_length, condition_on_prompt=True)
    usable = tokset.usable
    if not usable:
        raise ValueError(f"no trainable record among {len(records)} (every one has T == 0)")
    dataset = ListDataset([{"input_ids": e.input_ids, "labels": e.labels} for e in usable])
    if model is None:
        model = load_causal_lm(base)

    resume = None
    scratch = None
    if checkpoint_steps > 0:
        _check_resume_fingerprint(checkpoint_dir, _fingerprint(base, [e.id for e in usable], settings, template, seed))
        resume = latest_checkpoint(checkpoint_dir)
        output_dir = checkpoint_dir
    else:
        scratch = tempfile.TemporaryDirectory(prefix="ila-finetune-")
        output_dir = scratch.name
    try:
        args = training_args(
            output_dir,
            seed=seed,
            lr=settings.lr,
            batch_size=per_device_batch(settings.batch_size),
            weight_decay=settings.weight_decay,
            lr_scheduler=settings.lr_scheduler,
            warmup_steps=float(settings.warmup_ratio),
            logging_steps=settings.logging_steps,
            device=device,
            max_steps=settings.max_steps,
            epochs=settings.epochs,
            gradient_accumulation_steps=settings.gradient_accumulation_steps,
            bf16=settings.bf16,
            checkpoint_steps=checkpoint_steps,
            checkpoint_keep=checkpoint_keep,
            extra=settings.trainer_args,
        )
        if settings.group_by_length:
            from .sampling import recipe_trainer_class

            trainer_class = recipe_trainer_class()
        else:
            trainer_class = Trainer
        trainer = trainer_class(
            model=model,
            args=args,
            train_dataset=dataset,
            data_collator=PaddingCollator(pad_token_id(tokenizer)),
            callbacks=list(callbacks) if callbacks else None,
        )
        if resume:
            log.info("resuming from %s", resume)
        log.info("process %s of %d: training on %d torch thread(s)", os.environ.get("RANK", "0"), world_size(),
                 torch.get_num_threads())
        result = trainer.train(resume_from_checkpoint=resume)
    finally:
        if scratch is not None:
            scratch.cleanup()
    curve = loss_curve(trainer.state.log_history)
    metrics = {
        "train_loss": float(result.training_loss),
        "first_loss": curve[0][1] if curve else float("nan"),
        "last_loss": curve[-1][1] if curve else float("nan"),
        "loss_curve": curve,
        "steps": int(trainer.state.global_step),
        "epochs": float(trainer.state.epoch or 0.0),
        "examples": len(usable),
        "train_ids_sha256": sha256_ids(sorted(e.id for e in usable)),
        "processes": world_size(),
        "records": len(records),
        "tokens": int(sum(len(e.input_ids) for e in usable)),
        "response_tokens": int(sum(e.T for e in usable)),
        "untrainable_ids": list(tokset.empty_ids),
        "truncated_ids": list(tokset.truncated_ids),
        "resumed_from": resume,
        "seconds": time.perf_counter() - t0,
    }
    return trainer, tokenizer, metrics


def finetune(
    base: str,
    records: Sequence[dict],
    settings: FinetuneSettings = FinetuneSettings(),
    template: PromptTemplate = PromptTemplate(),
    seed: int = 0,
    out_dir: str | None = None,
    threads: int = 1,
    device: str = "cpu",
    save_model: bool = True,
    checkpoint_dir: str | None = None,
    checkpoint_steps: int = 0,
    dev_records: Sequence[dict] | None = None,
    dev_clip: float | None = None,
    dev_batch_size: int = 64,
) -> dict:
    """Supervised fine-tuning of ``base`` on instruction ``records`` with
    the transformers Trainer, loss on response tokens (and eos) only.

    The model and tokenizer are loaded with ``from_pretrained(base)``;
    records are tokenised under the policy of :mod:`ila.lm.data`; records
    with T == 0 cannot be trained on and are returned in
    ``untrainable_ids``. When ``save_model`` and ``out_dir`` is given, the
    tuned model and tokenizer are saved there (atomically). With
    ``checkpoint_steps > 0`` the Trainer saves a checkpoint every that many
    steps in ``checkpoint_dir`` and a rerun resumes from the newest
    complete one, ending with the same weights as an uninterrupted run.
    With ``dev_records`` the tuned model's :func:`ila.lm.scoring.dev_loss`
    is added as ``metrics["dev"]`` (so a run need not save its model).

    Returns metrics: train_loss (mean over this process's steps; under
    torchrun rank 0's), first_loss, last_loss,
    loss_curve, steps, epochs, examples (trained), records, tokens and
    response_tokens (one pass over the trained examples), untrainable_ids,
    truncated_ids, resumed_from, seconds.
    """
    t0 = time.perf_counter()
    trainer, tokenizer, metrics = finetune_model(
        base, records, settings, template, seed, threads, device, checkpoint_dir, checkpoint_steps
    )
    model = tuned_model(trainer, lambda: load_causal_lm(base))
    if trainer.is_world_process_zero():
        if save_model and out_dir is not None:
            save_atomic(model, tokenizer, out_dir)
        if dev_records is not None:
            from .scoring import dev_loss

            metrics["dev"] = dev_loss(
                model, tokenizer, dev_records, template, settings.max_length, dev_batch_size, device, dev_clip
            )
    trainer.accelerator.wait_for_everyone()
    metrics["seconds"] = time.perf_counter() - t0
    return metrics
