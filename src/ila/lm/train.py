"""Pretraining of the tiny base model and supervised fine-tuning, both with
the transformers Trainer.

``pretrain`` packs a generic corpus into fixed-length blocks and trains a
model built from a :class:`~ila.lm.model.ModelShape` for a fixed number of
steps. ``finetune`` loads any causal LM with ``from_pretrained(base)`` and
trains it on instruction records with the loss on response tokens only
(see :mod:`ila.lm.data`). Both are deterministic on CPU: the same inputs
and seed give bit-identical weights. Both save atomically: the model and
tokenizer are written to a temporary folder beside ``out_dir`` and renamed
into place, so a killed job never leaves a folder that looks complete.

Under torchrun (WORLD_SIZE > 1) the Trainer runs data-parallel; on CPU the
gloo backend is used. Only rank 0 writes the output folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time

from ila.io import sha256_ids
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from .data import PaddingCollator, pad_token_id, tokenize_records
from .model import ModelShape, build_model, n_parameters
from .prompt import PromptTemplate

log = logging.getLogger("ila.lm.train")

_SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup")
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
FINGERPRINT_FILE = "ila_run_fingerprint.json"


@dataclass(frozen=True)
class PretrainSettings:
    """Pretraining of the tiny base model on packed blocks of a corpus.

    steps: optimiser steps; batch_size: blocks per step; seq_len: tokens
    per block; lr: peak learning rate (3e-3 suits the 0.5M default; a much
    smaller model-scale rate barely moves it in 500 steps); warmup_steps:
    linear warm-up from 0; weight_decay: AdamW decay; lr_scheduler: decay
    after warm-up; logging_steps: interval of the logged loss curve.
    """

    steps: int = 500
    batch_size: int = 16
    seq_len: int = 128
    lr: float = 3e-3
    warmup_steps: int = 30
    weight_decay: float = 0.01
    lr_scheduler: str = "cosine"
    logging_steps: int = 10

    def __post_init__(self) -> None:
        _check_positive("PretrainSettings", steps=self.steps, batch_size=self.batch_size,
                        seq_len=self.seq_len, lr=self.lr, logging_steps=self.logging_steps)
        if self.lr_scheduler not in _SCHEDULERS:
            raise ValueError(f"PretrainSettings.lr_scheduler must be one of {_SCHEDULERS}, got {self.lr_scheduler!r}")


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
        _check_positive("FinetuneSettings", epochs=self.epochs, lr=self.lr, batch_size=self.batch_size,
                        gradient_accumulation_steps=self.gradient_accumulation_steps,
                        max_length=self.max_length, logging_steps=self.logging_steps)
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"FinetuneSettings.warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.lr_scheduler not in _SCHEDULERS:
            raise ValueError(f"FinetuneSettings.lr_scheduler must be one of {_SCHEDULERS}, got {self.lr_scheduler!r}")


def _check_positive(owner: str, **values) -> None:
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


def _check_device(device: str) -> None:
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("device='cuda' was asked for but torch sees no CUDA device")


def _training_args(
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


def _loss_curve(log_history: list[dict]) -> list[tuple[int, float]]:
    return [(int(h["step"]), float(h["loss"])) for h in log_history if "loss" in h and "step" in h]


def _save_atomic(trainer, tokenizer, out_dir: str | os.PathLike) -> None:
    """Save model and tokenizer to a temporary folder beside ``out_dir``,
    then swap it into place (rank 0 only)."""
    out = Path(out_dir)
    if trainer.is_world_process_zero():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
        try:
            trainer.model.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))
            if out.exists():
                shutil.rmtree(out)
            os.rename(tmp, out)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
    trainer.accelerator.wait_for_everyone()


# --------------------------------------------------------------------------
# pretraining


def pack_corpus(tokenizer, texts: Sequence[str], seq_len: int) -> tuple[list[list[int]], dict]:
    """Tokenise each document as ``[bos] text eos`` (bos only if the
    tokenizer has one), concatenate them in order and cut the stream into
    blocks of ``seq_len`` tokens. The final partial block is not used; its
    size is reported as ``tail_tokens_unused``."""
    bos = tokenizer.bos_token_id
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer defines no eos token")
    stream: list[int] = []
    for text in texts:
        if bos is not None:
            stream.append(bos)
        stream.extend(tokenizer(text, add_special_tokens=False)["input_ids"])
        stream.append(eos)
    n_blocks = len(stream) // seq_len
    if n_blocks == 0:
        raise ValueError(f"corpus has {len(stream)} tokens, fewer than one block of {seq_len}")
    blocks = [stream[k * seq_len : (k + 1) * seq_len] for k in range(n_blocks)]
    info = {
        "documents": len(texts),
        "corpus_tokens": len(stream),
        "blocks": n_blocks,
        "tail_tokens_unused": len(stream) - n_blocks * seq_len,
    }
    return blocks, info


def pretrain(
    tokenizer_dir: str,
    texts: Sequence[str],
    shape: ModelShape = ModelShape(),
    settings: PretrainSettings = PretrainSettings(),
    seed: int = 0,
    out_dir: str | os.PathLike | None = None,
    threads: int = 1,
    device: str = "cpu",
) -> dict:
    """Build a model of ``shape`` (:func:`~ila.lm.model.build_model`, any of
    its architectures) for the tokenizer in ``tokenizer_dir``, train it
    on ``texts`` packed into ``settings.seq_len`` blocks for
    ``settings.steps`` steps (the blocks are reshuffled each epoch), and
    save model and tokenizer to ``out_dir`` (required).

    Returns metrics: first_loss (step 1), last_loss (mean over the last
    logging window), train_loss (mean over all steps), loss_curve
    [(step, loss)], steps, tokens (trained on: steps x batch x seq_len),
    corpus_tokens, blocks, tail_tokens_unused, epochs, n_parameters, seconds.
    """
    from ila.runtime import torch_threads

    if out_dir is None:
        raise ValueError("pretrain needs an out_dir to save the base model to")
    torch_threads(threads)
    _check_device(device)
    from transformers import AutoTokenizer, Trainer

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    if shape.max_position < settings.seq_len:
        raise ValueError(f"seq_len {settings.seq_len} exceeds the model's max_position {shape.max_position}")
    blocks, info = pack_corpus(tokenizer, texts, settings.seq_len)
    dataset = ListDataset([{"input_ids": b, "labels": list(b)} for b in blocks])
    model = build_model(tokenizer, shape, seed)
    with tempfile.TemporaryDirectory(prefix="ila-pretrain-") as scratch:
        args = _training_args(
            scratch,
            seed=seed,
            lr=settings.lr,
            batch_size=settings.batch_size,
            weight_decay=settings.weight_decay,
            lr_scheduler=settings.lr_scheduler,
            warmup_steps=settings.warmup_steps,
            logging_steps=settings.logging_steps,
            device=device,
            max_steps=settings.steps,
        )
        trainer = Trainer(
            model=model, args=args, train_dataset=dataset, data_collator=PaddingCollator(pad_token_id(tokenizer))
        )
        result = trainer.train()
        _save_atomic(trainer, tokenizer, out_dir)
    curve = _loss_curve(trainer.state.log_history)
    steps = int(trainer.state.global_step)
    return {
        "first_loss": curve[0][1] if curve else float("nan"),
        "last_loss": curve[-1][1] if curve else float("nan"),
        "train_loss": float(result.training_loss),
        "loss_curve": curve,
        "steps": steps,
        "tokens": steps * settings.batch_size * settings.seq_len * world_size(),
        **info,
        "epochs": float(trainer.state.epoch or 0.0),
        "n_parameters": n_parameters(model),
        "seconds": time.perf_counter() - t0,
    }


# --------------------------------------------------------------------------
# fine-tuning


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
    ``trainer.model`` is the tuned model. ``checkpoint_keep``: newest
    checkpoints kept (None: all); ``callbacks``: extra TrainerCallbacks.
    ``model`` / ``tokenizer``: the base already loaded from ``base`` (a job
    that trains several runs loads it once; the model is trained in place,
    so pass a fresh copy per run). See :func:`finetune`."""
    from ila.runtime import torch_threads

    torch_threads(threads)
    _check_device(device)
    if device == "cpu" and settings.trainer_args.get("fsdp"):
        raise ValueError(
            "finetune.trainer_args.fsdp needs GPUs: accelerate turns FSDP on only for accelerator devices and "
            "drops it on CPU without a word (device: cpu would train plain DDP); on CPU use "
            "{activation_checkpointing: true} instead (configs/rehearsal.yaml)"
        )
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer

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
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)

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
        args = _training_args(
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
        result = trainer.train(resume_from_checkpoint=resume)
    finally:
        if scratch is not None:
            scratch.cleanup()
    curve = _loss_curve(trainer.state.log_history)
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
    if save_model and out_dir is not None:
        _save_atomic(trainer, tokenizer, out_dir)
    if dev_records is not None and trainer.is_world_process_zero():
        from .scoring import dev_loss

        metrics["dev"] = dev_loss(
            trainer.model, tokenizer, dev_records, template, settings.max_length, dev_batch_size, device, dev_clip
        )
    metrics["seconds"] = time.perf_counter() - t0
    return metrics
