"""The embedded default instruction pool: a deterministic synthetic pool of
short, checkable reasoning tasks.

Seven task families (the example's ``domain``):

- ``arithmetic``: a nested integer expression, one operation per step;
- ``string_edit``: a chain of edits on a word (reverse, delete, insert,
  replace, swap);
- ``sorting``: sort numbers or words by repeated selection of the
  smallest/largest (alphabetically first/last) item;
- ``unit_conversion``: convert a quantity through a chain of adjacent units
  (time, data size, metric and imperial length, mass);
- ``counting``: count the occurrences of several letters in a phrase and add
  them up;
- ``dates``: calendar arithmetic (add/subtract days or weeks, name the
  weekday);
- ``chained``: string transforms, then a count, then integer operations.

The information depth of an example is its number of reasoning steps
(``steps``, 1..5): the response shows them one per line and ends with the
final answer::

    Step 1: 7 + 5 = 12
    Step 2: 12 * 3 = 36
    Answer: 36

``labels`` lists the skills the example combines (at least one). Every family
has six instruction templates that differ in wording and in whether the data
sits in ``input`` or inline in ``instruction``, so the family's instructions
spread in embedding space while staying recognisable.

Texts are kept short for a tiny model with a 256-token context: numbers are
small, and every example fits a length budget over prompt plus response
(:data:`MAX_CHARS` characters, :data:`MAX_COST` when digits count twice); a
draw over the budget is redrawn.

Determinism: every example is drawn from its own ``random.Random`` seeded with
a string built from the seed and the example's index, using only
``randrange``/``randint``/``choice``/``shuffle``/``sample``, whose output is
fixed across machines and Python versions from 3.11 on. Examples are unique
by (instruction, input, output): a draw that repeats an earlier example is
redrawn from the same stream.

:func:`solve` recomputes an answer from the problem text alone with a small
parser per family, independent of the generator's internal values, so every
generated answer can be checked.
"""

from __future__ import annotations

import ast
import datetime as _dt
import json
import os
import random
import re
from fractions import Fraction
from typing import Callable, Iterable, Sequence

from ila.io import atomic_path

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


# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# arithmetic

_ARITH_TEMPLATES: tuple[Callable[[str], tuple[str, str]], ...] = (
    lambda e: (f"Work out the value of {e} step by step.", ""),
    lambda e: ("Evaluate the following arithmetic expression.", e),
    lambda e: (f"What is {e}? Show each step.", ""),
    lambda e: ("Calculate the result of this expression one operation at a time.", e),
    lambda e: (f"Please simplify {e} and give the final number.", ""),
    lambda e: ("Solve the arithmetic problem below.", f"{e} = ?"),
)
_ARITH_LABEL = {"+": "addition", "-": "subtraction", "*": "multiplication"}


def _gen_arithmetic(rng: random.Random, depth: int) -> tuple[str, str, list[str], list[str], str]:
    cur = rng.randint(2, 20)
    expr = str(cur)
    steps: list[str] = []
    ops: list[str] = []
    for _ in range(depth):
        choices = ["+", "-"] + (["*"] if cur <= 40 else [])
        if cur < 2:
            choices.remove("-")
        op = rng.choice(choices)
        inner = f"({expr})" if " " in expr else expr
        if op == "+":
            b = rng.randint(1, 20)
            new = cur + b
        elif op == "-":
            b = rng.randint(1, cur - 1)
            new = cur - b
        else:
            b = rng.randint(2, 9)
            new = cur * b
        if op != "-" and rng.randrange(3) == 0:
            expr = f"{b} {op} {inner}"
            steps.append(f"{b} {op} {cur} = {new}")
        else:
            expr = f"{inner} {op} {b}"
            steps.append(f"{cur} {op} {b} = {new}")
        ops.append(op)
        cur = new
    instruction, input_ = rng.choice(_ARITH_TEMPLATES)(expr)
    labels = _unique(_ARITH_LABEL[o] for o in ops)
    return instruction, input_, steps, labels, str(cur)


_EXPR_RE = re.compile(r"[\d(][\d()+*\- ]*[\d)]")


def _eval_int_expr(node: ast.AST) -> int:
    if isinstance(node, ast.Expression):
        return _eval_int_expr(node.body)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp):
        a, b = _eval_int_expr(node.left), _eval_int_expr(node.right)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
    raise ValueError(f"unsupported arithmetic element: {ast.dump(node)}")


def _solve_arithmetic(text: str) -> str:
    cands = [m.group(0) for m in _EXPR_RE.finditer(text) if re.search(r"[+*\-]", m.group(0))]
    if not cands:
        raise ValueError("arithmetic: no expression found in the problem text")
    expr = max(cands, key=len)
    return str(_eval_int_expr(ast.parse(expr, mode="eval")))


# --------------------------------------------------------------------------
# string edits

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


def _gen_string_edit(rng: random.Random, depth: int):
    word = rng.choice(_WORDS4)
    start = word
    phrases: list[str] = []
    steps: list[str] = []
    skills: list[str] = []
    for _ in range(depth):
        # Reversing or swapping twice in a row would undo the previous step.
        cands = [c for c in _edit_candidates(rng, word)
                 if not (c[0] in ("reverse", "swap") and skills and skills[-1] == c[0])]
        skill, phrase, step, new = rng.choice(cands)
        phrases.append(phrase)
        steps.append(f"{step} -> '{new}'")
        skills.append(skill)
        word = new
    instruction, input_ = rng.choice(_EDIT_TEMPLATES)(start, phrases)
    return instruction, input_, steps, _unique(skills), word


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


# --------------------------------------------------------------------------
# sorting

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


# --------------------------------------------------------------------------
# unit conversion

# Chains of adjacent units, largest first: (dimension, [(singular, plural)],
# [factor between unit k and unit k+1]).
_UNIT_CHAINS: tuple[tuple[str, tuple[tuple[str, str], ...], tuple[int, ...]], ...] = (
    ("time", (("fortnight", "fortnights"), ("week", "weeks"), ("day", "days"), ("hour", "hours"),
              ("minute", "minutes"), ("second", "seconds"), ("millisecond", "milliseconds")),
     (2, 7, 24, 60, 60, 1000)),
    ("data_size", (("terabyte", "terabytes"), ("gigabyte", "gigabytes"), ("megabyte", "megabytes"),
                   ("kilobyte", "kilobytes"), ("byte", "bytes"), ("bit", "bits")),
     (1000, 1000, 1000, 1000, 8)),
    ("metric_length", (("kilometer", "kilometers"), ("hectometer", "hectometers"),
                       ("decameter", "decameters"), ("meter", "meters"), ("decimeter", "decimeters"),
                       ("centimeter", "centimeters"), ("millimeter", "millimeters")),
     (10, 10, 10, 10, 10, 10)),
    ("imperial_length", (("mile", "miles"), ("furlong", "furlongs"), ("chain", "chains"),
                         ("yard", "yards"), ("foot", "feet"), ("inch", "inches")),
     (8, 10, 22, 3, 12)),
    ("mass", (("tonne", "tonnes"), ("kilogram", "kilograms"), ("gram", "grams"),
              ("milligram", "milligrams")), (1000, 1000, 1000)),
)
_UNIT_MAX_VALUE = 30  # largest quantity in the larger unit
_UNIT_MAX_NUMBER = 10**10  # every number in an example stays below this
_UNIT_TEMPLATES: tuple[Callable[[str, str], tuple[str, str]], ...] = (
    lambda q, dst: (f"Please convert {q} to {dst}.", ""),
    lambda q, dst: (f"How many {dst} are there in {q}?", ""),
    lambda q, dst: (f"Express the quantity in the input in {dst}.", q),
    lambda q, dst: (f"Going unit by unit, turn {q} into {dst}.", ""),
    lambda q, dst: (f"A quantity is given below. Convert it to {dst}.", q),
    lambda q, dst: (f"What is {q} in {dst}?", ""),
)


def _gen_unit_conversion(rng: random.Random, depth: int):
    # Every (chain, start) segment of `depth` conversions whose largest
    # number stays below _UNIT_MAX_NUMBER for a value of at least 1.
    segments = []
    for dim, units, factors in _UNIT_CHAINS:
        for lo in range(len(factors) - depth + 1):
            ratio = 1
            for f in factors[lo: lo + depth]:
                ratio *= f
            if ratio < _UNIT_MAX_NUMBER:
                segments.append((dim, units, factors, lo, ratio))
    dim, units, factors, lo, ratio = rng.choice(segments)
    seg_units = list(units[lo: lo + depth + 1])
    seg_factors = list(factors[lo: lo + depth])
    top = min(_UNIT_MAX_VALUE, (_UNIT_MAX_NUMBER - 1) // ratio)
    down = rng.randrange(2) == 0
    steps: list[str] = []
    if down:  # large unit -> small unit: multiply
        value = cur = rng.randint(1, top)
        for k, f in enumerate(seg_factors):
            new = cur * f
            steps.append(f"{_plural(cur, *seg_units[k])} * {f} = {_plural(new, *seg_units[k + 1])}")
            cur = new
        src, dst = seg_units[0], seg_units[-1]
    else:  # small unit -> large unit: divide
        target = rng.randint(1, top)
        value = target
        for f in seg_factors:
            value *= f
        cur = value
        for k, f in enumerate(reversed(seg_factors)):
            new = cur // f
            steps.append(f"{_plural(cur, *seg_units[-1 - k])} / {f} = {_plural(new, *seg_units[-2 - k])}")
            cur = new
        src, dst = seg_units[-1], seg_units[0]
    instruction, input_ = rng.choice(_UNIT_TEMPLATES)(_plural(value, *src), dst[1])
    labels = [dim, "multiplication" if down else "division"]
    return instruction, input_, steps, labels, _plural(cur, *dst)


# Size of each unit in its dimension's smallest unit, written out separately
# from the generator's chains.
_UNIT_SIZE: dict[str, tuple[str, int, str, str]] = {}
for _dim, _size, _sing, _plur in (
    ("t", 14 * 86_400_000, "fortnight", "fortnights"),
    ("t", 7 * 86_400_000, "week", "weeks"),
    ("t", 86_400_000, "day", "days"),
    ("t", 3_600_000, "hour", "hours"),
    ("t", 60_000, "minute", "minutes"),
    ("t", 1000, "second", "seconds"),
    ("t", 1, "millisecond", "milliseconds"),
    ("b", 8 * 10**12, "terabyte", "terabytes"),
    ("b", 8 * 10**9, "gigabyte", "gigabytes"),
    ("b", 8 * 10**6, "megabyte", "megabytes"),
    ("b", 8 * 10**3, "kilobyte", "kilobytes"),
    ("b", 8, "byte", "bytes"),
    ("b", 1, "bit", "bits"),
    ("m", 1_000_000, "kilometer", "kilometers"),
    ("m", 100_000, "hectometer", "hectometers"),
    ("m", 10_000, "decameter", "decameters"),
    ("m", 1000, "meter", "meters"),
    ("m", 100, "decimeter", "decimeters"),
    ("m", 10, "centimeter", "centimeters"),
    ("m", 1, "millimeter", "millimeters"),
    ("i", 63_360, "mile", "miles"),
    ("i", 7920, "furlong", "furlongs"),
    ("i", 792, "chain", "chains"),
    ("i", 36, "yard", "yards"),
    ("i", 12, "foot", "feet"),
    ("i", 1, "inch", "inches"),
    ("g", 10**9, "tonne", "tonnes"),
    ("g", 10**6, "kilogram", "kilograms"),
    ("g", 10**3, "gram", "grams"),
    ("g", 1, "milligram", "milligrams"),
):
    _UNIT_SIZE[_sing] = (_dim, _size, _sing, _plur)
    _UNIT_SIZE[_plur] = (_dim, _size, _sing, _plur)
_UNIT_WORD_RE = re.compile(r"(?:(\d+) )?\b(" + "|".join(sorted(_UNIT_SIZE, key=len, reverse=True)) + r")\b")


def _solve_unit_conversion(text: str) -> str:
    source = target = None
    for m in _UNIT_WORD_RE.finditer(text):
        if m.group(1) is not None and source is None:
            source = (int(m.group(1)), _UNIT_SIZE[m.group(2)])
        elif m.group(1) is None and target is None:
            target = _UNIT_SIZE[m.group(2)]
    if source is None or target is None:
        raise ValueError("unit_conversion: need a quantity and a target unit in the problem text")
    value, (dim, size, _, _) = source
    tdim, tsize, tsing, tplur = target
    if dim != tdim:
        raise ValueError(f"unit_conversion: cannot convert {dim!r} units into {tdim!r} units")
    out = Fraction(value * size, tsize)
    if out.denominator != 1:
        raise ValueError(f"unit_conversion: result {out} is not a whole number")
    n = int(out)
    return _plural(n, tsing, tplur)


# --------------------------------------------------------------------------
# counting


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


def _gen_counting(rng: random.Random, depth: int):
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
    instruction, input_ = rng.choice(_COUNT_TEMPLATES)(_letters_phrase(letters), phrase)
    labels = ["counting"] + (["addition"] if depth > 1 else [])
    return instruction, input_, steps, labels, str(total)


def _solve_counting(text: str) -> str:
    quoted = _QUOTED_RE.findall(text)
    letters = [q for q in quoted if len(q) == 1]
    phrases = [q for q in quoted if len(q) >= 2]
    if not letters or not phrases:
        raise ValueError("counting: need quoted letters and a quoted phrase in the problem text")
    return str(sum(phrases[0].count(c) for c in letters))


# --------------------------------------------------------------------------
# dates

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DATE_FORMATS: tuple[Callable[[_dt.date], str], ...] = (
    lambda d: d.isoformat(),
    lambda d: f"{d.day} {_MONTHS[d.month - 1]} {d.year}",
    lambda d: f"{_MONTHS[d.month - 1]} {d.day}, {d.year}",
)
_DATE_TEMPLATES: tuple[Callable[[str, list[str]], tuple[str, str]], ...] = (
    lambda d, ops: (f"Starting from {d}, {_join_comma(ops)}. Give the result.", ""),
    lambda d, ops: ("Do the date arithmetic in the input step by step.",
                    f"start: {d}\nthen: {'; '.join(ops)}"),
    lambda d, ops: (f"Take the date {d} and {_join_comma(ops)}.", ""),
    lambda d, ops: (f"Date calculation: begin at {d}, then {_join_comma(ops)}.", ""),
    lambda d, ops: (f"Apply the following calendar operations to {d}.", _numbered(ops)),
    lambda d, ops: (f"What do you get if you {_join_comma(ops)} starting at {d}?", ""),
)
_DATE_MIN = _dt.date(2000, 1, 1).toordinal()
_DATE_MAX = _dt.date(2030, 12, 31).toordinal()


def _gen_dates(rng: random.Random, depth: int):
    start = _dt.date.fromordinal(rng.randint(_DATE_MIN, _DATE_MAX))
    weekday_last = rng.randrange(4) == 0
    n_shift = depth - 1 if weekday_last else depth
    cur = start
    phrases: list[str] = []
    steps: list[str] = []
    skills: list[str] = []
    for _ in range(n_shift):
        # The first step restates the start date in ISO form; later steps
        # continue from the date on the line above.
        here = "" if steps else f"{cur.isoformat()} "
        sign = rng.choice((1, -1))
        verb, symbol = ("add", "+") if sign > 0 else ("subtract", "-")
        if rng.randrange(3) == 0:
            w = rng.randint(1, 8)
            new = cur + sign * _dt.timedelta(days=7 * w)
            phrases.append(f"{verb} {_plural(w, 'week', 'weeks')}")
            steps.append(f"{here}{symbol} {7 * w} days = {new.isoformat()}")
            skills.append("weeks_to_days")
        else:
            n = rng.randint(1, 30)
            new = cur + sign * _dt.timedelta(days=n)
            phrases.append(f"{verb} {_plural(n, 'day', 'days')}")
            steps.append(f"{here}{symbol} {_plural(n, 'day', 'days')} = {new.isoformat()}")
        skills.append("date_addition" if sign > 0 else "date_subtraction")
        cur = new
    if weekday_last:
        answer = _WEEKDAYS[cur.weekday()]
        phrases.append("name the weekday")
        steps.append(f"{cur.isoformat() if not steps else 'that'} is a {answer}")
        skills.append("weekday")
    else:
        answer = cur.isoformat()
    date_text = rng.choice(_DATE_FORMATS)(start)
    instruction, input_ = rng.choice(_DATE_TEMPLATES)(date_text, phrases)
    return instruction, input_, steps, _unique(skills), answer


_MONTH_ALT = "|".join(_MONTHS)
_DATE_RE = re.compile(
    rf"(?P<iso>(\d{{4}})-(\d{{2}})-(\d{{2}}))"
    rf"|(?P<dmy>(\d{{1,2}}) ({_MONTH_ALT}) (\d{{4}}))"
    rf"|(?P<mdy>({_MONTH_ALT}) (\d{{1,2}}), (\d{{4}}))"
)
_DATE_OP_RE = re.compile(r"\b(add|subtract) (\d+) (days?|weeks?)\b|name the weekday")


def _solve_dates(text: str) -> str:
    m = _DATE_RE.search(text)
    if m is None:
        raise ValueError("dates: no start date found in the problem text")
    g = m.groups()
    if m.group("iso"):
        day = _dt.date(int(g[1]), int(g[2]), int(g[3]))
    elif m.group("dmy"):
        day = _dt.date(int(g[7]), _MONTHS.index(g[6]) + 1, int(g[5]))
    else:
        day = _dt.date(int(g[11]), _MONTHS.index(g[9]) + 1, int(g[10]))
    ordinal = day.toordinal()
    rest = text[: m.start()] + " " + text[m.end():]
    answer = None
    n_ops = 0
    for op in _DATE_OP_RE.finditer(rest):
        n_ops += 1
        if op.group(0) == "name the weekday":
            answer = _WEEKDAYS[(ordinal - 1) % 7]  # ordinal 1 (0001-01-01) is a Monday
            continue
        k = int(op.group(2)) * (7 if op.group(3).startswith("week") else 1)
        ordinal += k if op.group(1) == "add" else -k
    if n_ops == 0:
        raise ValueError("dates: no calendar operation found in the problem text")
    return answer if answer is not None else _dt.date.fromordinal(ordinal).isoformat()


# --------------------------------------------------------------------------
# chained transforms

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


def _gen_chained(rng: random.Random, depth: int):
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
            phrases.append(f"add {b}")
            steps.append(f"{value} + {b} = {new}")
        elif op == "multiply":
            b = rng.randint(2, 9)
            new = value * b
            phrases.append(f"multiply by {b}")
            steps.append(f"{value} * {b} = {new}")
        else:  # subtract
            b = rng.randint(1, max(1, value))
            new = value - b
            phrases.append(f"subtract {b}")
            steps.append(f"{value} - {b} = {new}")
        value = new
    instruction, input_ = rng.choice(_CHAIN_TEMPLATES)(start, phrases)
    return instruction, input_, steps, list(plan), str(value)


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


# --------------------------------------------------------------------------
# public API

_GENERATORS = {
    "arithmetic": _gen_arithmetic,
    "string_edit": _gen_string_edit,
    "sorting": _gen_sorting,
    "unit_conversion": _gen_unit_conversion,
    "counting": _gen_counting,
    "dates": _gen_dates,
    "chained": _gen_chained,
}
_SOLVERS = {
    "arithmetic": _solve_arithmetic,
    "string_edit": _solve_string_edit,
    "sorting": _solve_sorting,
    "unit_conversion": _solve_unit_conversion,
    "counting": _solve_counting,
    "dates": _solve_dates,
    "chained": _solve_chained,
}


def _within_budget(text: str) -> bool:
    """True when a text fits the length budget (:data:`MAX_CHARS`,
    :data:`MAX_COST`)."""
    digits = sum(c.isdigit() for c in text)
    return len(text) <= MAX_CHARS and len(text) + digits <= MAX_COST


def _make_example(family: str, depth: int, rng: random.Random) -> dict:
    instruction, input_, steps, labels, answer = _GENERATORS[family](rng, depth)
    if len(steps) != depth:  # pragma: no cover - generator invariant
        raise AssertionError(f"{family}: {len(steps)} steps drawn for depth {depth}")
    return {
        "instruction": instruction,
        "input": input_,
        "output": _response(steps, answer),
        "domain": family,
        "labels": labels,
        "steps": depth,
        "answer": answer,
    }


def generate(
    n: int,
    seed: int,
    families: Sequence[str] | None = None,
    min_depth: int = MIN_DEPTH,
    max_depth: int = MAX_DEPTH,
) -> list[dict]:
    """Generate `n` distinct examples, deterministic in `seed`.

    Example i is drawn for the (family, depth) cell ``i mod (F * D)`` of the
    round-robin over families (in the given order) x depths
    ``min_depth..max_depth``, from its own ``random.Random`` seeded with the
    seed and i, so every cell holds ``n // (F * D)`` or one more examples. The
    list is then shuffled with a generator seeded by `seed`.

    Each record has keys instruction, input ("" when the data is inline),
    output (the step-by-step response ending in ``Answer: <answer>``), domain
    (the family), labels (skills combined, >= 1), steps (the depth) and
    answer. Raises ValueError for a negative `n`, an unknown or repeated
    family, or a depth range outside 1..5, and when a cell cannot yield
    enough distinct examples.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    fams = list(FAMILIES if families is None else families)
    if not fams:
        raise ValueError("families is empty: name at least one of " + ", ".join(FAMILIES))
    for f in fams:
        if f not in FAMILIES:
            raise ValueError(f"unknown family {f!r}; known families: {', '.join(FAMILIES)}")
    dup = sorted({f for f in fams if fams.count(f) > 1})
    if dup:
        raise ValueError(f"family listed more than once: {', '.join(dup)}")
    for name, v in (("min_depth", min_depth), ("max_depth", max_depth)):
        if isinstance(v, bool) or not isinstance(v, int) or not MIN_DEPTH <= v <= MAX_DEPTH:
            raise ValueError(f"{name} must be an int in {MIN_DEPTH}..{MAX_DEPTH}, got {v!r}")
    if min_depth > max_depth:
        raise ValueError(f"min_depth ({min_depth}) is greater than max_depth ({max_depth})")

    cells = [(f, d) for f in fams for d in range(min_depth, max_depth + 1)]
    seen: set[tuple[str, str, str]] = set()
    records: list[dict] = []
    for i in range(n):
        family, depth = cells[i % len(cells)]
        rng = random.Random(f"ila.pool.toy:{seed}:{i}")
        for _ in range(MAX_REDRAWS):
            rec = _make_example(family, depth, rng)
            key = (rec["instruction"], rec["input"], rec["output"])
            if key not in seen and _within_budget("".join(key)):
                break
        else:
            raise ValueError(
                f"could not draw a new distinct {family!r} example of depth {depth} within "
                f"the length budget after "
                f"{MAX_REDRAWS} tries (example {i} of n={n}): n is too large for this cell"
            )
        seen.add(key)
        records.append(rec)
    random.Random(f"ila.pool.toy.order:{seed}").shuffle(records)
    return records


def final_answer(text: str) -> str | None:
    """The final answer in a response or a model generation: the text after
    the last ``Answer:`` up to the end of that line, stripped of whitespace;
    None when the text has no ``Answer:``. Anything a model generates on the
    lines after the answer is ignored."""
    pos = text.rfind(_ANSWER)
    if pos < 0:
        return None
    return text[pos + len(_ANSWER):].split("\n", 1)[0].strip()


def solve(record: dict) -> str:
    """Recompute the answer of a toy-pool example from its problem text
    (instruction and input) alone, with the parser of its ``domain``.

    Raises ValueError when the domain is unknown or the text cannot be
    parsed."""
    domain = record.get("domain")
    if domain not in _SOLVERS:
        raise ValueError(f"cannot solve domain {domain!r}; known families: {', '.join(FAMILIES)}")
    return _SOLVERS[domain](_problem_text(record))


def write_jsonl(records: Iterable[dict], path: str | os.PathLike) -> int:
    """Write records as UTF-8 JSON Lines (one object a line, sorted keys,
    non-ASCII kept) atomically; returns the number of lines written."""
    n = 0
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            for rec in records:
                fh.write(json.dumps(rec, sort_keys=True, ensure_ascii=False) + "\n")
                n += 1
    return n
