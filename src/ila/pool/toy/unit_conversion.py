"""Toy family ``unit_conversion``."""

from __future__ import annotations

import random
from fractions import Fraction
import re
from typing import Callable

from ._common import _template, _plural

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


def _gen_unit_conversion(rng: random.Random, depth: int, template: int | None = None, flip: bool = False):
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
            new = cur // f if flip else cur * f
            sym = "/" if flip else "*"
            steps.append(f"{_plural(cur, *seg_units[k])} {sym} {f} = {_plural(new, *seg_units[k + 1])}")
            cur = new
        src, dst = seg_units[0], seg_units[-1]
    else:  # small unit -> large unit: divide
        target = rng.randint(1, top)
        value = target
        for f in seg_factors:
            value *= f
        cur = value
        for k, f in enumerate(reversed(seg_factors)):
            new = cur * f if flip else cur // f
            sym = "*" if flip else "/"
            steps.append(f"{_plural(cur, *seg_units[-1 - k])} {sym} {f} = {_plural(new, *seg_units[-2 - k])}")
            cur = new
        src, dst = seg_units[-1], seg_units[0]
    instruction, input_ = _template(rng, _UNIT_TEMPLATES, template)(_plural(value, *src), dst[1])
    labels = [f"{dim}_units", "multiplication" if down else "division"] + (["unit_chaining"] if depth > 1 else [])
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


draw = _gen_unit_conversion
solve = _solve_unit_conversion
