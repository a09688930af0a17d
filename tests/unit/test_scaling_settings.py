"""The config's scaling study (ila.scaling.settings): the combinations the
schema cannot express fail before any job naming the keys, and what the
workflow derives for the study's jobs."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config, validate

from ila.scaling import settings

ROOT = Path(__file__).resolve().parents[2]


def config(*overrides) -> dict:
    """config.yaml with the schema's defaults, each override merged over it."""
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    for o in overrides:
        update_config(cfg, copy.deepcopy(o))
    validate(cfg, str(ROOT / "schemas" / "config.schema.yaml"))
    return cfg


def test_the_shipped_configs_pass():
    for name in sorted((ROOT / "configs").glob("*.yaml")):
        settings.check_config(config(yaml.safe_load(name.read_text())))
    settings.check_config(config())


@pytest.mark.parametrize("override, message", [
    ({"scaling": {"baseline": "kcenter"}}, r"scaling.baseline 'kcenter' is not in selection.methods"),
    ({"scaling": {"eval_per_family": 30}, "split": {"benchmark_per_family": 20}},
     r"scaling.eval_per_family \(30\) exceeds split.benchmark_per_family \(20\)"),
    ({"scaling": {"predictions": [{"id": "P1", "text": "a", "kind": "slope", "method": "ila", "metric": "test_loss",
                                   "expect": "zero"}] * 2}}, r"scaling.predictions: ids repeat: \['P1', 'P1'\]"),
    ({"scaling": {"grid": "full", "budgets": [100, 200], "fixed_budget": 150}},
     r"scaling.fixed_budget 150 is not one of scaling.budgets \[100, 200\] \(grid: full\)"),
    ({"scaling": {"pool_fractions": [0.1234567, 1.0]}}, r"pool fraction 0.1234567 has more than 6 decimals"),
])
def test_a_combination_the_schema_cannot_express_fails_naming_the_keys(override, message):
    with pytest.raises(ValueError, match=message):
        settings.check_config(config(override))


def test_a_disabled_study_is_not_checked():
    settings.check_config(config({"scaling": {"enabled": False, "baseline": "kcenter"}}))


def test_eval_sets_are_the_test_set_and_on_real_pools_the_held_out_benchmarks():
    assert settings.eval_sets(config()) == ["test"]
    # a toy pool's benchmark is scored as multiple choice, not by loss
    assert settings.eval_sets(config({"split": {"holdout_files": ["gsm8k_test"]}})) == ["test"]
    real = {"pool": {"source": "jsonl", "path": "pool.jsonl"}, "split": {"holdout_files": ["gsm8k_test"]}}
    assert settings.eval_sets(config(real)) == ["test", "benchmark"]
    assert settings.eval_sets(config(real, {"split": {"test_size": 0}})) == ["benchmark"]
    with pytest.raises(ValueError, match=r"split.test_size > 0 or split.holdout_files"):
        settings.eval_sets(config({"split": {"test_size": 0}}))


def test_summary_metrics_put_the_primary_one_first_once():
    assert settings.summary_metrics("test_loss") == ["test_loss", "mc_accuracy", "mc_answer_accuracy", "answer_loss",
                                                     "benchmark_loss", "accuracy"]
    assert settings.summary_metrics("benchmark_loss") == ["benchmark_loss", "test_loss", "mc_accuracy",
                                                          "mc_answer_accuracy", "answer_loss", "accuracy"]
    assert settings.summary_metrics("test_loss_clipped")[:2] == ["test_loss_clipped", "test_loss"]


def test_summary_notes_name_the_deita_stand_in_and_what_the_pool_measures():
    toy = settings.summary_notes(config({"selection": {"methods": ["ila", "random", "deita"]}}))
    assert len(toy) == 2 and "NOT Deita" in toy[0] and "complexity = instruction_length" in toy[0]
    assert "toy generator" in toy[1]
    real = settings.summary_notes(config({"pool": {"source": "jsonl", "path": "p.jsonl"}}))
    assert len(real) == 1 and real[0].startswith("task accuracy and the multiple-choice benchmark are not measured")
    scorer = settings.summary_notes(config({"selection": {"methods": ["deita", "random"], "deita": {"scorer": "deita"}}}))
    assert not any("Deita" in n for n in scorer)
