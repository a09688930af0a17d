"""Toy family ``counting``."""

from __future__ import annotations

import random
from typing import Callable

from ._common import _template, WORDS, _LETTERS, _QUOTED_RE, _plural

def _letters_phrase(letters: list[str]) -> str:
    q = [f"'{c}'" for c in letters]
    if len(q) == 1:
        return f"the letter {q[0]}"
    return "the letters " + ", ".join(q[:-1]) + f" and {q[-1]}"


_COUNT_TEMPLATES: tuple[Callable[[str, str], tuple[str, str]], ...] = (
    lambda ls, p: (f"Count how many times {ls} appear in '{p}' in total.", ""),
    lambda ls, p: (f"How many times do {ls} occur in the text below? Count every occurrence.", f"'{p}'"),
    lambda ls, p: (f"In the phrase '{p}' what is the total number of occurrences of {ls}?", ""),
    lambda ls, p: (f"Find the total count of {ls} in the input.", f"'{p}'"),
    lambda ls, p: (f"Tally {ls} in '{p}' and report the sum.", ""),
    lambda ls, p: (f"Letter counting task: {ls}.", f"text: '{p}'"),
)


def _gen_counting(rng: random.Random, depth: int, template: int | None = None, flip: bool = False):
    phrase = " ".join(rng.sample(WORDS, rng.randint(2, 4)))
    present = sorted(set(phrase) - {" "})
    absent = [c for c in _LETTERS if c not in present]
    letters: list[str] = []
    for _ in range(depth):
        pool = [c for c in present if c not in letters]
        if not pool or rng.randrange(8) == 0:
            pool = [c for c in absent if c not in letters]
        letters.append(rng.choice(pool))
    steps: list[str] = []
    total = 0
    for c in letters:
        n = phrase.count(c)
        total += n
        step = f"'{c}' appears {_plural(n, 'time', 'times')}"
        if depth > 1:
            step += f" (running total {total})"
        steps.append(step)
    instruction, input_ = _template(rng, _COUNT_TEMPLATES, template)(_letters_phrase(letters), phrase)
    labels = (["letter_counting"] + (["addition"] if depth > 1 else [])
              + (["absent_letter"] if any(c not in phrase for c in letters) else []))
    return instruction, input_, steps, labels, str(total)


def _solve_counting(text: str) -> str:
    quoted = _QUOTED_RE.findall(text)
    letters = [q for q in quoted if len(q) == 1]
    phrases = [q for q in quoted if len(q) >= 2]
    if not letters or not phrases:
        raise ValueError("counting: need quoted letters and a quoted phrase in the problem text")
    return str(sum(phrases[0].count(c) for c in letters))


draw = _gen_counting
solve = _solve_counting
