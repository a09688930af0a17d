"""Multiple-choice task metric: held-out problems scored by log-likelihood.

An item (one JSON Lines row) is ``{"id", "family", "prompt", "choices",
"label"}``: ``prompt`` is rendered already and ends at the response header,
``choices`` are candidate responses (continuations with no delimiter) and
``label`` indexes the correct one. The model's answer is the choice with
the largest summed log-likelihood given the prompt (lm-evaluation-harness'
``acc``); ``acc_norm`` divides by the choice's length in characters first,
as lm-eval does (``correct_bytes`` divides by UTF-8 bytes, lm-eval's
``acc_bytes``).

Two paths give the same numbers: :func:`score_items` in-process (batched
and length-bucketed, for speed) and :func:`lm_eval_scores`, which runs
lm-eval on the local task written by :func:`write_lm_eval_task`. The
in-process scorer encodes every (prompt, choice) pair exactly as lm-eval's
``HFLM`` does (:func:`encode_pair`): trailing whitespace of the prompt moves
into the continuation, prompt + choice is encoded as one string (with the
bos token when ``add_bos_token``) and the continuation is what follows the
encoded prompt. A choice's log-likelihood therefore includes the prompt's
final newline token (the same for all choices of an item) and no eos. With a
tokenizer that splits at the prompt/response boundary (byte-level BPE does
at a newline) the scored sequence equals the training sequence of
:mod:`ila.lm.data` without its eos: the same bos, the same tokens.

Per-item losses (nats per token, mean over tokens): ``gold_loss`` over the
gold choice's own tokens (the response tokens of training, without the
moved newline and without eos); ``answer_loss`` over the tokens of its last
line alone (the ``Answer: ...`` line). Either is NaN (and its token count
0) where its text does not start on a token boundary of prompt + choice.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Sequence

import yaml

__all__ = ["read_items", "check_item", "encode_pair", "score_items", "summarize", "write_lm_eval_task", "lm_eval_scores"]


def check_item(item: dict, where: str) -> None:
    """Raise ValueError naming ``where`` (file:line) and the reason when an
    item does not follow the schema, or repeats a choice."""
    if not isinstance(item, dict):
        raise ValueError(f"{where}: an item must be a JSON object, got {type(item).__name__}")
    for key in ("id", "family", "prompt"):
        if not isinstance(item.get(key), str) or (key != "family" and not item[key]):
            raise ValueError(f"{where}: field {key!r} must be a non-empty string, got {item.get(key)!r}")
    choices = item.get("choices")
    if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
        raise ValueError(f"{where}: 'choices' must be a list of >= 2 non-empty strings")
    if len(set(choices)) != len(choices):
        raise ValueError(f"{where}: item {item['id']!r} repeats a choice")
    label = item.get("label")
    if isinstance(label, bool) or not isinstance(label, int) or not 0 <= label < len(choices):
        raise ValueError(f"{where}: 'label' must be an int in [0, {len(choices)}), got {label!r}")


def read_items(path: str | os.PathLike) -> list[dict]:
    """Items of a JSON Lines file, each checked (:func:`check_item`); ids
    must be unique. Errors name the file and line."""
    items, seen = [], set()
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: not valid JSON ({err})") from None
            check_item(item, where)
            if item["id"] in seen:
                raise ValueError(f"{where}: duplicate id {item['id']!r}")
            seen.add(item["id"])
            items.append(item)
    if not items:
        raise ValueError(f"{path}: no items")
    return items


def _encode(tokenizer, text: str, add_bos_token: bool | None) -> list[int]:
    # HFLM.tok_encode: add_special_tokens follows add_bos_token (None: the
    # tokenizer's default), off when the text already starts with bos
    kwargs = {} if add_bos_token is None else {"add_special_tokens": bool(add_bos_token)}
    bos = tokenizer.bos_token
    if bos and text.startswith(bos):
        kwargs = {"add_special_tokens": False}
    return list(tokenizer.encode(text, **kwargs))


def encode_pair(tokenizer, context: str, continuation: str, add_bos_token: bool | None = True):
    """``(context_ids, continuation_ids)`` as lm-eval 0.4's causal HFLM
    builds them (``TemplateLM._encode_pair``)."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = _encode(tokenizer, context + continuation, add_bos_token)
    ctx = _encode(tokenizer, context, add_bos_token)
    return ctx, whole[len(ctx):]


def _tail_tokens(tokenizer, head: str, whole: list[int], add_bos_token) -> int:
    """Number of trailing tokens of ``whole`` (a text starting with
    ``head``, encoded) after the tokens of ``head``; 0 when ``head`` does
    not end on a token boundary."""
    prefix = _encode(tokenizer, head, add_bos_token)
    if whole[: len(prefix)] != prefix:
        return 0
    return len(whole) - len(prefix)


def _max_length(model) -> int:
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(model.config, attr, None)
        if value:
            return int(value)
    return 2048


def score_items(model, tokenizer, items: Sequence[dict], batch_size: int = 32, device: str = "cpu",
                add_bos_token: bool | None = True, max_length: int | None = None):
    """Score every choice of every item with ``model``; one row per item.

    Columns: id, family, label, n_choices, ll_0 .. ll_{K-1} (summed
    log-likelihood of each choice, nats; NaN past an item's own count),
    pred (argmax of ll, first on ties), correct, pred_norm / correct_norm
    (ll per character, lm-eval's acc_norm), correct_bytes (ll per UTF-8
    byte), gold_tokens, gold_loss, answer_tokens, answer_loss (see the
    module docstring) and truncated (a sequence was longer than
    ``max_length`` + 1 tokens and lost tokens on the left, as in lm-eval;
    default: the model's position limit). Requests are sorted by length
    and batched with right padding masked out; log-probabilities are taken
    in float32 and summed in float64.
    """
    import numpy as np
    import pandas as pd
    import torch

    from .lm.data import pad_token_id
    from .lm.scoring import length_batches

    for n, item in enumerate(items):
        check_item(item, f"item #{n}")
    if len({it["id"] for it in items}) != len(items):
        raise ValueError("score_items: item ids must be unique")
    limit = max_length or _max_length(model)
    reqs = []  # (item, choice, input ids, continuation ids, truncated)
    n_tail: dict[int, tuple[int, int]] = {}  # per scored item: (gold's own tokens, answer-line tokens)
    unscorable: set[int] = set()
    for i, item in enumerate(items):
        encoded = [encode_pair(tokenizer, item["prompt"], choice, add_bos_token) for choice in item["choices"]]
        for j, (ctx, cont) in enumerate(encoded):
            if not ctx or not cont:
                raise ValueError(f"item {item['id']!r} choice {j}: empty context or continuation after encoding")
        if any(len(cont) > limit for _, cont in encoded):
            unscorable.add(i)  # a choice longer than the model's window cannot be scored (lm-eval refuses it too)
            continue
        for j, (choice, (ctx, cont)) in enumerate(zip(item["choices"], encoded)):
            full = ctx + cont
            if j == item["label"]:
                line = choice.rstrip().rfind("\n") + 1
                n_tail[i] = tuple(min(_tail_tokens(tokenizer, item["prompt"] + head, full, add_bos_token), len(cont))
                                  for head in ("", choice[:line]))
            reqs.append((i, j, full[-(limit + 1):][:-1], full[-len(cont):], len(full) > limit + 1))
    token_lp: list = [None] * len(reqs)
    pad = pad_token_id(tokenizer)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in length_batches([len(r[2]) for r in reqs], batch_size):
                width = max(len(reqs[b][2]) for b in batch)
                ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, b in enumerate(batch):
                    ids[row, : len(reqs[b][2])] = torch.as_tensor(reqs[b][2])
                    mask[row, : len(reqs[b][2])] = 1
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device), use_cache=False).logits
                for row, b in enumerate(batch):
                    inplen, target = len(reqs[b][2]), reqs[b][3]
                    lp = torch.log_softmax(logits[row, inplen - len(target): inplen].float(), dim=-1)
                    picked = lp.gather(1, torch.as_tensor(target, device=lp.device).unsqueeze(1)).squeeze(1)
                    token_lp[b] = picked.double().cpu().numpy()
    finally:
        if was_training:
            model.train()
    K = max(len(it["choices"]) for it in items)
    ll = np.full((len(items), K), np.nan)
    gold_lp: list = [None] * len(items)
    truncated = np.zeros(len(items), dtype=bool)
    for (i, j, _, _, cut), lp in zip(reqs, token_lp):
        ll[i, j] = lp.sum()
        truncated[i] |= cut
        if j == items[i]["label"]:
            gold_lp[i] = lp
    rows = []
    for i, item in enumerate(items):
        k, label = len(item["choices"]), item["label"]
        if i in unscorable:
            rows.append({"id": item["id"], "family": item["family"], "label": label, "n_choices": k,
                         **{f"ll_{j}": math.nan for j in range(K)}, "pred": -1, "correct": False, "pred_norm": -1,
                         "correct_norm": False, "correct_bytes": False, "gold_tokens": 0, "gold_loss": math.nan,
                         "answer_tokens": 0, "answer_loss": math.nan, "truncated": False, "scored": False})
            continue
        lls = ll[i, :k]
        chars = np.array([len(c) for c in item["choices"]], dtype=float)
        nbytes = np.array([len(c.encode("utf-8")) for c in item["choices"]], dtype=float)
        pred, pred_norm = int(np.argmax(lls)), int(np.argmax(lls / chars))
        g, a = n_tail[i]
        rows.append({
            "id": item["id"], "family": item["family"], "label": label, "n_choices": k,
            **{f"ll_{j}": ll[i, j] for j in range(K)},
            "pred": pred, "correct": pred == label, "pred_norm": pred_norm, "correct_norm": pred_norm == label,
            "correct_bytes": int(np.argmax(lls / nbytes)) == label,
            "gold_tokens": g, "gold_loss": float(-gold_lp[i][-g:].mean()) if g else math.nan,
            "answer_tokens": a, "answer_loss": float(-gold_lp[i][-a:].mean()) if a else math.nan,
            "truncated": bool(truncated[i]), "scored": True,
        })
    return pd.DataFrame(rows)


def summarize(frame) -> dict:
    """Task figures of a :func:`score_items` frame: mc_accuracy (share
    correct), mc_accuracy_se = sqrt(p(1-p)/n), chance (mean of
    1/n_choices), acc_norm, acc_bytes, per_family {family: accuracy}, n,
    gold_loss and answer_loss (means over the items whose text is aligned;
    the others are counted in n_gold_unaligned and n_answer_unaligned) and
    n_truncated; n_unscorable counts the items left out because a choice
    is longer than the model's window (they are in no figure)."""
    n_unscorable = int((~frame["scored"]).sum()) if "scored" in frame else 0
    if "scored" in frame:
        frame = frame[frame["scored"]]
    n = len(frame)
    if n == 0:
        raise ValueError("summarize: no scored items")
    p = float(frame["correct"].mean())
    out = {
        "mc_accuracy": p,
        "mc_accuracy_se": math.sqrt(p * (1 - p) / n),
        "chance": float((1.0 / frame["n_choices"]).mean()),
        "acc_norm": float(frame["correct_norm"].mean()),
        "acc_bytes": float(frame["correct_bytes"].mean()),
        "per_family": {f: float(g["correct"].mean()) for f, g in frame.groupby("family", sort=True)},
        "n": n,
        "n_truncated": int(frame["truncated"].sum()),
        "n_unscorable": n_unscorable,
    }
    for part in ("gold", "answer"):
        aligned = frame[f"{part}_tokens"] > 0
        out[f"{part}_loss"] = float(frame.loc[aligned, f"{part}_loss"].mean()) if aligned.any() else math.nan
        out[f"n_{part}_unaligned"] = int((~aligned).sum())
    return out


def write_lm_eval_task(items_path: str | os.PathLike, task_dir: str | os.PathLike, task_name: str) -> Path:
    """A local lm-evaluation-harness multiple-choice task over the items
    file (checked first); the YAML holds the file's absolute path, since
    lm-eval resolves data files against the working directory."""
    read_items(items_path)
    task_dir = Path(task_dir).resolve()
    task_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "task": task_name,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(Path(items_path).resolve())}},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "prompt",
        "doc_to_choice": "choices",
        "doc_to_target": "label",
        "target_delimiter": "",
        "metric_list": [{"metric": m, "aggregation": "mean", "higher_is_better": True} for m in ("acc", "acc_norm")],
        "metadata": {"version": 1.0},
    }
    path = task_dir / f"{task_name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=True), encoding="utf-8")
    return path


def lm_eval_scores(model_dir: str, task_dir: str | os.PathLike, task_name: str, batch_size: int = 8,
                   device: str = "cpu", add_bos_token: bool = True) -> dict:
    """Run lm-eval (``HFLM``, float32, offline) on the local task and
    return {acc, acc_stderr, acc_norm, acc_norm_stderr, n, samples}:
    ``samples`` is a frame with id, ll_0 .. ll_{K-1} (lm-eval's summed
    log-likelihood per choice), acc and acc_norm per item, sorted by id."""
    import pandas as pd

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import lm_eval

    from ila.benchmarks import task_manager

    results = lm_eval.simple_evaluate(
        model="hf",
        model_args={"pretrained": str(model_dir), "dtype": "float32", "add_bos_token": add_bos_token},
        tasks=[task_name],
        task_manager=task_manager([task_name], task_dir),
        device=device,
        batch_size=batch_size,
        log_samples=True,
        random_seed=0, numpy_random_seed=0, torch_random_seed=0, fewshot_random_seed=0,
    )
    metrics = results["results"][task_name]
    rows = []
    for s in results["samples"][task_name]:
        lls = [float(r[0]) for r in s["filtered_resps"]]
        rows.append({"id": s["doc"]["id"], **{f"ll_{j}": v for j, v in enumerate(lls)},
                     "acc": float(s["acc"]), "acc_norm": float(s["acc_norm"])})
    samples = pd.DataFrame(rows).sort_values("id", kind="stable").reset_index(drop=True)
    return {
        "acc": float(metrics["acc,none"]),
        "acc_stderr": float(metrics.get("acc_stderr,none", math.nan)),
        "acc_norm": float(metrics["acc_norm,none"]),
        "acc_norm_stderr": float(metrics.get("acc_norm_stderr,none", math.nan)),
        "n": len(rows),
        "samples": samples,
    }
