"""Greedy generation for measuring task accuracy of a tuned model."""

from __future__ import annotations

from typing import Sequence

from .data import pad_token_id


def greedy_generate(
    model,
    tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int = 64,
    batch_size: int = 32,
    device: str = "cpu",
    progress: bool = False,
) -> list[str]:
    """Greedy continuation of each prompt (in input order), cut at the first
    eos; returns only the new text. Prompts are encoded as in training
    (``[bos] prompt``, no other special tokens) and left-padded within a
    batch; batches are built by length."""
    import torch
    from tqdm.auto import tqdm

    from .scoring import length_batches

    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer defines no eos token")
    bos = tokenizer.bos_token_id
    pad = pad_token_id(tokenizer)
    encoded = []
    for p in prompts:
        ids = list(tokenizer(p, add_special_tokens=False)["input_ids"]) if p else []
        if bos is not None:
            ids = [bos] + ids
        if not ids:
            raise ValueError("cannot generate from an empty prompt when the tokenizer has no bos token")
        encoded.append(ids)
    outputs: list[str | None] = [None] * len(prompts)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for b in tqdm(length_batches([len(e) for e in encoded], batch_size), desc="generating",
                          disable=not progress):
                width = max(len(encoded[i]) for i in b)
                input_ids = torch.full((len(b), width), pad, dtype=torch.long)
                attention = torch.zeros((len(b), width), dtype=torch.long)
                for r, i in enumerate(b):
                    k = len(encoded[i])
                    input_ids[r, width - k :] = torch.as_tensor(encoded[i])
                    attention[r, width - k :] = 1
                gen = model.generate(
                    input_ids=input_ids.to(device),
                    attention_mask=attention.to(device),
                    max_new_tokens=max_new_tokens,
                    do_sample=False,
                    num_beams=1,
                    eos_token_id=eos,
                    pad_token_id=pad,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                )
                new = gen[:, width:].cpu().tolist()
                for r, i in enumerate(b):
                    toks = new[r]
                    if eos in toks:
                        toks = toks[: toks.index(eos)]
                    outputs[i] = tokenizer.decode(toks, skip_special_tokens=True)
    finally:
        if was_training:
            model.train()
    return outputs  # type: ignore[return-value]
