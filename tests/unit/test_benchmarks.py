"""The lm-evaluation-harness adapter, run for real on a tiny local model and
a local custom task (the path the real config takes with hub tasks)."""

import yaml

from ila import benchmarks
from ila.lm.prompt import PromptTemplate
from ila.lm.train import FinetuneSettings, finetune
from ila.pool import toy

from test_lm_support import tiny_base


def test_generation_task_file_has_absolute_data_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = benchmarks.write_generation_task("tasks", "toy_small", [{"prompt": "Q", "answer": 3}])
    spec = yaml.safe_load(path.read_text())
    data = spec["dataset_kwargs"]["data_files"]["test"]
    assert data.startswith("/") and data.endswith("toy_small.jsonl")
    assert spec["output_type"] == "generate_until"


def test_lm_eval_runs_offline_on_a_local_model_and_task(tmp_path):
    """A tiny model taught one answer by heart gets exactly that doc right:
    lm-eval's exact match on a local task equals the known 1 of 4."""
    base, _, _ = tiny_base(tmp_path / "model")
    template = PromptTemplate()
    taught = {"instruction": "Add the numbers.", "input": "20 + 6", "output": "Answer: 26"}
    records = [dict(taught, id=f"copy{i}", domain="add") for i in range(16)]
    finetune(base, records, FinetuneSettings(epochs=8, lr=2e-2, batch_size=4, max_length=64, warmup_ratio=0.0),
             template, seed=0, out_dir=str(tmp_path / "tuned"), threads=1)
    docs = [{"prompt": template.format(taught["instruction"], taught["input"]), "answer": "26"}]
    docs += [{"prompt": template.format(p["instruction"], p["input"]), "answer": p["answer"]} for p in toy.generate(7, seed=99)[:3]]
    benchmarks.write_generation_task(tmp_path / "tasks", "toy_local", docs, max_gen_toks=12)
    res = benchmarks.evaluate(str(tmp_path / "tuned"), ["toy_local"], include_path=str(tmp_path / "tasks"), batch_size=4)
    assert res["n_samples"]["toy_local"] == 4
    assert res["tasks"]["toy_local"]["exact_match,final_answer"] == 0.25


def test_local_tasks_skip_the_builtin_index_and_hub_tasks_keep_it(tmp_path):
    """A task list the include path defines builds a TaskManager of those
    tasks alone; a built-in name beside them indexes lm-eval's own tasks
    too (so gsm8k still resolves)."""
    benchmarks.write_generation_task(tmp_path / "tasks", "toy_local", [{"prompt": "1 + 1 =", "answer": "2"}])
    local = benchmarks.task_manager(["toy_local"], tmp_path / "tasks")
    assert set(local.all_tasks) == {"toy_local"}
    both = benchmarks.task_manager(["toy_local", "gsm8k"], tmp_path / "tasks")
    assert {"toy_local", "gsm8k"} <= set(both.all_tasks)
    assert len(both.all_tasks) > 1000
