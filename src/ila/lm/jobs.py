"""Stage-level functions of the workflow's language-model jobs: the corpus
file, sequence lengths for shard plans, and scoring one shard under several
models. Each reads and returns plain tables so the jobs stay thin."""

from __future__ import annotations

import json
import logging
from typing import Mapping, Sequence

import pandas as pd

from .prompt import PromptTemplate

log = logging.getLogger(__name__)


def pretraining_corpus(docstrings: Sequence[str], worked: Sequence[str], seed: int) -> list[str]:
    """The tiny base model's corpus: the docstring documents, and, when there
    are worked problems (:mod:`ila.pool.toy.worked`), both kinds shuffled
    together by a generator seeded from `seed`, so every pretraining block
    mixes them. Without worked problems the docstrings come back as they
    are, in their order."""
    if not worked:
        return list(docstrings)
    import random

    docs = [*docstrings, *worked]
    random.Random(f"ila.lm.corpus:{seed}").shuffle(docs)
    return docs


def read_corpus(path: str) -> list[str]:
    """Documents of a corpus file written by the corpus job (JSON Lines with
    a `text` field)."""
    docs = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                docs.append(json.loads(line)["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a corpus line ({exc})") from None
    if not docs:
        raise ValueError(f"{path}: empty corpus")
    return docs


def sequence_lengths(tokenizer_name: str, records: Sequence[dict], template: PromptTemplate, max_length: int) -> list[int]:
    """Token length of every record as the scorer will see it (prompt +
    response + eos, cut at max_length), in record order."""
    from transformers import AutoTokenizer

    from .data import tokenize_records

    tok = AutoTokenizer.from_pretrained(tokenizer_name)
    return [len(e.input_ids) for e in tokenize_records(records, tok, template, max_length).examples]


def score_models(
    models: Mapping[str, str],
    records: Sequence[dict],
    template: PromptTemplate,
    max_length: int = 256,
    batch_size: int = 64,
    device: str = "cpu",
    uncond: Sequence[str] = (),
) -> tuple[pd.DataFrame, dict]:
    """Summed response loss of every record under each named model.

    Returns a table with id, T and one ``loss_<name>`` column per model
    (records in the given order), and per-model scoring stats. Every model
    must count the same response tokens for an example (they share a
    tokenizer), else it is an error. Models named in `uncond` also score
    the response alone, without its prompt (``loss_<name>_uncond`` and
    ``T_uncond``; the IFD baseline needs them for the base model)."""
    from .scoring import load_model, response_losses

    table = pd.DataFrame({"id": [r["id"] for r in records]})
    stats = {}
    if not records:  # a shard with no batch (more shards than batches)
        table["T"] = pd.Series(dtype="int64")
        for name in models:
            table[f"loss_{name}"] = pd.Series(dtype="float64")
        for name in uncond:
            table["T_uncond"] = pd.Series(dtype="int64")
            table[f"loss_{name}_uncond"] = pd.Series(dtype="float64")
        return table, stats
    for name, path in models.items():
        model, tok = load_model(path, device)
        frame, st = response_losses(model, tok, records, template, max_length, batch_size, device)
        if "T" not in table:
            table["T"] = frame["T"].to_numpy()
        elif not (table["T"].to_numpy() == frame["T"].to_numpy()).all():
            raise ValueError(f"model {name!r} counts different response tokens than the first model: tokenizers differ")
        table[f"loss_{name}"] = frame["loss_sum"].to_numpy()
        stats[name] = _stats(name, st)
        if name in uncond:
            frame, st = response_losses(model, tok, records, template, max_length, batch_size, device, condition_on_prompt=False)
            if "T_uncond" in table and not (table["T_uncond"].to_numpy() == frame["T"].to_numpy()).all():
                raise ValueError(f"model {name!r} counts different response tokens than the first model: tokenizers differ")
            table["T_uncond"] = frame["T"].to_numpy()
            table[f"loss_{name}_uncond"] = frame["loss_sum"].to_numpy()
            stats[f"{name}_uncond"] = _stats(f"{name} (response alone)", st)
        del model
    return table, stats


def _stats(name: str, st: dict) -> dict:
    out = {k: v for k, v in st.items() if k not in ("unscorable_ids", "truncated_ids")}
    out["unscorable"] = len(st["unscorable_ids"])
    out["truncated"] = len(st["truncated_ids"])
    log.info(
        "%s: %d examples, %d response tokens, %.1f%% real (non-pad) tokens, %.1f s",
        name, st["n_examples"], st["n_tokens"], 100 * st["non_pad_share"], st["seconds"],
    )
    return out
