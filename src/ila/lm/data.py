"""Tokenisation of instruction records for fine-tuning and scoring, and the
padding collator.

A record is a dict with ``id``, ``instruction``, ``input`` and ``output``
(and, for ``model.prompt.chat_template``, optionally ``messages`` and
``system``; the prompt is :meth:`PromptTemplate.render` of the record).
Its sequence is::

    [bos]  prompt tokens  response tokens  eos
    ^ only if the tokenizer defines a bos token

with labels equal to the token ids on the response and the eos token and
-100 everywhere else (bos, prompt, padding). Prompt and response are
tokenised separately (``add_special_tokens=False``) and concatenated, so
the prompt/response boundary is exact whatever the tokenizer merges.

Truncation policy: the sequence is cut at ``max_length`` tokens on the
right, so the prompt is kept whole and the end of the response (and its
eos) is lost first. ``T`` is the number of response tokens kept that carry
a loss: the labelled positions after the first one (position 0 has no
preceding context, so a causal LM never predicts it). An example with
``T == 0`` (the prompt fills ``max_length``, or the response is empty and
the eos was cut) can be neither trained on nor scored; it is returned by id
in ``TokenizedSet.empty_ids``, never dropped silently.

With ``condition_on_prompt=False`` the sequence is ``[bos] response eos``:
the response scored alone, as the IFD baseline needs. Without a bos token
the first response token is then context only and is not counted in T.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .prompt import PromptTemplate

IGNORE_INDEX = -100
REQUIRED_FIELDS = ("id", "instruction", "input", "output")


@dataclass
class TokenizedExample:
    """One tokenised record: ``labels`` is -100 outside the response."""

    id: str
    input_ids: list[int]
    labels: list[int]
    T: int
    truncated: bool


@dataclass
class TokenizedSet:
    """Tokenised records in input order. ``examples`` holds every record
    (including those with T == 0); ``empty_ids`` lists the ids with T == 0;
    ``truncated_ids`` the ids whose sequence was cut at max_length."""

    examples: list[TokenizedExample]
    empty_ids: list[str] = field(default_factory=list)
    truncated_ids: list[str] = field(default_factory=list)

    @property
    def usable(self) -> list[TokenizedExample]:
        """The examples with at least one scored response token."""
        return [e for e in self.examples if e.T > 0]


def check_record(record: dict, index: int) -> None:
    """Raise a ValueError naming the record (position and id) and the field
    when a required text field is missing or not a string."""
    for key in REQUIRED_FIELDS:
        if key not in record:
            raise ValueError(f"record #{index} (id={record.get('id')!r}): missing field {key!r}")
        value = record[key]
        if not isinstance(value, str):
            raise ValueError(
                f"record #{index} (id={record.get('id')!r}): field {key!r} must be str, got {type(value).__name__}"
            )


def _encode(tokenizer, text: str) -> list[int]:
    if not text:
        return []
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def encode_example(
    tokenizer,
    prompt: str | None,
    response: str,
    max_length: int,
    example_id: str = "",
) -> TokenizedExample:
    """Tokenise one prompt/response pair (``prompt=None``: the response
    alone) under the module's truncation policy."""
    if max_length < 2:
        raise ValueError(f"max_length must be at least 2, got {max_length}")
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the tokenizer defines no eos token; responses must end with one")
    bos = tokenizer.bos_token_id
    head = [bos] if bos is not None else []
    prompt_ids = head + (_encode(tokenizer, prompt) if prompt is not None else [])
    response_ids = _encode(tokenizer, response) + [eos]
    input_ids = prompt_ids + response_ids
    labels = [IGNORE_INDEX] * len(prompt_ids) + list(response_ids)
    truncated = len(input_ids) > max_length
    input_ids = input_ids[:max_length]
    labels = labels[:max_length]
    if labels:
        labels[0] = IGNORE_INDEX  # never predicted by a causal LM
    T = sum(1 for x in labels if x != IGNORE_INDEX)
    return TokenizedExample(id=example_id, input_ids=input_ids, labels=labels, T=T, truncated=truncated)


def tokenize_records(
    records: Sequence[dict],
    tokenizer,
    template: PromptTemplate,
    max_length: int = 256,
    condition_on_prompt: bool = True,
) -> TokenizedSet:
    """Tokenise records (in their order) into input_ids / labels. Ids must be
    unique. Every record is returned; those with T == 0 are also listed in
    ``empty_ids``."""
    examples: list[TokenizedExample] = []
    empty: list[str] = []
    truncated: list[str] = []
    seen: set[str] = set()
    for i, rec in enumerate(records):
        check_record(rec, i)
        rid = rec["id"]
        if rid in seen:
            raise ValueError(f"record #{i}: duplicate id {rid!r}")
        seen.add(rid)
        prompt = template.render(rec, tokenizer) if condition_on_prompt else None
        ex = encode_example(tokenizer, prompt, rec["output"], max_length, example_id=rid)
        examples.append(ex)
        if ex.T == 0:
            empty.append(rid)
        if ex.truncated:
            truncated.append(rid)
    return TokenizedSet(examples=examples, empty_ids=empty, truncated_ids=truncated)


def pad_token_id(tokenizer) -> int:
    """The id used for padding: the tokenizer's pad token, else its eos
    (padding is masked out of attention and loss, so the value is inert)."""
    pid = tokenizer.pad_token_id
    if pid is None:
        pid = tokenizer.eos_token_id
    if pid is None:
        raise ValueError("the tokenizer defines neither a pad nor an eos token")
    return int(pid)


@dataclass
class PaddingCollator:
    """Collate features (dicts with ``input_ids`` and ``labels``, or
    :class:`TokenizedExample` objects) into right-padded tensors:
    input_ids (padded with ``pad_id``), attention_mask (0 on padding) and
    labels (-100 on padding). Other keys are ignored."""

    pad_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, features: Sequence[Any]) -> dict:
        import torch

        rows = [(_get(f, "input_ids"), _get(f, "labels")) for f in features]
        width = max(len(ids) for ids, _ in rows)
        if self.pad_to_multiple_of:
            m = self.pad_to_multiple_of
            width = (width + m - 1) // m * m
        n = len(rows)
        input_ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        attention = torch.zeros((n, width), dtype=torch.long)
        labels = torch.full((n, width), IGNORE_INDEX, dtype=torch.long)
        for i, (ids, lab) in enumerate(rows):
            if len(ids) != len(lab):
                raise ValueError(f"feature {i}: input_ids ({len(ids)}) and labels ({len(lab)}) differ in length")
            k = len(ids)
            input_ids[i, :k] = torch.as_tensor(ids, dtype=torch.long)
            attention[i, :k] = 1
            labels[i, :k] = torch.as_tensor(lab, dtype=torch.long)
        return {"input_ids": input_ids, "attention_mask": attention, "labels": labels}


def _get(feature: Any, key: str):
    if isinstance(feature, dict):
        return feature[key]
    return getattr(feature, key)
