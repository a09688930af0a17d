"""Fine-tune-and-evaluate runs shared by the regression and scaling studies:
train the base model on a set of ids with the common recipe, then measure
its dev loss. Only metrics leave the run unless the model is kept."""

from __future__ import annotations

import logging
import os
import shutil
from typing import Sequence

import pandas as pd

from . import records as rec
from .lm.prompt import PromptTemplate
from .lm.train import FinetuneSettings, finetune

log = logging.getLogger(__name__)

#: recipe keys of the config's `finetune` section that are not Trainer settings
_NOT_SETTINGS = {"threads", "processes", "checkpoint_steps"}


def settings_from_config(finetune_cfg: dict, max_length: int) -> FinetuneSettings:
    return FinetuneSettings(max_length=max_length, **{k: v for k, v in finetune_cfg.items() if k not in _NOT_SETTINGS})


def train_and_evaluate(
    base: str,
    pool: pd.DataFrame,
    train_ids: Sequence[str],
    dev_ids: Sequence[str],
    settings: FinetuneSettings,
    template: PromptTemplate,
    seed: int,
    threads: int,
    device: str = "cpu",
    clip: float | None = None,
    dev_batch_size: int = 64,
    out_dir: str | None = None,
    processes: int = 1,
    checkpoint_dir: str | None = None,
    checkpoint_steps: int = 0,
) -> dict:
    """Fine-tune `base` on `train_ids` (joined by id with the pool) and
    return training metrics plus dev losses:

    - dev_loss: total response cross-entropy / total response tokens,
    - dev_loss_domain_mean: mean of the per-domain token means,
    - dev_loss_clipped: mean per-example loss per token, clipped at `clip`,
    - dev_per_domain: {domain: token mean}.

    With `processes` > 1 the run is launched under torchrun (DDP; the
    global batch stays `settings.batch_size`). With `checkpoint_steps` > 0
    the Trainer checkpoints into `checkpoint_dir`, a rerun after a kill
    resumes from the newest complete checkpoint (ending with the same
    weights as an uninterrupted run), and the folder is removed once the
    run has finished.
    """
    if processes > 1 and "WORLD_SIZE" not in os.environ:
        from .distributed import launch

        if checkpoint_steps > 0:
            raise ValueError("checkpointed resume is supported for single-process fine-tuning only")
        return launch(base, pool, train_ids, dev_ids, settings, template, seed, processes, threads, device, clip, dev_batch_size, out_dir)
    train_rows = rec.to_records(rec.rows_by_id(pool, train_ids, "pool"))
    dev_rows = rec.to_records(rec.rows_by_id(pool, dev_ids, "pool"))
    metrics = finetune(
        base,
        train_rows,
        settings,
        template,
        seed=seed,
        out_dir=out_dir,
        threads=threads,
        device=device,
        save_model=out_dir is not None,
        dev_records=dev_rows,
        dev_clip=clip,
        dev_batch_size=dev_batch_size,
        checkpoint_dir=checkpoint_dir if checkpoint_steps > 0 else None,
        checkpoint_steps=checkpoint_steps,
    )
    resumed = metrics.get("resumed_from")
    if "dev" not in metrics:  # a non-zero rank under torchrun
        return {}
    dev = metrics.pop("dev")
    metrics.pop("loss_curve", None)
    out = {
        "seed": seed,
        "train_examples": metrics["examples"],
        "train_ids_sha256": metrics["train_ids_sha256"],
        "processes": metrics["processes"],
        "train_tokens": metrics["tokens"],
        "train_response_tokens": metrics["response_tokens"],
        "train_loss": metrics["train_loss"],
        "steps": metrics["steps"],
        "untrainable": len(metrics["untrainable_ids"]),
        "truncated": len(metrics["truncated_ids"]),
        "train_seconds": metrics["seconds"],
        "dev_loss": dev["token_mean"],
        "dev_loss_domain_mean": dev["domain_mean"],
        "dev_loss_example_mean": dev["example_mean"],
        "dev_per_domain": dev["per_domain"],
        "dev_examples": dev["n_examples"],
        "dev_unscorable": dev["n_unscorable"],
        "resumed": resumed is not None,
    }
    if checkpoint_steps > 0 and checkpoint_dir and os.path.isdir(checkpoint_dir):
        shutil.rmtree(checkpoint_dir)
    if clip is not None:
        out["dev_loss_clipped"] = dev["example_mean_clipped"]
        out["clip"] = clip
    log.info("trained on %d examples: dev loss %.4f (clipped %s)", out["train_examples"], out["dev_loss"], out.get("dev_loss_clipped"))
    return out
