"""configs/rehearsal.yaml is configs/paper.yaml with only names, sizes and the
device swapped for local stand-ins (an explicit list of key paths), so the
rehearsal cannot drift from the real thing; and the stand-in pools read like
the hub datasets they replace."""

import fnmatch
import json
from pathlib import Path

import pytest
import yaml

from ila import rehearsal
from ila.pool import ingest

ROOT = Path(__file__).resolve().parents[2]

#: key paths that may differ, each with why; list items are [i], [*] any
SWAPPED = {
    "name": "name",
    "device": "device (cpu; bf16 and FSDP go with it, below)",
    "rehearsal.*": "what the stand-ins are (sizes)",
    "pool.hf.datasets[*].name": "hub dataset names -> local dataset folders",
    "split.dev_size": "size",
    "embed.model": "BGE -> all-MiniLM-L6-v2 saved to a folder",
    "embed.shards": "size (number of jobs)",
    "cells.grid_size": "size (for a pool of 900)",
    "model.base": "Qwen/Qwen2-1.5B -> a tiny Qwen2 folder",
    "finetune.batch_size": "size",
    "finetune.processes": "size (2 on 2 cores)",
    "finetune.checkpoint_steps": "size (several checkpoints in a short run)",
    "finetune.bf16": "device: bf16 is for GPUs",
    "finetune.trainer_args.*": "device: FSDP does not run on CPU (see the config); activation checkpointing instead",
    "warmup.size": "size",
    "depth.shards": "size (number of jobs)",
    "regression.size": "size",
    "regression.seeds": "size (replicates)",
    "regression.coverage_levels": "size (two of the four design levels)",
    "selection.ila.kappas": "size (two of the tilts the dev-loss model chooses from)",
    "selection.ila.windows": "size (one of the RID windows)",
    "selection.ila.calibration_seeds": "size (replicates of the calibration fine-tunes)",
    "selection.deita.complexity_model": "Deita scorer name -> a tiny local Llama",
    "selection.deita.quality_model": "Deita scorer name -> a tiny local Llama",
    "scaling.pool_fractions": "size (two of the three pool sizes)",
    "scaling.budgets": "size",
    "scaling.fixed_budget": "size",
    "scaling.replicates": "size (replicates)",
    "benchmarks.tasks": "gsm8k, mmlu -> local tasks of the same output types",
    "benchmarks.include_path": "where the local tasks are",
}


def flatten(obj, prefix=""):
    """{key path: leaf}; dicts by key, lists of dicts by index, other lists are leaves."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out or {prefix: {}}
    if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        out = {}
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: obj}


def allowed(path):
    return any(fnmatch.fnmatchcase(path, pat.replace("[*]", "[[]*[]]")) for pat in SWAPPED)


def load(name):
    return yaml.safe_load((ROOT / "configs" / name).read_text())


def differences(a, b):
    fa, fb = flatten(a), flatten(b)
    return sorted(p for p in set(fa) | set(fb) if fa.get(p, "<absent>") != fb.get(p, "<absent>"))


def test_rehearsal_differs_from_paper_only_in_the_swapped_keys():
    paper, reh = load("paper.yaml"), load("rehearsal.yaml")
    diff = differences(paper, reh)
    drift = [p for p in diff if not allowed(p)]
    assert not drift, f"configs/rehearsal.yaml differs from paper.yaml outside the swapped keys: {drift}"
    # every listed key is really swapped: the list says exactly what differs
    unused = [pat for pat in SWAPPED if not any(fnmatch.fnmatchcase(p, pat.replace("[*]", "[[]*[]]")) for p in diff)]
    assert not unused, f"listed as swapped but equal to paper.yaml: {unused}"


def test_the_difference_check_catches_drift():
    paper, reh = load("paper.yaml"), load("rehearsal.yaml")
    reh["selection"]["methods"] = ["ila", "random"]
    reh["finetune"]["runs_per_job"] = 4
    reh["pool"]["hf"]["datasets"][2]["fields"]["domain"] = "category"
    del reh["benchmarks"]["batch_size"]
    drift = [p for p in differences(paper, reh) if not allowed(p)]
    assert drift == ["benchmarks.batch_size", "finetune.runs_per_job", "pool.hf.datasets[2].fields.domain",
                     "selection.methods"]


def test_rehearsal_keeps_what_only_the_real_config_uses():
    paper, reh = load("paper.yaml"), load("rehearsal.yaml")
    ft = reh["finetune"]
    assert ft["processes"] > 1 and ft["checkpoint_steps"] > 0 and ft["runs_per_job"] == paper["finetune"]["runs_per_job"]
    assert ft["batch_size"] % ft["processes"] == 0
    assert ft["trainer_args"] == {"activation_checkpointing": True}
    assert paper["finetune"]["trainer_args"]["fsdp_config"]["activation_checkpointing"] is True
    assert reh["selection"]["deita"]["scorer"] == "deita" and reh["pool"]["source"] == "hf"
    assert len(reh["benchmarks"]["tasks"]) == len(paper["benchmarks"]["tasks"]) == 2
    assert [Path(d["name"]).name for d in reh["pool"]["hf"]["datasets"]] == [
        d["name"].split("/")[-1] for d in paper["pool"]["hf"]["datasets"]]
    # the stand-ins live where the workflow builds them, under the config's results
    for path in [d["name"] for d in reh["pool"]["hf"]["datasets"]] + [
        reh["model"]["base"], reh["embed"]["model"], reh["selection"]["deita"]["complexity_model"],
        reh["selection"]["deita"]["quality_model"], reh["benchmarks"]["include_path"],
    ]:
        assert path.startswith(f"results/{reh['name']}/standins/"), path


def test_rehearsal_config_is_valid():
    from snakemake.utils import validate

    cfg = load("rehearsal.yaml")
    validate(cfg, str(ROOT / "schemas" / "config.schema.yaml"))
    assert cfg["rehearsal"]["enabled"] is True
    paper = load("paper.yaml")
    validate(paper, str(ROOT / "schemas" / "config.schema.yaml"))
    assert paper["rehearsal"]["enabled"] is False  # the schema's default: real configs build no stand-ins


@pytest.mark.parametrize(
    "kind, columns",
    [
        ("alpaca", ["instruction", "input", "output", "text"]),
        ("evol", ["instruction", "output"]),
        ("metamath", ["query", "response", "type", "original_question"]),
    ],
)
def test_stand_in_pool_has_the_hub_datasets_columns(kind, columns):
    records = rehearsal.pool_records(kind, 20, seed=0)
    rows = [rehearsal.hub_row(kind, r) for r in records]
    assert all(list(r) == columns for r in rows)
    assert {r["domain"] for r in records} <= set(rehearsal.POOL_FAMILIES[kind])
    if kind == "metamath":
        assert {r["type"] for r in rows} == {"GSM_AnsAug", "MATH_AnsAug"}
        assert all(r["type"] == ("GSM_AnsAug" if rec["steps"] <= 3 else "MATH_AnsAug") for r, rec in zip(rows, records))
    if kind != "alpaca":  # the input is folded into the instruction, as in those datasets
        text = "query" if kind == "metamath" else "instruction"
        assert all(r[text] == (f"{x['instruction']}\n{x['input']}" if x["input"] else x["instruction"])
                   for r, x in zip(rows, records))


def test_stand_in_pools_are_read_by_load_dataset_like_the_hub_mixture(tmp_path):
    """The paper's dataset specs, names swapped for the folders, through the
    ingest's read_hf_many (datasets.load_dataset on each folder)."""
    reh = load("rehearsal.yaml")
    specs = json.loads(json.dumps(reh["pool"]["hf"]["datasets"]))
    n = 12
    for kind, spec in zip(rehearsal.POOL_KINDS, specs):
        spec["name"] = str(tmp_path / Path(spec["name"]).name)
        rehearsal.write_pool(kind, rehearsal.pool_records(kind, n, seed=0), spec["name"])
    assert (tmp_path / "alpaca/data/train-00000-of-00001.parquet").is_file()
    assert (tmp_path / "MetaMathQA/MetaMathQA-395K.json").is_file()
    result = ingest.read_hf_many(specs, max_chars=reh["pool"]["max_chars"])
    assert result.ledger["read"] == 3 * n and result.ledger["kept"] == 3 * n
    domains = result.pool["domain"].value_counts().to_dict()
    assert domains["general"] == n and domains["evol"] == n  # the spec's domain, as neither dataset has one
    assert set(domains) - {"general", "evol"} == {"GSM_AnsAug", "MATH_AnsAug"}  # MetaMathQA's type column
    assert (result.pool["input"] != "").sum() > 0  # alpaca keeps its input column


def test_mc_items_are_mmlu_shaped(tmp_path):
    from ila import accuracy, mc

    problems, _ = accuracy.toy_eval_set([], 4, seed=5)
    items = rehearsal.mc_items(problems, seed=0)
    assert len(items) == len(problems)
    for it, p in zip(items, problems):
        lines = it["prompt"].split("\n")
        assert lines[-1] == "Answer:" and [line[:3] for line in lines[-5:-1]] == ["A. ", "B. ", "C. ", "D. "]
        assert lines[-5 + it["label"]][3:] == p["answer"]
        assert it["choices"] == [" A", " B", " C", " D"]
    path = tmp_path / "items.jsonl"
    path.write_text("".join(json.dumps(it) + "\n" for it in items))
    assert len(mc.read_items(path)) == len(items)  # the lm-eval task's item checks pass


def test_fsdp_on_cpu_is_refused_not_silently_dropped(tmp_path):
    """accelerate drops the FSDP plugin on CPU; a fine-tune with paper.yaml's
    trainer_args on device: cpu fails at once instead of training plain DDP."""
    from ila.lm.train import FinetuneSettings, finetune_model
    from ila.lm.trainer import training_args

    paper = load("paper.yaml")
    with pytest.raises(ValueError, match="finetune.trainer_args.fsdp needs GPUs"):
        finetune_model("no-model-is-loaded", [], FinetuneSettings(trainer_args=paper["finetune"]["trainer_args"]),
                       device="cpu")
    args = training_args(str(tmp_path), seed=0, lr=1e-3, batch_size=2, weight_decay=0.0, lr_scheduler="cosine",
                          warmup_steps=0.0, logging_steps=1, device="cpu",
                          extra=load("rehearsal.yaml")["finetune"]["trainer_args"])
    assert args.activation_checkpointing is True and not args.fsdp
