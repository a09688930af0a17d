"""Train and evaluate the runs of a group in one process (or as one rank of
a torchrun launch: every rank runs this same code, rank 0 evaluates and
writes).

Per group: torch and transformers are imported once, the base model and
tokenizer are read once (each run trains a fresh copy), the dev set and
the task problems are tokenised once. Per run: the Trainer fine-tunes the
copy (resuming from the run's newest checkpoint when checkpointing is on),
then the dev loss and, with a task set, the task accuracy are measured in
memory. Each run's results are staged in its ``staging`` folder and
marked finished; only when every run of the group is done are they moved
to the job's outputs. A job killed mid-way is rerun by Snakemake with its
outputs removed, but the staged runs survive: finished runs are taken as
they are (same bytes), the unfinished one resumes from its checkpoint.
"""

from __future__ import annotations

import copy
import gc
import hashlib
import logging
import os
import shutil
import time

from ila import io, timing
from ila import records as rec

from .runs import GroupSpec, RunSpec
from .settings import Execution

log = logging.getLogger("ila.finetune")

FINISHED = "finished.json"


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def group_inputs(spec: GroupSpec) -> dict:
    """The hashes of the files every run of a group reads (computed once a
    group): a part of each run's :func:`fingerprint`."""
    return {
        "kind": spec.kind,
        "base": spec.base,
        "pool_sha256": io.sha256_file(spec.pool),
        "heldout_sha256": io.sha256_file(spec.heldout) if spec.heldout else None,
        "eval_sets": {k: io.sha256_file(v) for k, v in sorted(spec.eval_sets.items())},
        "mc_sets": {k: io.sha256_file(v) for k, v in sorted(spec.mc_sets.items())},
        "problems_sha256": io.sha256_file(spec.problems) if spec.problems else None,
    }


def fingerprint(spec: GroupSpec, run: RunSpec, train_ids: list[str], inputs: dict) -> dict:
    """What a run's result depends on: a staged result is reused only when
    all of it is unchanged. ``inputs``: :func:`group_inputs` of ``spec``,
    hashed once a group."""
    body = io.dumps_json({**inputs, "recipe": _recipe_part(spec), "seed": run.seed, "ids": io.sha256_ids(train_ids),
                          "fields": run.fields, "keep_model": run.model_dir is not None})
    return {"sha256": hashlib.sha256(body.encode("utf-8")).hexdigest()}


def _recipe_part(spec: GroupSpec) -> dict:
    import dataclasses

    return {
        "settings": dataclasses.asdict(spec.settings),
        "template": dataclasses.asdict(spec.template),
        "device": spec.device,
        "clip": spec.clip,
        "eval_batch_size": spec.eval_batch_size,
        "max_new_tokens": spec.max_new_tokens,
        "generate_batch_size": spec.generate_batch_size,
    }


def _staged(run: RunSpec) -> dict[str, str]:
    """Where a run's results wait until the group is done."""
    return {
        "metrics": os.path.join(run.staging, "metrics.json"),
        "model": os.path.join(run.staging, "model"),
        "generations": os.path.join(run.staging, "generations.jsonl"),
        **{f"mc:{name}": os.path.join(run.staging, f"{name}.jsonl") for name in run.mc_scores},
        "trainer": os.path.join(run.staging, "trainer"),
        "finished": os.path.join(run.staging, FINISHED),
    }


def _finished(run: RunSpec, fp: dict) -> dict | None:
    """The staged metrics of a run an earlier, killed attempt finished, or None."""
    paths = _staged(run)
    if not os.path.isfile(paths["finished"]):
        return None
    if io.read_json(paths["finished"]) != fp:
        log.warning("%s: staged results are from different inputs; training again", run.name)
        return None
    if run.model_dir and not os.path.isdir(paths["model"]):
        return None
    if run.generations and not os.path.isfile(paths["generations"]):
        return None
    if any(not os.path.isfile(paths[f"mc:{name}"]) for name in run.mc_scores):
        return None
    log.info("%s: finished by an earlier attempt; kept as it is", run.name)
    return io.read_json(paths["metrics"])


def _train_metrics(train: dict, seed: int) -> dict:
    """A study run's training facts. train_loss is the Trainer's mean
    training loss: after a resume from a checkpoint, the mean over the
    resumed steps only (every other metric equals the uninterrupted run's)."""
    return {
        "seed": seed,
        "train_examples": train["examples"],
        "train_ids_sha256": train["train_ids_sha256"],
        "processes": train["processes"],
        "train_tokens": train["tokens"],
        "train_response_tokens": train["response_tokens"],
        "train_loss": train["train_loss"],
        "steps": train["steps"],
        "untrainable": len(train["untrainable_ids"]),
        "truncated": len(train["truncated_ids"]),
        "train_seconds": train["seconds"],
        "resumed": train["resumed_from"] is not None,
    }


def _loss_metrics(name: str, losses: dict, clip: float | None) -> dict:
    """One evaluation set's response losses as ``<name>_loss`` (token mean)
    and friends (see :func:`ila.lm.scoring.summarize_dev_losses`)."""
    out = {
        f"{name}_loss": losses["token_mean"],
        f"{name}_loss_domain_mean": losses["domain_mean"],
        f"{name}_loss_example_mean": losses["example_mean"],
        f"{name}_per_domain": losses["per_domain"],
        f"{name}_examples": losses["n_examples"],
        f"{name}_unscorable": losses["n_unscorable"],
    }
    if clip is not None:
        out[f"{name}_loss_clipped"] = losses["example_mean_clipped"]
        out["clip"] = clip
    return out


class _Shared:
    """What the runs of a group read once: tokenizer, base model, pool,
    dev set (tokenised) and task problems."""

    def __init__(self, spec: GroupSpec):
        from transformers import AutoTokenizer

        from ila.lm.data import tokenize_records
        from ila.lm.model import load_causal_lm

        t0 = time.perf_counter()
        self.tokenizer = AutoTokenizer.from_pretrained(spec.base)
        self.model = load_causal_lm(spec.base)
        self.pool = io.read_parquet(spec.pool)
        rows = self.pool
        if spec.heldout:
            import pandas as pd

            rows = pd.concat([self.pool, io.read_parquet(spec.heldout)], ignore_index=True)
        self.evals = {}
        for name, path in sorted(spec.eval_sets.items()):
            table = rec.rows_by_id(rows, io.read_ids(path), f"pool or held-out rows ({name})")
            if name == "benchmark" and "source" in table:  # the held-out benchmarks: one loss per benchmark
                table = table.assign(domain=table["source"])
            records = rec.to_records(table)
            tokens = tokenize_records(records, self.tokenizer, spec.template, spec.settings.max_length,
                                      condition_on_prompt=True)
            self.evals[name] = (records, tokens)
        self.mc_sets = {}
        if spec.mc_sets:
            from ila.mc import read_items

            self.mc_sets = {name: read_items(path) for name, path in sorted(spec.mc_sets.items())}
        self.problems = io.read_jsonl(spec.problems) if spec.problems else None
        self.inputs = group_inputs(spec)
        self.seconds = time.perf_counter() - t0


def _train(spec: GroupSpec, run: RunSpec, shared: _Shared, train_rows: list[dict], execution: Execution):
    from ila.lm.train import finetune_model

    paths = _staged(run)
    return finetune_model(
        spec.base,
        train_rows,
        spec.settings,
        spec.template,
        seed=run.seed,
        threads=execution.process_threads(),
        device=spec.device,
        checkpoint_dir=paths["trainer"] if execution.checkpoint_steps > 0 else None,
        checkpoint_steps=execution.checkpoint_steps,
        model=copy.deepcopy(shared.model),
        tokenizer=shared.tokenizer,
    )


def _evaluate(spec: GroupSpec, run: RunSpec, shared: _Shared, model, train: dict, train_ids: list[str]) -> dict:
    """Losses on the evaluation sets and the task benchmark of the tuned
    model in memory (rank 0; a plain module, see ila.lm.trainer.tuned_model)."""
    from ila.lm.scoring import dev_loss

    t_eval = time.perf_counter()
    metrics = _train_metrics(train, run.seed)
    for name, (records, tokens) in shared.evals.items():
        losses = dev_loss(model, shared.tokenizer, records, spec.template, spec.settings.max_length,
                          spec.eval_batch_size, spec.device, spec.clip, tokenized=tokens)
        metrics.update(_loss_metrics(name, losses, spec.clip))
    for name, items in shared.mc_sets.items():
        from ila import mc

        frame = mc.score_items(model, shared.tokenizer, items, spec.eval_batch_size, spec.device,
                               add_bos_token=shared.tokenizer.bos_token_id is not None,
                               max_length=spec.settings.max_length)
        metrics[name] = mc.summarize(frame)
        if name in run.mc_scores:
            io.write_jsonl(_staged(run)[f"mc:{name}"], frame.to_dict("records"))
    metrics.update(run.fields)
    metrics["ids_sha256"] = io.sha256_ids(train_ids)  # the selection as given, before untrainable rows
    if shared.problems is not None:
        from ila import accuracy

        score, rows = accuracy.evaluate_model(
            None, shared.problems, spec.template, spec.max_new_tokens, spec.generate_batch_size, spec.device,
            model=model, tokenizer=shared.tokenizer,
        )
        metrics["accuracy"] = score
        io.write_jsonl(_staged(run)["generations"], rows)
        log.info("%s: accuracy %.3f (%d/%d, %d without an answer)", run.name, score["accuracy"], score["correct"],
                 score["n"], score["no_answer"])
    metrics["eval_seconds"] = time.perf_counter() - t_eval  # every evaluation of the run: losses, benchmarks, generation
    losses = ", ".join(f"{k} {metrics[f'{k}_loss']:.4f}" for k in shared.evals)
    mc_part = "".join(f", {name} {metrics[name]['mc_accuracy']:.3f}" for name in shared.mc_sets)
    log.info("%s: trained on %d examples: %s%s", run.name, metrics["train_examples"], losses, mc_part)
    return metrics


def _run_one(spec: GroupSpec, run: RunSpec, shared: _Shared, execution: Execution) -> dict:
    from ila.lm.trainer import save_atomic, tuned_model

    train_ids = io.read_ids(run.ids)
    if not train_ids:
        raise ValueError(f"{run.ids}: the run {run.name} has no training ids")
    fp = fingerprint(spec, run, train_ids, shared.inputs)
    done = _finished(run, fp)
    if done is not None:
        return done
    paths = _staged(run)
    if _rank() == 0:
        os.makedirs(run.staging, exist_ok=True)
    train_rows = rec.to_records(rec.rows_by_id(shared.pool, train_ids, "pool"))
    t0 = time.perf_counter()
    trainer, tokenizer, train = _train(spec, run, shared, train_rows, execution)
    # every rank: under FSDP the shards are gathered to rank 0, which saves and evaluates alone
    model = tuned_model(trainer, lambda: copy.deepcopy(shared.model))
    metrics = {}
    if trainer.is_world_process_zero():
        if run.model_dir:
            save_atomic(model, tokenizer, paths["model"])
        if spec.kind == "study":
            metrics = _evaluate(spec, run, shared, model, train, train_ids)
        else:
            metrics = train
            metrics["seconds"] = time.perf_counter() - t0
        io.write_json(paths["metrics"], metrics)
        io.write_json(paths["finished"], fp)
    _barrier()
    return metrics


def _publish(run: RunSpec) -> None:
    """Move a finished run's staged results to the job's outputs."""
    paths = _staged(run)
    if run.model_dir:
        if os.path.exists(run.model_dir):
            shutil.rmtree(run.model_dir)
        os.makedirs(os.path.dirname(os.path.abspath(run.model_dir)), exist_ok=True)
        os.rename(paths["model"], run.model_dir)
    for what, target in (("generations", run.generations), *((f"mc:{n}", p) for n, p in run.mc_scores.items())):
        if target:
            os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
            shutil.copyfile(paths[what], target)
    timing.write(run.metrics, io.read_json(paths["metrics"]), run.timing)


def run_group(spec: GroupSpec, execution: Execution) -> list[dict]:
    """Train (and evaluate) every run of ``spec`` in this process and write
    their outputs; returns the runs' metrics (rank 0; {} on other ranks)."""
    from ila.runtime import torch_threads

    torch_threads(execution.process_threads())
    shared = _Shared(spec)
    # The group's modules, model, pool and evaluation sets live as long as the
    # process: out of the collector's reach, the gc.collect() the Trainer calls
    # once a run (accelerate's free_memory) no longer walks them (~0.2 s a run).
    gc.freeze()
    log.info("group of %d run(s): base, pool and evaluation sets read in %.1f s", len(spec.runs), shared.seconds)
    results = [_run_one(spec, run, shared, execution) for run in spec.runs]
    if _rank() == 0:
        for run in spec.runs:
            _publish(run)
        for run in spec.runs:
            shutil.rmtree(run.staging, ignore_errors=True)
    _barrier()
    return results
