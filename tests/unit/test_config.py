import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")


def load(name):
    return yaml.safe_load((ROOT / name).read_text())


def test_default_config_validates_and_fills_defaults():
    cfg = load("config.yaml")
    validate(cfg, SCHEMA)
    assert cfg["name"] == "default"
    assert cfg["pool"]["fields"]["instruction"] == "instruction"
    assert cfg["finetune"]["epochs"] == 2
    assert cfg["cells"]["method"] == "grid"
    # the default scaling study: ILA, its first reading, random, balanced random and coverage-only;
    # configs/scaling-full.yaml adds both ILA variants by name and every other baseline
    from ila.selection import METHODS

    assert cfg["selection"]["methods"] == ["ila", "ila-roundrobin", "random", "random-balanced", "coverage"]
    full = load("configs/scaling-full.yaml")["selection"]["methods"]
    assert set(full) == set(METHODS) - {"ila-tilt", "ila-band"}  # the fixed-knob ones are the calibration's
    assert len(cfg["scaling"]["replicates"]) >= 5 and max(cfg["scaling"]["pool_fractions"]) / min(cfg["scaling"]["pool_fractions"]) >= 8


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "configs").glob("*.yaml")))
def test_every_shipped_config_validates(name):
    cfg = copy.deepcopy(load("config.yaml"))
    from snakemake.utils import update_config

    update_config(cfg, load(f"configs/{name}"))
    validate(cfg, SCHEMA)


def test_unknown_key_fails_naming_it():
    cfg = load("config.yaml")
    cfg["pool"]["sourse"] = "jsonl"
    with pytest.raises(Exception, match="sourse"):
        validate(cfg, SCHEMA)


def test_wrong_type_fails_naming_the_key():
    cfg = load("config.yaml")
    cfg["embed"]["shards"] = "two"
    with pytest.raises(Exception, match="shards"):
        validate(cfg, SCHEMA)
    cfg = load("config.yaml")
    cfg["pool"]["source"] = "csv"
    with pytest.raises(Exception, match="source"):
        validate(cfg, SCHEMA)


def _walk(schema, path="config"):
    if schema.get("type") == "object" or "properties" in schema:
        for key, sub in schema.get("properties", {}).items():
            yield f"{path}.{key}", sub
            yield from _walk(sub, f"{path}.{key}")


def test_every_schema_key_has_description_and_default():
    schema = yaml.safe_load(Path(SCHEMA).read_text())
    missing = [p for p, sub in _walk(schema) if "description" not in sub or "default" not in sub]
    assert missing == []
    assert schema["additionalProperties"] is False


def test_the_schema_lists_exactly_the_registered_methods():
    """selection.methods and selection.export_method are checked by the
    schema alone, so its names must be the registered ones."""
    from ila.selection import METHODS

    sel = yaml.safe_load(Path(SCHEMA).read_text())["properties"]["selection"]["properties"]
    assert sorted(sel["methods"]["items"]["enum"]) == sorted(METHODS)
    assert sorted(sel["export_method"]["enum"]) == sorted(METHODS)


@pytest.mark.parametrize("section, key, value, message", [
    ("selection", "methods", ["ila", "nope"], "'nope' is not one of"),
    ("selection", "methods", ["ila", "random", "ila"], "has non-unique elements"),
    ("scaling", "replicates", [0, 1, 0], "has non-unique elements"),
    ("scaling", "pool_fractions", [0.5, 1.0, 1], "has non-unique elements"),  # 1 and 1.0 are one fraction
    ("scaling", "budgets", [100, 100], "has non-unique elements"),
])
def test_a_list_the_schema_checks_fails_naming_the_key(section, key, value, message):
    cfg = load("config.yaml")
    cfg[section][key] = value
    with pytest.raises(Exception, match=rf"(?s){message}.*On instance\['{section}'\]\['{key}'\]"):
        validate(cfg, SCHEMA)


@pytest.mark.parametrize("old, new", [("scaling.seeds", "scaling.replicates"),
                                      ("selection.export_seed", "selection.export_replicate")])
def test_a_renamed_key_fails_saying_what_it_is_called_now(tmp_path, old, new):
    from ila.plumbing.configs import RENAMED_KEYS, check_renamed_keys, resolve_config

    assert RENAMED_KEYS[old] == new
    section, key = old.split(".")
    cfg = load("config.yaml")
    cfg[section][key] = 0
    with pytest.raises(ValueError, match=rf"^{old} is now called {new}"):
        check_renamed_keys(cfg)
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump({section: {key: 0}}))
    with pytest.raises(ValueError, match=rf"^{old} is now called {new}"):
        resolve_config(ROOT, [mine])
    check_renamed_keys(load("config.yaml"))  # the shipped config uses the new names


def test_the_workflow_refuses_a_renamed_key_before_any_job(tmp_path):
    import subprocess
    import sys

    mine = tmp_path / "mine.yaml"
    mine.write_text("scaling:\n  seeds: [0, 1]\n")
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-s", str(ROOT / "Snakefile"), "--directory",
                           str(tmp_path), "--cores", "1", "--configfile", str(mine)],
                          capture_output=True, text=True, timeout=300)
    text = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "scaling.seeds is now called scaling.replicates" in text
    assert "Building DAG of jobs" not in text


def test_chat_template_is_off_by_default_and_rejected_with_the_tiny_base():
    from ila.lm.prompt import PromptTemplate, check_config

    cfg = load("config.yaml")
    validate(cfg, SCHEMA)
    assert cfg["model"]["prompt"]["chat_template"] is False and cfg["model"]["base"] == "tiny"
    check_config(cfg)
    assert PromptTemplate(**cfg["model"]["prompt"]) == PromptTemplate()
    cfg["model"]["prompt"]["chat_template"] = True
    with pytest.raises(ValueError, match=r"model\.prompt\.chat_template: true, but model\.base is tiny"):
        check_config(cfg)
    check_config({**cfg, "model": {**cfg["model"], "base": "Qwen/Qwen2.5-0.5B-Instruct"}})
    cfg["model"]["prompt"] = {"without_input": "{instruction} {input}"}
    with pytest.raises(ValueError, match=r"model\.prompt: without_input template needs"):
        check_config(cfg)
    cfg = load("config.yaml")
    cfg["model"]["prompt"] = {"chat_template": "yes"}
    with pytest.raises(Exception, match="chat_template"):
        validate(cfg, SCHEMA)


def _leaves(d, prefix=""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _leaves(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def test_power_config_reruns_the_default_full_pool_points_with_more_replicates():
    """configs/power.yaml changes only which scaling points run and what is
    predicted: everything upstream (pool, base, cells, RIDs, calibration,
    dev-loss model) is the default's, and the seeds of a point depend only
    on the master seed and the point, so its replicates 0-4 are the default
    run's full-pool runs."""
    from snakemake.utils import update_config

    from ila.scaling.grid import grid

    power = load("configs/power.yaml")
    assert {k for k, _ in _leaves(power)} == {
        "name", "selection.methods", "scaling.pool_fractions", "scaling.budgets", "scaling.fixed_budget",
        "scaling.replicates", "scaling.predictions"}
    default = load("config.yaml")
    cfg = copy.deepcopy(default)
    update_config(cfg, power)
    validate(cfg, SCHEMA)
    validate(default, SCHEMA)  # fills the schema's defaults, as the workflow does
    assert set(power["selection"]["methods"]) <= set(default["selection"]["methods"])
    assert len(power["scaling"]["replicates"]) >= 4 * len(default["scaling"]["replicates"])
    sc, dc = cfg["scaling"], default["scaling"]
    ours = set(grid(sc["pool_fractions"], sc["budgets"], sc["fixed_budget"], sc["replicates"], sc["grid"]))
    theirs = [p for p in grid(dc["pool_fractions"], dc["budgets"], dc["fixed_budget"], dc["replicates"], dc["grid"])
              if p.fraction == 1.0]
    assert theirs and set(theirs) <= ours
    # no seed key above: the training and selection seeds of those points are the default's
    # (ila.scaling.grid.run_seed and selection_seed read only the master seed and the point)
    # written before the run: ids that do not clash with another config's, each deciding one comparison
    assert [p["id"] for p in sc["predictions"]] == ["Q1", "Q2", "Q3", "Q4", "Q5"]
    assert all(p["kind"] == "difference" for p in sc["predictions"])
