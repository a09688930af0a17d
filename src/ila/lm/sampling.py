"""Length-grouped training order for the fine-tuning recipe.

Randomly ordered batches of instruction data are padded to their longest
member; on the toy pool that wastes about a third of every step. The
Trainer's ``group_by_length`` idea (shuffle, cut into mega-batches of a few
batches, sort each mega-batch by length) removes most of it. Two things
differ from the Trainer's own sampler so that runs stay reproducible:

- the order is cut for the *global* batch (per-process batch x processes x
  accumulation), so a torchrun launch trains on the same batches as one
  process (the data-parallel shard splits each global batch);
- each epoch's order comes from ``(seed, epoch)`` alone, not from the
  global torch RNG, so a run resumed from a checkpoint sees the same
  batches as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import torch
from torch.utils.data import Sampler
from transformers.trainer_pt_utils import get_length_grouped_indices


def epoch_seed(seed: int, epoch: int) -> int:
    """A 63-bit seed for one epoch's order, derived from (seed, epoch)."""
    digest = hashlib.sha256(f"length-grouped:{int(seed)}:{int(epoch)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


class LengthGroupedEpochSampler(Sampler[int]):
    """Indices in length-grouped order: every run of ``batch_size``
    consecutive indices holds examples of similar length, the longest
    example comes first, and the order is reshuffled every epoch from
    ``(seed, epoch)``. The Trainer (through accelerate) calls ``set_epoch``
    before each epoch."""

    def __init__(self, lengths: Sequence[int], batch_size: int, seed: int):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.lengths = [int(n) for n in lengths]
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        if not self.lengths:
            return iter([])
        generator = torch.Generator()
        generator.manual_seed(epoch_seed(self.seed, self.epoch))
        return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=generator))


def recipe_trainer_class():
    """A Trainer whose training order is :class:`LengthGroupedEpochSampler`
    over the global batch (``seed`` from the TrainingArguments)."""
    from transformers import Trainer

    class LengthGroupedTrainer(Trainer):
        def _get_train_sampler(self, train_dataset=None):
            dataset = self.train_dataset if train_dataset is None else train_dataset
            args = self.args
            global_batch = args.per_device_train_batch_size * args.world_size * args.gradient_accumulation_steps
            lengths = [len(dataset[i]["input_ids"]) for i in range(len(dataset))]
            return LengthGroupedEpochSampler(lengths, global_batch, args.seed)

    return LengthGroupedTrainer
