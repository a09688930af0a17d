"""Toy family ``chained``."""

from __future__ import annotations

import random
import re
from typing import Callable

from ._common import _template, _VOWELS, _WORDS4, _first_word, _join_then, _numbered

_CHAIN_TEMPLATES: tuple[Callable[[str, list[str]], tuple[str, str]], ...] = (
    lambda w, ops: (f"Take the word '{w}', {_join_then(ops)}. What is the result?", ""),
    lambda w, ops: (f"Apply the operations in the input to the word '{w}' in order.", _numbered(ops)),
    lambda w, ops: (f"Starting with '{w}': {_join_then(ops)}.", ""),
    lambda w, ops: (f"Transform the word given below: {_join_then(ops)}.", f"'{w}'"),
    lambda w, ops: (f"Chain these steps on '{w}' and report the final value: {_join_then(ops)}.", ""),
    lambda w, ops: ("Follow the instructions in order.", f"word: '{w}'\n" + "\n".join(ops)),
)
_CHAIN_STRING_OPS = ("reverse", "uppercase", "remove_vowels", "sort_letters", "keep_first")
_CHAIN_COUNTS = ("count_letters", "count_vowels")
_CHAIN_INT_OPS = ("add", "multiply", "subtract")


def _gen_chained(rng: random.Random, depth: int, template: int | None = None, flip: bool = False):
    word = rng.choice(_WORDS4)
    start = word
    if depth == 1:
        plan = [rng.choice(_CHAIN_STRING_OPS + _CHAIN_COUNTS)]
    else:
        n_int = rng.randint(0, min(len(_CHAIN_INT_OPS), depth - 1))
        n_str = depth - 1 - n_int
        plan = rng.sample(_CHAIN_STRING_OPS, n_str)
        plan.append("count_letters" if "remove_vowels" in plan else rng.choice(_CHAIN_COUNTS))
        plan += rng.sample(_CHAIN_INT_OPS, n_int)
    value: str | int = word
    fvalue: str | int = word  # the flipped task's value (add <-> subtract)
    phrases: list[str] = []
    steps: list[str] = []
    for op in plan:
        if op == "reverse":
            new = value[::-1]
            phrases.append("reverse it")
            steps.append(f"reverse -> '{new}'")
        elif op == "uppercase":
            new = value.upper()
            phrases.append("convert it to uppercase")
            steps.append(f"uppercase -> '{new}'")
        elif op == "remove_vowels":
            new = "".join(c for c in value if c.lower() not in _VOWELS)
            phrases.append("remove its vowels")
            steps.append(f"remove vowels -> '{new}'")
        elif op == "sort_letters":
            new = "".join(sorted(value))
            phrases.append("sort its letters alphabetically")
            steps.append(f"sort the letters -> '{new}'")
        elif op == "keep_first":
            k = rng.randint(2, len(value) - 1) if len(value) >= 3 else 1
            new = value[:k]
            phrases.append(f"keep only its first {k} letters")
            steps.append(f"keep the first {k} -> '{new}'")
        elif op == "count_letters":
            new = len(value)
            phrases.append("count its letters")
            steps.append(f"count the letters -> {new}")
        elif op == "count_vowels":
            new = sum(c.lower() in _VOWELS for c in value)
            phrases.append("count its vowels")
            steps.append(f"count the vowels -> {new}")
        elif op == "add":
            b = rng.randint(1, 20)
            new = value + b
            fnew = fvalue - b if flip else None
            phrases.append(f"add {b}")
            steps.append(f"{fvalue} - {b} = {fnew}" if flip else f"{value} + {b} = {new}")
        elif op == "multiply":
            b = rng.randint(2, 9)
            new = value * b
            fnew = fvalue * b if flip else None
            phrases.append(f"multiply by {b}")
            steps.append(f"{fvalue} * {b} = {fnew}" if flip else f"{value} * {b} = {new}")
        else:  # subtract
            b = rng.randint(1, max(1, value))
            new = value - b
            fnew = fvalue + b if flip else None
            phrases.append(f"subtract {b}")
            steps.append(f"{fvalue} + {b} = {fnew}" if flip else f"{value} - {b} = {new}")
        if op in _CHAIN_INT_OPS and flip:
            fvalue = fnew
        else:
            fvalue = new if op not in _CHAIN_INT_OPS else fvalue
        value = new
    instruction, input_ = _template(rng, _CHAIN_TEMPLATES, template)(start, phrases)
    return instruction, input_, steps, list(plan), str(fvalue if flip else value)


_CHAIN_OP_RE = re.compile(
    r"reverse it|convert it to uppercase|remove its vowels|sort its letters alphabetically"
    r"|keep only its first (\d+) letters|count its letters|count its vowels"
    r"|\badd (\d+)|multiply by (\d+)|subtract (\d+)"
)


def _solve_chained(text: str) -> str:
    value: str | int = _first_word(text, "chained")
    n = 0
    for m in _CHAIN_OP_RE.finditer(text):
        n += 1
        s = m.group(0)
        if isinstance(value, str):
            if s == "reverse it":
                value = value[::-1]
            elif s == "convert it to uppercase":
                value = value.upper()
            elif s == "remove its vowels":
                value = re.sub(r"[aeiouAEIOU]", "", value)
            elif s == "sort its letters alphabetically":
                value = "".join(sorted(value))
            elif m.group(1):
                value = value[: int(m.group(1))]
            elif s == "count its letters":
                value = len(value)
            elif s == "count its vowels":
                value = len(re.findall(r"[aeiouAEIOU]", value))
            else:
                raise ValueError(f"chained: {s!r} needs a number but the value is the word {value!r}")
        else:
            if m.group(2):
                value += int(m.group(2))
            elif m.group(3):
                value *= int(m.group(3))
            elif m.group(4):
                value -= int(m.group(4))
            else:
                raise ValueError(f"chained: {s!r} needs a word but the value is the number {value}")
    if n == 0:
        raise ValueError("chained: no operation found in the problem text")
    return str(value)


draw = _gen_chained
solve = _solve_chained
