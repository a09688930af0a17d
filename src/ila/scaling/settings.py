"""The config's scaling study: the combinations of settings the schema
cannot express, rejected before any job (:func:`check_config`), and what the
workflow derives from the settings for the study's jobs (:func:`eval_sets`,
:func:`summary_metrics`, :func:`summary_notes`)."""

from __future__ import annotations

from typing import Mapping

from .grid import grid

#: the metrics of tables/scaling.csv the summary reports besides the primary one, in order
SUMMARY_METRICS = ("test_loss", "mc_accuracy", "mc_answer_accuracy", "answer_loss", "benchmark_loss", "accuracy")


def check_config(config: Mapping) -> None:
    """Scaling settings that cannot run together (ValueError naming the
    keys): the grid itself, the exact-match problems within the benchmark,
    the baseline among selection.methods, unique prediction ids. A
    prediction about a method this config does not run (a config that
    extends config.yaml with fewer methods) is reported as not measured."""
    sc = config["scaling"]
    if not sc.get("enabled", True):
        return
    grid(sc["pool_fractions"], sc["budgets"], sc["fixed_budget"], sc["replicates"], sc["grid"])
    methods = list(config["selection"]["methods"])
    if sc["baseline"] not in methods:
        raise ValueError(f"scaling.baseline {sc['baseline']!r} is not in selection.methods {methods}")
    per_family = config["split"].get("benchmark_per_family", 0)
    if config["pool"]["source"] == "toy" and sc["eval_per_family"] > per_family:
        raise ValueError(f"scaling.eval_per_family ({sc['eval_per_family']}) exceeds split.benchmark_per_family "
                         f"({per_family}): the exact-match problems are drawn from the benchmark")
    ids = [p["id"] for p in sc.get("predictions", [])]
    if len(set(ids)) != len(ids):
        raise ValueError(f"scaling.predictions: ids repeat: {ids}")


def eval_sets(config: Mapping) -> list[str]:
    """Held-out sets whose response loss every scaling run reports: the test
    set, and on real pools the held-out benchmarks (loss on their reference
    answers, per benchmark). Toy benchmarks are scored as multiple choice.
    None at all is an error naming the keys."""
    split = config["split"]
    sets = ["test"] if split["test_size"] > 0 else []
    if config["pool"]["source"] != "toy" and split["holdout_files"]:
        sets.append("benchmark")
    if not sets:
        raise ValueError("scaling.enabled needs a held-out set to judge on: set split.test_size > 0 "
                         "or split.holdout_files")
    return sets


def summary_metrics(primary: str) -> list[str]:
    """The metrics the scaling summary reports, ``primary`` (scaling.metric) first."""
    return [primary] + [m for m in SUMMARY_METRICS if m != primary]


def summary_notes(config: Mapping) -> list[str]:
    """Caveats the scaling summary must carry: a Deita stand-in scorer, and
    what the pool (toy or real) lets the study measure."""
    notes = []
    if "deita" in config["selection"]["methods"] and config["selection"]["deita"]["scorer"] == "proxy":
        d = config["selection"]["deita"]
        notes.append(
            "deita ran with the offline ProxyScorer, a stand-in that is NOT Deita: complexity = "
            f"{d['complexity_feature']}, quality = {d['quality_feature']} (percentile ranks on Deita's 1-6 scale)."
        )
    if config["pool"]["source"] == "toy":
        notes.append("the pool is the project's toy generator (a stand-in for a real instruction pool); "
                     "test loss and the multiple-choice benchmark are on clean held-out toy problems.")
    else:
        notes.append("task accuracy and the multiple-choice benchmark are not measured on this pool (no checkable "
                     "answers): null, not 0; the held-out benchmarks are judged by the loss of their reference answers.")
    return notes
