"""What a job of fine-tunes is: a group of runs sharing one base model, one
recipe, one dev set and one task set.

:func:`group_runs` cuts the runs of a study into groups of at most
``runs_per_job``, never mixing two families (a family is, e.g., a selection
method), so that a change to one selection reruns its own group only.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Sequence

from ila.lm.prompt import PromptTemplate
from ila.lm.train import FinetuneSettings


@dataclass(frozen=True)
class RunSpec:
    """One fine-tune of a group.

    name: the run's name (unique in its group; names its staging folder);
    ids: file of the training ids, one per line; seed: training seed;
    metrics: the run's metrics JSON (an output); model_dir: where the tuned
    model is saved (an output), or None; generations: the task answers JSONL
    (an output) when the group has task problems; mc_scores: {benchmark:
    its per-item multiple-choice scores JSONL (an output)}; staging: a folder outside the
    job's outputs where the run's checkpoints and finished results wait
    until the whole group is done, so a killed job keeps them; fields:
    extra entries of the metrics file (e.g. subset, method, key); timing:
    where the run's wall-clock seconds go (an output; :mod:`ila.timing`),
    so the metrics file has the same bytes on every run; None drops them."""

    name: str
    ids: str
    seed: int
    metrics: str
    staging: str
    model_dir: str | None = None
    generations: str | None = None
    mc_scores: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)
    timing: str | None = None


@dataclass(frozen=True)
class GroupSpec:
    """Everything the runs of a group share.

    kind: "warmup" (train and save the model; metrics are the training
    metrics) or "study" (train, then score the evaluation sets and the
    task benchmark); base: the base model's name or folder; pool: the pool
    table (training and dev rows are joined by id); heldout: the held-out
    table (test rows), or None; eval_sets: {name: ids file} of the sets
    whose response loss each run reports as ``<name>_loss`` and friends
    (regression: dev; scaling: test); settings, template: the recipe;
    clip: loss clip of ``<name>_loss_clipped``; eval_batch_size: batch of
    every loss evaluation; mc_sets: {name: multiple-choice benchmark JSONL}
    (:mod:`ila.mc`; the toy pool has "mc", whole responses, and
    "mc_answer", final answer lines after the gold steps); problems: task problems JSONL for exact match
    by greedy generation (a diagnostic), or None; max_new_tokens and
    generate_batch_size: that generation."""

    kind: str
    base: str
    pool: str
    settings: FinetuneSettings
    template: PromptTemplate
    runs: tuple[RunSpec, ...]
    device: str = "cpu"
    heldout: str | None = None
    eval_sets: dict = field(default_factory=dict)
    clip: float | None = None
    eval_batch_size: int = 16
    mc_sets: dict = field(default_factory=dict)
    problems: str | None = None
    max_new_tokens: int = 64
    generate_batch_size: int = 32

    def __post_init__(self) -> None:
        if self.kind not in ("warmup", "study"):
            raise ValueError(f"GroupSpec.kind must be 'warmup' or 'study', got {self.kind!r}")
        if not self.runs:
            raise ValueError("a group needs at least one run")
        names = [r.name for r in self.runs]
        if len(set(names)) != len(names):
            raise ValueError(f"run names repeat in a group: {names}")
        if self.kind == "study" and not self.eval_sets:
            raise ValueError("a study group needs at least one evaluation set")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "GroupSpec":
        d = json.loads(text)
        d["settings"] = FinetuneSettings(**d["settings"])
        d["template"] = PromptTemplate(**d["template"])
        d["runs"] = tuple(RunSpec(**r) for r in d["runs"])
        return cls(**d)


def group_runs(runs: Sequence[tuple[str, str]], runs_per_job: int, prefix: str = "g") -> dict[str, list[str]]:
    """Cut ``runs`` ((family, name) pairs, in a fixed order) into groups of
    at most ``runs_per_job`` names, consecutive within one family, never
    across families. Returns {group name: [run names]} with group names
    ``<prefix><k>`` numbered in order; the same inputs give the same groups."""
    if runs_per_job < 1:
        raise ValueError(f"finetune.runs_per_job must be at least 1, got {runs_per_job}")
    names = [n for _, n in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"run names repeat: {sorted(n for n in set(names) if names.count(n) > 1)[:3]}")
    chunks: list[list[str]] = []
    last_family = None
    for family, name in runs:
        if family != last_family or len(chunks[-1]) >= runs_per_job:
            chunks.append([])
            last_family = family
        chunks[-1].append(name)
    digits = max(2, len(str(len(chunks) - 1)))
    return {f"{prefix}{k:0{digits}d}": chunk for k, chunk in enumerate(chunks)}
