"""Shared tiny fixtures for the language-model tests (no tests here): a
byte-level BPE tokenizer of vocab 300, a 2-layer hidden-32 Llama model and a
handful of instruction records."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from ila.io import stable_id  # noqa: E402

TOKENIZER_TEXTS = [
    "Return the sum of the two numbers given in the input.",
    "The quick brown fox jumps over the lazy dog, again and again.",
    "Sort the list of words in alphabetical order and return them.",
    "Reverse the string and print the result to standard output.",
    "Numbers like 2024, 1999 and 31415 are written with digits 0 1 2 3 4 5 6 7 8 9.",
    "### Instruction:\n### Input:\n### Response:\n",
] * 4


def make_record(instruction: str, input: str, output: str, domain: str = "") -> dict:
    return {
        "id": stable_id(instruction, input, output),
        "instruction": instruction,
        "input": input,
        "output": output,
        "domain": domain,
    }


def toy_records(n: int = 12, seed: int = 0) -> list[dict]:
    """Deterministic toy instruction records of varied length in two domains."""
    import random

    rng = random.Random(seed)
    out = []
    words = ["fox", "dog", "list", "string", "result", "order", "number", "return"]
    while len(out) < n:
        k = len(out)
        if k % 2 == 0:
            a, b = rng.randint(1, 999), rng.randint(1, 999)
            rec = make_record("Return the sum of the two numbers.", f"{a} and {b}", f"{a} + {b} = {a + b}", "add")
        else:
            ws = rng.sample(words, rng.randint(1, 5))
            rec = make_record("Sort the words.", " ".join(ws), " ".join(sorted(ws)), "sort")
        if all(r["id"] != rec["id"] for r in out):
            out.append(rec)
    return out


def tiny_tokenizer(out_dir):
    from ila.lm.tokenizer import train_tokenizer

    return train_tokenizer(TOKENIZER_TEXTS, 300, out_dir)


def tiny_base(tmp_dir, seed: int = 0):
    """Tokenizer + freshly built tiny model saved to ``tmp_dir``; returns
    (path, model, tokenizer)."""
    from ila.lm.model import ModelShape, build_model
    from ila.runtime import torch_threads

    torch_threads(1)
    path = str(tmp_dir)
    tok = tiny_tokenizer(path)
    model = build_model(tok, ModelShape(hidden=32, layers=2, heads=2, ffn=64, max_position=128), seed)
    model.save_pretrained(path)
    model.eval()
    return path, model, tok
