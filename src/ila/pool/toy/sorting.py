"""Toy family ``sorting``."""

from __future__ import annotations

import random
import re
from typing import Callable

from ._common import _SHORT_WORDS

_SORT_DIRECTIONS = {
    # (words?, descending?) -> phrasings of the order
    (False, False): ("in ascending order", "from smallest to largest"),
    (False, True): ("in descending order", "from largest to smallest"),
    (True, False): ("alphabetically", "in alphabetical order"),
    (True, True): ("in reverse alphabetical order", "from Z to A"),
}
_SORT_TEMPLATES: tuple[Callable[[str, str, str], tuple[str, str]], ...] = (
    lambda kind, items, d: (f"Sort the following {kind} {d}.", items),
    lambda kind, items, d: (f"Please put {items} {d}.", ""),
    lambda kind, items, d: (f"Arrange this list {d}: {items}", ""),
    lambda kind, items, d: (f"Order the {kind} in the input {d}.", items),
    lambda kind, items, d: (f"Can you list {items} {d}?", ""),
    lambda kind, items, d: (f"Rewrite the list {d} one pick at a time.", f"[{items}]"),
)


def _gen_sorting(rng: random.Random, depth: int):
    words = rng.randrange(3) == 0
    desc = rng.randrange(2) == 0
    if words:
        items: list = rng.sample(_SHORT_WORDS, depth + 1)
        key_name = "last" if desc else "first"
    else:
        items = rng.sample(range(1, 100), depth + 1)
        key_name = "largest" if desc else "smallest"
    rest = list(items)
    done: list = []
    steps: list[str] = []
    for _ in range(depth):
        pick = max(rest) if desc else min(rest)
        rest.remove(pick)
        steps.append(f"{key_name} is {pick}; left: {', '.join(map(str, rest))}")
        done.append(pick)
    done.extend(rest)
    d = rng.choice(_SORT_DIRECTIONS[(words, desc)])
    kind = "words" if words else "numbers"
    instruction, input_ = rng.choice(_SORT_TEMPLATES)(kind, ", ".join(map(str, items)), d)
    labels = ["sorting"] + (["descending"] if desc else []) + (["alphabetical"] if words else [])
    return instruction, input_, steps, labels, ", ".join(map(str, done))


def _solve_sorting(text: str) -> str:
    desc = bool(re.search(r"descending|largest to smallest|reverse alphabetical|from Z to A", text))
    nums = re.findall(r"\d+", text)
    if nums:
        values = sorted((int(x) for x in nums), reverse=desc)
        return ", ".join(map(str, values))
    lists = re.findall(r"[a-z]+(?:, [a-z]+)+", text)
    if not lists:
        raise ValueError("sorting: no list of numbers or words found in the problem text")
    items = max(lists, key=len).split(", ")
    return ", ".join(sorted(items, reverse=desc))


draw = _gen_sorting
solve = _solve_sorting
