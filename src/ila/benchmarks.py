"""Benchmarks through lm-evaluation-harness (the field's evaluation tool).

The real config names hub tasks (gsm8k, mmlu, ...); offline, the same code
path evaluates local custom tasks written by :func:`write_generation_task`
(a JSON Lines file of prompts and answers). lm-eval resolves data files
against the working directory, so task files always hold absolute paths.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Sequence

import yaml

log = logging.getLogger(__name__)

#: the regex that extracts a final answer; matches ila.pool.toy.final_answer
ANSWER_REGEX = r"Answer:\s*([^\n]*)"


def write_generation_task(
    task_dir: str | os.PathLike,
    name: str,
    docs: Sequence[dict],
    max_gen_toks: int = 128,
    until: Sequence[str] = ("\n\n", "###"),
) -> Path:
    """A local generate-until task: each doc has `prompt` (the formatted
    prompt, exactly as in training) and `answer`; exact match of the text
    after the last "Answer:" in the greedy generation."""
    task_dir = Path(task_dir).resolve()
    task_dir.mkdir(parents=True, exist_ok=True)
    data = task_dir / f"{name}.jsonl"
    with open(data, "w", encoding="utf-8") as fh:
        for d in docs:
            if not {"prompt", "answer"} <= set(d):
                raise ValueError(f"task {name}: every doc needs 'prompt' and 'answer', got keys {sorted(d)}")
            fh.write(json.dumps({"prompt": d["prompt"], "answer": str(d["answer"])}, ensure_ascii=False) + "\n")
    spec = {
        "task": name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": "{{prompt}}",
        "doc_to_target": "{{answer}}",
        "target_delimiter": "",
        "generation_kwargs": {"until": list(until), "max_gen_toks": int(max_gen_toks), "do_sample": False},
        "filter_list": [
            {
                "name": "final_answer",
                "filter": [
                    {"function": "regex", "regex_pattern": ANSWER_REGEX, "group_select": -1},
                    {"function": "take_first"},
                ],
            }
        ],
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True, "ignore_case": False, "ignore_punctuation": False}],
        "metadata": {"version": 1.0},
    }
    path = task_dir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=True), encoding="utf-8")
    return path


def task_manager(tasks: Sequence[str], include_path: str | os.PathLike | None = None):
    """lm-eval's TaskManager for ``tasks``: only the tasks of
    ``include_path`` when it defines every one of them (indexing lm-eval's
    ~15,000 built-in task files takes 25-70 s on a small CPU machine and
    would be most of a local benchmark's time), else those and the
    built-in ones (hub tasks such as gsm8k and mmlu)."""
    from lm_eval.tasks import TaskManager

    if include_path:
        local = TaskManager(include_path=str(Path(include_path).resolve()), include_defaults=False)
        if set(tasks) <= set(local.all_tasks):
            return local
        log.info("tasks %s are not all in %s: indexing lm-eval's built-in tasks too",
                 sorted(set(tasks) - set(local.all_tasks)), include_path)
        return TaskManager(include_path=str(Path(include_path).resolve()))
    return TaskManager()


def evaluate(
    model: str,
    tasks: Sequence[str],
    include_path: str | None = None,
    batch_size: int = 8,
    device: str = "cpu",
    limit: int | float | None = None,
    num_fewshot: int | None = None,
    add_bos_token: bool = True,
    dtype: str = "float32",
    seed: int = 0,
    chat_template: bool = False,
) -> dict:
    """Run lm-evaluation-harness on a model folder or hub name and return
    {task: {metric: value}} (JSON-safe: NaN becomes None) plus the number
    of evaluated samples per task. ``chat_template``: lm-eval renders each
    request with the model's chat template (``model.prompt.chat_template``,
    as every other stage then does)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import lm_eval

    manager = task_manager(tasks, include_path)
    results = lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": model, "dtype": dtype, "add_bos_token": add_bos_token},
        tasks=list(tasks),
        task_manager=manager,
        device=device,
        batch_size=batch_size,
        limit=limit,
        num_fewshot=num_fewshot,
        log_samples=False,
        random_seed=seed,
        numpy_random_seed=seed,
        torch_random_seed=seed,
        fewshot_random_seed=seed,
        apply_chat_template=bool(chat_template),
    )
    out: dict = {"tasks": {}, "n_samples": {}}
    for task, metrics in results["results"].items():
        clean = {}
        for key, value in metrics.items():
            if key == "alias":
                continue
            if isinstance(value, float) and not math.isfinite(value):
                value = None
            if isinstance(value, (int, float)) or value is None:
                clean[key] = value
        out["tasks"][task] = clean
    for task, n in results.get("n-samples", {}).items():
        out["n_samples"][task] = int(n.get("effective", n.get("original", 0)))
    out["versions"] = {t: v for t, v in results.get("versions", {}).items()}
    return out
