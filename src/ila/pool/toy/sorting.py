"""Toy family ``sorting``."""

from __future__ import annotations

import random
import re
from typing import Callable

from ._common import _template, _SHORT_WORDS

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


def _sorting_skills(items: list, words: bool) -> list[str]:
    """What sorting these items exercises; the order asked (ascending or
    descending) is an option of the task, not a skill."""
    if words:
        firsts = [w[0] for w in items]
        return ["alphabetical_comparison", "selection"] + (
            ["later_letter_comparison"] if len(set(firsts)) < len(firsts) else [])
    return ["numeric_comparison", "selection"] + (
        ["digit_count_comparison"] if len({len(str(x)) for x in items}) > 1 else [])


def _gen_sorting(rng: random.Random, depth: int, template: int | None = None, flip: bool = False):
    words = rng.randrange(3) == 0
    desc = rng.randrange(2) == 0
    if words:
        items: list = rng.sample(_SHORT_WORDS, depth + 1)
        key_name = "last" if desc else "first"
    else:
        items = rng.sample(range(1, 100), depth + 1)
        key_name = "largest" if desc else "smallest"
    if flip:  # the other order
        desc_steps = not desc
        key_name = {"last": "first", "first": "last", "largest": "smallest", "smallest": "largest"}[key_name]
    else:
        desc_steps = desc
    rest = list(items)
    done: list = []
    steps: list[str] = []
    for _ in range(depth):
        pick = max(rest) if desc_steps else min(rest)
        rest.remove(pick)
        steps.append(f"{key_name} is {pick}; left: {', '.join(map(str, rest))}")
        done.append(pick)
    done.extend(rest)
    d = rng.choice(_SORT_DIRECTIONS[(words, desc)])
    kind = "words" if words else "numbers"
    instruction, input_ = _template(rng, _SORT_TEMPLATES, template)(kind, ", ".join(map(str, items)), d)
    labels = _sorting_skills(items, words)
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
