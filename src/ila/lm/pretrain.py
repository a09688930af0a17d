"""Pretraining of the tiny base model with the transformers Trainer:
``pretrain`` packs a generic corpus into fixed-length blocks and trains a
model built from a :class:`~ila.lm.model.ModelShape` for a fixed number of
steps. Deterministic on CPU (the same inputs and seed give bit-identical
weights); the model folder is saved atomically.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from typing import Sequence

from .data import PaddingCollator, pad_token_id
from .model import ModelShape, build_model, n_parameters
from .trainer import SCHEDULERS, ListDataset, check_device, check_positive, loss_curve, save_tuned, training_args, world_size


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
        check_positive("PretrainSettings", steps=self.steps, batch_size=self.batch_size,
                        seq_len=self.seq_len, lr=self.lr, logging_steps=self.logging_steps)
        if self.lr_scheduler not in SCHEDULERS:
            raise ValueError(f"PretrainSettings.lr_scheduler must be one of {SCHEDULERS}, got {self.lr_scheduler!r}")


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
    check_device(device)
    from transformers import AutoTokenizer, Trainer

    t0 = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    if shape.max_position < settings.seq_len:
        raise ValueError(f"seq_len {settings.seq_len} exceeds the model's max_position {shape.max_position}")
    blocks, info = pack_corpus(tokenizer, texts, settings.seq_len)
    dataset = ListDataset([{"input_ids": b, "labels": list(b)} for b in blocks])
    model = build_model(tokenizer, shape, seed)
    with tempfile.TemporaryDirectory(prefix="ila-pretrain-") as scratch:
        args = training_args(
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
        save_tuned(trainer, tokenizer, out_dir)
    curve = loss_curve(trainer.state.log_history)
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
