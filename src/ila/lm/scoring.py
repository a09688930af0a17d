"""Per-example response loss and dev loss.

``response_losses`` gives, for every record, the SUMMED token cross-entropy
(nats) of its response (and eos) given its prompt: the quantity the depth
score compares between the base and the warm-up model. Batches are built
by length (sort, batch, scatter back by id), so little compute goes to
padding; padding is on the right and masked, so a batched loss equals the
batch-size-1 loss up to float rounding.
"""

from __future__ import annotations

import math
import time
from typing import Sequence

from .data import IGNORE_INDEX, PaddingCollator, pad_token_id, tokenize_records
from .prompt import PromptTemplate


def load_model(name_or_path: str, device: str = "cpu", dtype: str = "float32"):
    """Load ``(model, tokenizer)`` with ``from_pretrained`` (a local folder
    or a Hugging Face name), move the model to ``device`` and put it in eval
    mode. ``dtype``: one of float32, bfloat16, float16
    (:func:`ila.lm.model.load_causal_lm`)."""
    from transformers import AutoTokenizer

    from .model import load_causal_lm

    model = load_causal_lm(name_or_path, dtype)
    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    model.to(device)
    model.eval()
    return model, tokenizer


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Positions grouped into batches of similar length: sorted by length,
    longest first (an out-of-memory error shows at once), ties by position."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    return [order[k : k + batch_size] for k in range(0, len(order), batch_size)]


#: model types whose logits are the output projection of the decoder's last
#: hidden state and nothing else (no soft-capping or scaling), so the
#: projection can be applied to the labelled positions alone
PLAIN_HEADS = frozenset({"llama", "qwen2", "qwen3", "mistral"})


def summed_token_losses(model, batch: dict):
    """Per-row sum of the cross-entropy over the labelled positions of a
    collated batch (labels -100 are ignored), computed in float32.

    For the :data:`PLAIN_HEADS` model types the output projection and the
    softmax run on the labelled positions only (the prompt's positions are
    about half the tokens); each position's loss is the same number as from
    the full logits (tested), and the row sums add the same values in the
    same order."""
    import torch
    import torch.nn.functional as F

    target = batch["labels"][:, 1:]
    if getattr(model.config, "model_type", None) in PLAIN_HEADS:
        hidden = model.get_decoder()(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False
        ).last_hidden_state
        keep = target != IGNORE_INDEX
        logits = model.get_output_embeddings()(hidden[:, :-1][keep]).float()
        ce = torch.zeros(target.shape, dtype=logits.dtype, device=logits.device)
        ce[keep] = F.cross_entropy(logits, target[keep], reduction="none")
        return ce.sum(dim=1, dtype=torch.float64)
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False)
    logits = out.logits[:, :-1, :].float()
    ce = F.cross_entropy(
        logits.reshape(-1, logits.size(-1)), target.reshape(-1), ignore_index=IGNORE_INDEX, reduction="none"
    ).view(target.shape)
    return ce.sum(dim=1, dtype=torch.float64)


def response_losses(
    model,
    tokenizer,
    records: Sequence[dict],
    template: PromptTemplate,
    max_length: int = 256,
    batch_size: int = 64,
    device: str = "cpu",
    condition_on_prompt: bool = True,
    progress: bool = True,
    tokenized=None,
):
    """Summed response cross-entropy of every record.

    Returns ``(frame, stats)``. ``frame`` has columns id, T (response tokens
    scored, see :mod:`ila.lm.data` for the truncation policy) and loss_sum
    (nats; NaN where T == 0), one row per record in the input order.
    ``stats``: n_records, n_examples (scored), n_tokens (sum of T),
    non_pad_share (real tokens / padded batch tokens), n_batches, seconds,
    unscorable_ids (T == 0) and truncated_ids. ``condition_on_prompt=False``
    scores the response alone (``[bos] response eos``). ``tokenized``: the
    records' :func:`~ila.lm.data.tokenize_records` result, when a caller
    scores the same records with several models (tokenised once).
    """
    import numpy as np
    import pandas as pd
    import torch
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    tokset = tokenized if tokenized is not None else tokenize_records(records, tokenizer, template, max_length, condition_on_prompt)
    examples = tokset.examples
    usable = [i for i, e in enumerate(examples) if e.T > 0]
    collate = PaddingCollator(pad_token_id(tokenizer))
    losses = np.full(len(examples), np.nan, dtype=np.float64)
    real = padded = 0
    batches = [[usable[j] for j in b] for b in length_batches([len(examples[i].input_ids) for i in usable], batch_size)]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for b in tqdm(batches, desc="scoring", unit="batch", disable=not progress):
                batch = collate([examples[i] for i in b])
                real += int(batch["attention_mask"].sum())
                padded += batch["input_ids"].numel()
                batch = {k: v.to(device) for k, v in batch.items()}
                sums = summed_token_losses(model, batch).cpu().numpy()
                losses[b] = sums
    finally:
        if was_training:
            model.train()
    frame = pd.DataFrame(
        {
            "id": [e.id for e in examples],
            "T": np.array([e.T for e in examples], dtype=np.int64),
            "loss_sum": losses,
        }
    )
    stats = {
        "n_records": len(examples),
        "n_examples": len(usable),
        "n_tokens": int(sum(examples[i].T for i in usable)),
        "non_pad_share": (real / padded) if padded else float("nan"),
        "n_batches": len(batches),
        "seconds": time.perf_counter() - t0,
        "unscorable_ids": list(tokset.empty_ids),
        "truncated_ids": list(tokset.truncated_ids),
    }
    return frame, stats


def summarize_dev_losses(frame, domains: dict[str, str], clip: float | None = None) -> dict:
    """Aggregate a ``response_losses`` frame into dev-loss figures.

    token_mean: total cross-entropy / total response tokens; example_mean:
    mean over examples of the per-token loss (loss_sum / T); per_domain:
    {domain: token_mean within the domain}; domain_mean: unweighted mean of
    the per-domain token means; with ``clip``, example_mean_clipped: the
    per-example per-token loss clipped at ``clip`` before averaging (an
    unseen task can score 8-12 nats/token and swamp a plain mean).
    Examples with T == 0 are not in any mean; they are counted in
    n_unscorable. ``domains`` maps id -> domain (joined by id).
    """
    scored = frame[frame["T"] > 0]
    missing = [i for i in scored["id"] if i not in domains]
    if missing:
        raise KeyError(f"no domain for {len(missing)} id(s), e.g. {missing[:3]}")
    if len(scored) == 0:
        raise ValueError("no scorable dev example (every T == 0)")
    T = scored["T"].to_numpy(dtype=float)
    L = scored["loss_sum"].to_numpy(dtype=float)
    per_token = L / T
    dom = [domains[i] for i in scored["id"]]
    per_domain: dict[str, float] = {}
    for d in sorted(set(dom)):
        mask = [x == d for x in dom]
        per_domain[d] = float(L[mask].sum() / T[mask].sum())
    out = {
        "token_mean": float(L.sum() / T.sum()),
        "example_mean": float(per_token.mean()),
        "per_domain": per_domain,
        "domain_mean": float(sum(per_domain.values()) / len(per_domain)),
        "n_examples": int(len(scored)),
        "n_tokens": int(T.sum()),
        "n_unscorable": int((frame["T"] == 0).sum()),
    }
    if clip is not None:
        if not (clip > 0 and math.isfinite(clip)):
            raise ValueError(f"clip must be a positive finite number, got {clip}")
        out["clip"] = float(clip)
        out["example_mean_clipped"] = float(per_token.clip(max=clip).mean())
    return out


def dev_loss(
    model,
    tokenizer,
    records: Sequence[dict],
    template: PromptTemplate,
    max_length: int = 256,
    batch_size: int = 64,
    device: str = "cpu",
    clip: float | None = None,
    progress: bool = False,
    tokenized=None,
) -> dict:
    """Dev-set loss of a model: :func:`response_losses` aggregated by
    :func:`summarize_dev_losses` (records carry ``domain``; a record without
    one counts under the empty domain ""). Adds unscorable_ids.
    ``tokenized``: the records already tokenised (see :func:`response_losses`)."""
    frame, stats = response_losses(
        model, tokenizer, records, template, max_length, batch_size, device, True, progress, tokenized
    )
    domains = {r["id"]: r.get("domain", "") or "" for r in records}
    out = summarize_dev_losses(frame, domains, clip)
    out["unscorable_ids"] = stats["unscorable_ids"]
    return out
