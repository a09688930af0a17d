"""Shared pieces of the toy-pool families: the family names, word lists,
the length budget, the response format and small text helpers."""

from __future__ import annotations

import re
from typing import Iterable


FAMILIES: tuple[str, ...] = (
    "arithmetic",
    "string_edit",
    "sorting",
    "unit_conversion",
    "counting",
    "dates",
    "chained",
)

MIN_DEPTH = 1
MAX_DEPTH = 5
# Length budget of an example, over instruction + input + output: at most
# MAX_CHARS characters, and at most MAX_COST characters when every digit is
# counted twice (the tokenizer splits digits one per token, while letters
# merge into longer tokens, so digit-heavy texts are the longest in tokens).
MAX_CHARS = 400
MAX_COST = 410
# Redraws allowed when a draw repeats an earlier example of the same pool.
MAX_REDRAWS = 500

# Plain lowercase words of 3 to 7 letters, each with at least one vowel and
# one consonant.
WORDS: tuple[str, ...] = (
    "apple", "river", "planet", "garden", "window", "silver", "candle",
    "forest", "bridge", "pocket", "orange", "rocket", "castle", "pencil",
    "monkey", "dragon", "violin", "basket", "tunnel", "island", "harbor",
    "mirror", "ladder", "button", "circle", "spider", "winter", "summer",
    "jacket", "helmet", "marble", "cotton", "copper", "meadow", "stone",
    "cloud", "bread", "chair", "table", "house", "light", "music", "water",
    "tiger", "zebra", "lemon", "melon", "grape", "peach", "plum", "kite",
    "boat", "moon", "star", "wolf", "fox", "lamp", "desk", "book", "nest",
    "frog", "duck", "goat", "horse", "sheep", "camel", "eagle", "shark",
    "whale", "crown", "sword", "shield", "tower", "valley", "canyon",
    "desert", "coffee", "butter", "cheese", "pepper", "carrot", "potato",
)
_WORDS4 = tuple(w for w in WORDS if len(w) >= 4)
_SHORT_WORDS = tuple(w for w in WORDS if len(w) <= 5)

_VOWELS = "aeiou"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_ANSWER = "Answer:"
_QUOTED_RE = re.compile(r"'([^'\n]*)'")


# shared helpers


def _response(steps: list[str], answer: str) -> str:
    lines = [f"Step {k}: {s}" for k, s in enumerate(steps, start=1)]
    lines.append(f"{_ANSWER} {answer}")
    return "\n".join(lines)


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for x in items:
        if x not in out:
            out.append(x)
    return out


def _join_then(parts: list[str]) -> str:
    return ", then ".join(parts)


def _join_comma(parts: list[str]) -> str:
    return ", ".join(parts)


def _numbered(parts: list[str]) -> str:
    return "\n".join(f"{k}. {p}" for k, p in enumerate(parts, start=1))


def _problem_text(record: dict) -> str:
    return f"{record.get('instruction', '')}\n{record.get('input', '')}"


def _plural(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _template(rng, templates: tuple, template: int | None):
    """The instruction template of a draw: the stream's choice, or template
    number `template` (a rephrasing of the same draw; the template is always
    the last draw of a family's stream, so the data stay the same)."""
    if template is None:
        return rng.choice(templates)
    return templates[template % len(templates)]


def _first_word(text: str, what: str) -> str:
    for q in _QUOTED_RE.findall(text):
        if len(q) >= 2:
            return q
    raise ValueError(f"{what}: no quoted word found in the problem text")

