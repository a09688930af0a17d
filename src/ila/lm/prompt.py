"""The prompt template that turns an instruction (and optional input) into
the text the model is conditioned on; the response follows it directly."""

from __future__ import annotations

from dataclasses import dataclass

ALPACA_WITH_INPUT = "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
ALPACA_WITHOUT_INPUT = "### Instruction:\n{instruction}\n\n### Response:\n"


@dataclass(frozen=True)
class PromptTemplate:
    """Format strings with ``{instruction}`` and ``{input}`` fields (Python
    ``str.format`` syntax: a literal brace in a template is written twice).

    with_input: used when the example's input is non-empty (after stripping
        whitespace).
    without_input: used otherwise; it must not contain ``{input}``.
    """

    with_input: str = ALPACA_WITH_INPUT
    without_input: str = ALPACA_WITHOUT_INPUT

    def __post_init__(self) -> None:
        if "{instruction}" not in self.with_input or "{input}" not in self.with_input:
            raise ValueError(f"with_input template needs {{instruction}} and {{input}}: {self.with_input!r}")
        if "{instruction}" not in self.without_input or "{input}" in self.without_input:
            raise ValueError(
                f"without_input template needs {{instruction}} and no {{input}}: {self.without_input!r}"
            )

    def format(self, instruction: str, input: str = "") -> str:
        """The prompt text for one example (braces inside the instruction or
        input are kept as they are)."""
        if input is not None and input.strip():
            return self.with_input.format(instruction=instruction, input=input)
        return self.without_input.format(instruction=instruction)
