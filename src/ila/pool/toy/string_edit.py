"""Toy family ``string_edit``."""

from __future__ import annotations

import random
import re
from typing import Callable

from ._common import _template, _LETTERS, _QUOTED_RE, _WORDS4, _join_then, _numbered, _unique

_EDIT_TEMPLATES: tuple[Callable[[str, list[str]], tuple[str, str]], ...] = (
    lambda w, e: (f"Apply these edits in order to the word '{w}': {_join_then(e)}.", ""),
    lambda w, e: ("Start from the given word and apply the edits one by one.",
                  f"word: '{w}'\nedits: {'; '.join(e)}"),
    lambda w, e: (f"Take the string '{w}', {_join_then(e)}. What string do you get?", ""),
    lambda w, e: (f"Edit the word below as follows: {_join_then(e)}.", f"'{w}'"),
    lambda w, e: (f"Perform the string edits listed in the input on '{w}'.", _numbered(e)),
    lambda w, e: ("Here is a word with a list of edits; return the edited word.",
                  f"'{w}'\n" + "\n".join(e)),
)


def _edit_candidates(rng: random.Random, word: str) -> list[tuple[str, str, str, str]]:
    """(skill, phrase, step text, result) for every edit that changes `word`."""
    out: list[tuple[str, str, str, str]] = []
    out.append(("reverse", "reverse it", "reverse", word[::-1]))
    if len(word) >= 3:
        out.append(("delete", "remove the first letter", "remove first", word[1:]))
        out.append(("delete", "remove the last letter", "remove last", word[:-1]))
    if len(word) <= 8:
        c = rng.choice(_LETTERS)
        out.append(("insert", f"append the letter '{c}'", f"append '{c}'", word + c))
        c = rng.choice(_LETTERS)
        out.append(("insert", f"prepend the letter '{c}'", f"prepend '{c}'", c + word))
    old = rng.choice(sorted(set(word)))
    new = rng.choice([c for c in _LETTERS if c != old])
    out.append(("replace", f"replace every '{old}' with '{new}'", f"replace '{old}' with '{new}'",
                word.replace(old, new)))
    out.append(("swap", "swap the first and last letters", "swap ends",
                word[-1] + word[1:-1] + word[0]))
    return [c for c in out if c[3] != word]


_STEP_RE = re.compile(r"(reverse|remove first|remove last|swap ends)|(append|prepend) '(.)'|replace '(.)' with '(.)'")


def _flip_edit(step: str) -> str:
    """The step text of the flipped edit (the distractor of the
    multiple-choice benchmark): first/last, append/prepend and the two
    letters of a replacement swapped; reverse and swap stay."""
    m = _STEP_RE.fullmatch(step)
    if m.group(1):
        return {"remove first": "remove last", "remove last": "remove first"}.get(step, step)
    if m.group(2):
        return f"{'prepend' if m.group(2) == 'append' else 'append'} '{m.group(3)}'"
    return f"replace '{m.group(5)}' with '{m.group(4)}'"


def _apply_edit(word: str, step: str) -> str:
    m = _STEP_RE.fullmatch(step)
    if step == "reverse":
        return word[::-1]
    if step == "remove first":
        return word[1:]
    if step == "remove last":
        return word[:-1]
    if step == "swap ends":
        return word[-1] + word[1:-1] + word[0] if len(word) >= 2 else word
    if m.group(2):
        return word + m.group(3) if m.group(2) == "append" else m.group(3) + word
    return word.replace(m.group(4), m.group(5))


def _gen_string_edit(rng: random.Random, depth: int, template: int | None = None, flip: bool = False):
    word = rng.choice(_WORDS4)
    start = fword = word
    phrases: list[str] = []
    steps: list[str] = []
    skills: list[str] = []
    for _ in range(depth):
        # Reversing or swapping twice in a row would undo the previous step.
        cands = [c for c in _edit_candidates(rng, word)
                 if not (c[0] in ("reverse", "swap") and skills and skills[-1] == c[0])]
        skill, phrase, step, new = rng.choice(cands)
        phrases.append(phrase)
        if flip:
            fstep = _flip_edit(step)
            fword = _apply_edit(fword, fstep)
            steps.append(f"{fstep} -> '{fword}'")
        else:
            steps.append(f"{step} -> '{new}'")
        skills.append(skill)
        word = new
    instruction, input_ = _template(rng, _EDIT_TEMPLATES, template)(start, phrases)
    return instruction, input_, steps, _unique(skills), fword if flip else word


_EDIT_RE = re.compile(
    r"reverse it"
    r"|remove the (first|last) letter"
    r"|append the letter '([a-z])'"
    r"|prepend the letter '([a-z])'"
    r"|replace every '([a-z])' with '([a-z])'"
    r"|swap the first and last letters"
)


def _first_word(text: str, what: str) -> str:
    for q in _QUOTED_RE.findall(text):
        if len(q) >= 2:
            return q
    raise ValueError(f"{what}: no quoted word found in the problem text")


def _solve_string_edit(text: str) -> str:
    word = _first_word(text, "string_edit")
    n = 0
    for m in _EDIT_RE.finditer(text):
        s = m.group(0)
        n += 1
        if s == "reverse it":
            word = word[::-1]
        elif m.group(1) == "first":
            word = word[1:]
        elif m.group(1) == "last":
            word = word[:-1]
        elif m.group(2):
            word = word + m.group(2)
        elif m.group(3):
            word = m.group(3) + word
        elif m.group(4):
            word = word.replace(m.group(4), m.group(5))
        else:
            word = word[-1] + word[1:-1] + word[0] if len(word) >= 2 else word
    if n == 0:
        raise ValueError("string_edit: no edit found in the problem text")
    return word


draw = _gen_string_edit
solve = _solve_string_edit
