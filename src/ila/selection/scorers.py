"""Scorers for Deita's complexity and quality.

A scorer is any object with ``score(candidates: DataFrame) -> np.ndarray``
(one float per row, NaN where it cannot score) and ``describe() -> dict``.
The ``deita`` selection method calls one for complexity and one for quality
when the candidates carry no ``complexity`` / ``quality`` columns.

- :class:`DeitaScorer` implements the published Deita scorers' method
  (Liu et al. 2024, hkust-nlp/deita): the scorer LM reads Deita's
  complexity or quality prompt, the logits of the next token over "1".."6"
  are soft-maxed and the score is the expectation ``sum_i i * p_i`` (in
  [1, 6]). The real configuration names ``hkust-nlp/deita-complexity-scorer``
  and ``hkust-nlp/deita-quality-scorer``; any causal LM directory loads.
- :class:`ProxyScorer` is an offline **proxy, not Deita**: it maps a cheap
  feature (instruction length, response length, base-model response loss) to
  [1, 6] by its percentile rank among the candidates. Use it only where the
  Deita scorer models are unavailable, and say so when reporting results.

Text of a candidate: the instruction is ``instruction`` followed by
``"\\n" + input`` when ``input`` is non-empty; the response is ``output``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "COMPLEXITY_TEMPLATE",
    "QUALITY_TEMPLATE",
    "DeitaScorer",
    "ProxyScorer",
    "deita_prompt",
    "instruction_texts",
]

# Deita's prompts (deita/selection/scorer/llama_scorer.py), verbatim.
COMPLEXITY_TEMPLATE = (
    "You are a helpful assistant. Please identify the complexity score of the following user query. \n"
    "##Query: {instruction}  \n##Complexity: "
)
QUALITY_TEMPLATE = (
    "You are a helpful assistant. Please identify the quality score of the Response corresponding to "
    "the Question. \n #Question#:\n{instruction}\n#Response#:\n{output} \n##Quality: "
)
_TAILS = {"complexity": "  \n##Complexity: ", "quality": " \n##Quality: "}
KINDS = ("complexity", "quality")


def instruction_texts(candidates: pd.DataFrame) -> list[str]:
    """Instruction text of each row: instruction, plus "\\n" + input if any."""
    if "instruction" not in candidates.columns:
        raise ValueError("scoring needs an 'instruction' column in the candidates")
    ins = candidates["instruction"].fillna("").astype(str).tolist()
    if "input" not in candidates.columns:
        return ins
    inp = candidates["input"].fillna("").astype(str).tolist()
    return [f"{a}\n{b}" if b else a for a, b in zip(ins, inp)]


def _responses(candidates: pd.DataFrame) -> list[str]:
    if "output" not in candidates.columns:
        raise ValueError("quality scoring needs an 'output' column in the candidates")
    return candidates["output"].fillna("").astype(str).tolist()


def deita_prompt(kind: str, instruction: str, output: str | None = None) -> tuple[str, str]:
    """Deita's prompt split as (body, tail): ``body + tail`` is the prompt;
    the tail is the fixed text after the last placeholder (kept whole when a
    long prompt is truncated)."""
    if kind == "complexity":
        full = COMPLEXITY_TEMPLATE.format(instruction=instruction)
    elif kind == "quality":
        if output is None:
            raise ValueError("a quality prompt needs the response")
        full = QUALITY_TEMPLATE.format(instruction=instruction, output=output)
    else:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    tail = _TAILS[kind]
    return full[: len(full) - len(tail)], tail


def _parsed(digit_logits):
    """Which rows' next-token logits over "1".."6" make an answer: none is
    NaN or +inf and at least one is finite (a -inf digit just has
    probability 0). Deita's vLLM scorer returns 3.0 where an answer does not
    parse; here such a row gets no score and is counted instead."""
    import torch

    return (~torch.isnan(digit_logits).any(dim=-1) & ~torch.isposinf(digit_logits).any(dim=-1)
            & torch.isfinite(digit_logits).any(dim=-1))


class DeitaScorer:
    """Deita complexity or quality scorer on a causal LM.

    model_name_or_path: a Hugging Face name or a local directory, loaded with
    ``AutoTokenizer`` / ``AutoModelForCausalLM.from_pretrained``. kind:
    "complexity" (instruction only) or "quality" (instruction and response).
    Prompts are scored in batches of ``batch_size`` after sorting by length,
    left-padded with position ids counted from the first real token, so a
    batched score equals the one-at-a-time score of Deita's code (up to
    float rounding). A prompt longer than ``max_length`` tokens (default: the
    model's ``max_position_embeddings``) keeps its start and Deita's fixed
    tail ("##Complexity: " / "##Quality: ") and loses the middle; the number
    truncated is in ``describe()``. An answer whose digit logits are NaN or
    +inf, or all -inf (a broken or half-precision-overflowed model), does
    not parse: its score is NaN, never a default, the prompt is counted in
    ``describe()["n_unparsable"]`` and the deita method excludes it as
    ``score_missing``. score_token_ids: the ids of "1".."6";
    default: the tokenizer's tokens for those digits (an error if one is
    missing)."""

    def __init__(
        self,
        model_name_or_path: str,
        device: str = "cpu",
        kind: str = "complexity",
        batch_size: int = 8,
        max_length: int | None = None,
        dtype: Any = None,
        score_token_ids: Sequence[int] | None = None,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.model_name_or_path = str(model_name_or_path)
        self.kind = kind
        self.device = torch.device(device)
        self.batch_size = max(1, int(batch_size))
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_name_or_path)
        kwargs = {} if dtype is None else {"dtype": dtype}
        self.model = AutoModelForCausalLM.from_pretrained(self.model_name_or_path, **kwargs)
        self.model.to(self.device)
        self.model.eval()
        limit = getattr(self.model.config, "max_position_embeddings", None)
        self.max_length = int(max_length) if max_length is not None else (int(limit) if limit else None)
        self.score_token_ids = self._digit_ids(score_token_ids)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id if self.tokenizer.eos_token_id is not None else 0
        self.pad_id = int(pad)
        self.n_truncated = 0
        self.n_scored = 0
        self.n_unparsable = 0

    def _digit_ids(self, given: Sequence[int] | None) -> list[int]:
        if given is not None:
            ids = [int(i) for i in given]
            if len(ids) != 6:
                raise ValueError(f"score_token_ids needs 6 ids (for 1..6), got {len(ids)}")
            return ids
        ids = []
        unk = self.tokenizer.unk_token_id
        for digit in "123456":
            tid = self.tokenizer.convert_tokens_to_ids(digit)
            if tid is None or (unk is not None and tid == unk and self.tokenizer.unk_token != digit):
                raise ValueError(
                    f"tokenizer of {self.model_name_or_path} has no token for the digit {digit!r}; "
                    "pass score_token_ids"
                )
            ids.append(int(tid))
        return ids

    def describe(self) -> dict[str, Any]:
        return {
            "scorer": "deita",
            "kind": self.kind,
            "model": self.model_name_or_path,
            "score_token_ids": self.score_token_ids,
            "max_length": self.max_length,
            "n_scored": self.n_scored,
            "n_truncated": self.n_truncated,
            "n_unparsable": self.n_unparsable,
        }

    def prompts(self, candidates: pd.DataFrame) -> list[tuple[str, str]]:
        ins = instruction_texts(candidates)
        if self.kind == "complexity":
            return [deita_prompt("complexity", i) for i in ins]
        return [deita_prompt("quality", i, o) for i, o in zip(ins, _responses(candidates))]

    def _encode(self, body: str, tail: str) -> list[int]:
        ids = self.tokenizer(body + tail, add_special_tokens=True)["input_ids"]
        if self.max_length is None or len(ids) <= self.max_length:
            return list(ids)
        tail_ids = self.tokenizer(tail, add_special_tokens=False)["input_ids"]
        body_ids = self.tokenizer(body, add_special_tokens=True)["input_ids"]
        room = self.max_length - len(tail_ids)
        if room < 1:
            raise ValueError(f"max_length {self.max_length} cannot hold Deita's prompt tail {tail!r}")
        self.n_truncated += 1
        return list(body_ids[:room]) + list(tail_ids)

    def score_prompts(self, prompts: Sequence[tuple[str, str]]) -> np.ndarray:
        """Expected score in [1, 6] of each (body, tail) prompt; NaN, counted
        in ``n_unparsable``, where the answer does not parse (never a default
        score)."""
        import torch

        encoded = [self._encode(b, t) for b, t in prompts]
        out = np.full(len(encoded), np.nan, dtype=np.float64)
        order = np.argsort([len(e) for e in encoded], kind="stable")
        digits = torch.tensor(self.score_token_ids, device=self.device)
        weights = torch.arange(1, 7, dtype=torch.float64, device=self.device)
        for s in range(0, len(order), self.batch_size):
            batch = order[s : s + self.batch_size]
            seqs = [encoded[i] for i in batch]
            width = max(len(q) for q in seqs)
            ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for r, q in enumerate(seqs):
                ids[r, width - len(q) :] = torch.tensor(q, dtype=torch.long)
                mask[r, width - len(q) :] = 1
            pos = (mask.cumsum(dim=1) - 1).clamp(min=0)
            with torch.no_grad():
                logits = self.model(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    position_ids=pos.to(self.device),
                    logits_to_keep=1,
                ).logits[:, -1, :]
            chosen = logits.index_select(1, digits).double()
            parsed = _parsed(chosen)
            probs = torch.softmax(chosen, dim=-1)
            score = (probs * weights).sum(dim=-1)
            score[~parsed] = float("nan")
            out[batch] = score.cpu().numpy()
            self.n_unparsable += int((~parsed).sum())
        self.n_scored += len(encoded)
        return out

    def score(self, candidates: pd.DataFrame) -> np.ndarray:
        """Deita score of every row (instruction for complexity; instruction
        and response for quality)."""
        return self.score_prompts(self.prompts(candidates))


_PROXY_FEATURES = {
    "complexity": ("instruction_length",),
    "quality": ("response_length", "response_loss"),
}


class ProxyScorer:
    """A cheap offline stand-in for Deita's scorers. **A proxy, not Deita.**

    The raw feature is mapped to [1, 6] (Deita's scale) by its percentile rank
    among the scored candidates: ``1 + 5 * (rank - 1) / (n - 1)`` with average
    ranks for ties (3.5 when n = 1); a missing feature gives NaN.

    Features (higher = more complex / better):
    - complexity ``instruction_length`` (default): whitespace-separated
      tokens in the instruction text (instruction + input).
    - quality ``response_length`` (default): whitespace-separated tokens in
      the response (``output``); Deita's own quality scores grow with
      response length and detail, which is the assumption here.
    - quality ``response_loss``: minus the base model's mean per-token loss
      on the response given the instruction, ``-loss_base / T`` (columns of
      the per-example table): lower loss taken as more fluent.
    - either kind ``column:NAME``: the numeric column NAME as it is.
    """

    def __init__(self, kind: str = "complexity", feature: str | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        feature = feature or _PROXY_FEATURES[kind][0]
        if not feature.startswith("column:") and feature not in _PROXY_FEATURES[kind]:
            raise ValueError(
                f"ProxyScorer({kind!r}): unknown feature {feature!r}; "
                f"choose from {_PROXY_FEATURES[kind]} or 'column:NAME'"
            )
        self.kind = kind
        self.feature = feature

    def describe(self) -> dict[str, Any]:
        return {"scorer": "proxy (not Deita)", "kind": self.kind, "feature": self.feature}

    def raw(self, candidates: pd.DataFrame) -> np.ndarray:
        """The feature before ranking."""
        f = self.feature
        if f == "instruction_length":
            return np.array([len(t.split()) for t in instruction_texts(candidates)], dtype=np.float64)
        if f == "response_length":
            return np.array([len(t.split()) for t in _responses(candidates)], dtype=np.float64)
        if f == "response_loss":
            for col in ("loss_base", "T"):
                if col not in candidates.columns:
                    raise ValueError(f"ProxyScorer feature 'response_loss' needs column {col!r}")
            loss = pd.to_numeric(candidates["loss_base"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            t = pd.to_numeric(candidates["T"], errors="coerce").to_numpy(np.float64, na_value=np.nan)
            with np.errstate(divide="ignore", invalid="ignore"):
                v = -loss / t
            v[~(t > 0)] = np.nan
            return v
        col = f.split(":", 1)[1]
        if col not in candidates.columns:
            raise ValueError(f"ProxyScorer feature {f!r}: no column {col!r}")
        return pd.to_numeric(candidates[col], errors="coerce").to_numpy(np.float64, na_value=np.nan)

    def score(self, candidates: pd.DataFrame) -> np.ndarray:
        v = self.raw(candidates)
        v = np.where(np.isfinite(v), v, np.nan)
        rank = pd.Series(v).rank(method="average").to_numpy(np.float64, na_value=np.nan)
        n = int(np.isfinite(v).sum())
        if n <= 1:
            return np.where(np.isfinite(v), 3.5, np.nan)
        return 1.0 + 5.0 * (rank - 1.0) / (n - 1.0)
