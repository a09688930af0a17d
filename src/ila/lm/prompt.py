"""The prompt template that turns an instruction (and optional input) into
the text the model is conditioned on; the response follows it directly.

With ``chat_template`` (config ``model.prompt.chat_template``) the text is
the model's own chat template instead: the record's conversation before its
last assistant turn, rendered by ``tokenizer.apply_chat_template`` with the
generation prompt (:func:`ila.pool.formats.chat_prompt`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

ALPACA_WITH_INPUT = "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
ALPACA_WITHOUT_INPUT = "### Instruction:\n{instruction}\n\n### Response:\n"
CHAT_TEMPLATE_KEY = "model.prompt.chat_template"


@dataclass(frozen=True)
class PromptTemplate:
    """Format strings with ``{instruction}`` and ``{input}`` fields (Python
    ``str.format`` syntax: a literal brace in a template is written twice).

    with_input: used when the example's input is non-empty (after stripping
        whitespace).
    without_input: used otherwise; it must not contain ``{input}``.
    chat_template: render records with the tokenizer's chat template
        instead of the two format strings (:meth:`render`).
    """

    with_input: str = ALPACA_WITH_INPUT
    without_input: str = ALPACA_WITHOUT_INPUT
    chat_template: bool = False

    def __post_init__(self) -> None:
        if "{instruction}" not in self.with_input or "{input}" not in self.with_input:
            raise ValueError(f"with_input template needs {{instruction}} and {{input}}: {self.with_input!r}")
        if "{instruction}" not in self.without_input or "{input}" in self.without_input:
            raise ValueError(
                f"without_input template needs {{instruction}} and no {{input}}: {self.without_input!r}"
            )
        if not isinstance(self.chat_template, bool):
            raise ValueError(f"{CHAT_TEMPLATE_KEY} must be true or false, got {self.chat_template!r}")

    def format(self, instruction: str, input: str = "") -> str:
        """The prompt text for one example under the format strings (braces
        inside the instruction or input are kept as they are)."""
        if input is not None and input.strip():
            return self.with_input.format(instruction=instruction, input=input)
        return self.without_input.format(instruction=instruction)

    def render(self, record: Mapping, tokenizer=None) -> str:
        """The text the model is conditioned on for one record (a dict with
        ``instruction`` and ``input``, optionally ``messages`` and
        ``system``): :meth:`format` of its instruction and input, or, with
        ``chat_template``, ``tokenizer.apply_chat_template`` of the turns
        before its last assistant turn (:func:`ila.pool.formats.record_turns`)
        with the generation prompt. A leading bos token in the rendered text
        is dropped: every stage puts the tokenizer's bos id before the prompt
        itself. Raises ValueError naming the key and the model when the
        tokenizer has no chat template."""
        if not self.chat_template:
            return self.format(record["instruction"], record.get("input", ""))
        if tokenizer is None:
            raise ValueError(f"{CHAT_TEMPLATE_KEY} is true: rendering a prompt needs the model's tokenizer")
        if not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                f"{CHAT_TEMPLATE_KEY} is true, but the tokenizer of {getattr(tokenizer, 'name_or_path', '')!r} "
                f"has no chat template; use a model that ships one, or set {CHAT_TEMPLATE_KEY}: false "
                f"for the prompt template"
            )
        from ila.pool.formats import chat_prompt, record_turns

        text, _ = chat_prompt(record_turns(record), tokenizer)
        bos = tokenizer.bos_token
        if bos and text.startswith(bos):
            text = text[len(bos):]
        return text


def check_config(config: Mapping) -> None:
    """``model.prompt`` settings that cannot run, rejected before any job
    starts (the schema checks each key alone). Raises ValueError naming the
    key."""
    model = config["model"]
    try:
        template = PromptTemplate(**model["prompt"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"model.prompt: {exc}") from None
    if template.chat_template and model["base"] == "tiny":
        raise ValueError(
            f"{CHAT_TEMPLATE_KEY}: true, but model.base is tiny, whose tokenizer (trained in the workflow) has "
            f"no chat template; name a chat model in model.base, or set {CHAT_TEMPLATE_KEY}: false"
        )
