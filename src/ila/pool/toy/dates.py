"""Toy family ``dates``."""

from __future__ import annotations

import datetime as _dt
import random
import re
from typing import Callable

from ._common import _template, _join_comma, _numbered, _plural, _unique

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


def _gen_dates(rng: random.Random, depth: int, template: int | None = None, flip: bool = False):
    start = _dt.date.fromordinal(rng.randint(_DATE_MIN, _DATE_MAX))
    weekday_last = rng.randrange(4) == 0
    n_shift = depth - 1 if weekday_last else depth
    cur = fcur = start
    phrases: list[str] = []
    steps: list[str] = []
    skills: list[str] = []
    for _ in range(n_shift):
        # The first step restates the start date in ISO form; later steps
        # continue from the date on the line above.
        fhere = "" if steps else f"{fcur.isoformat()} "
        sign = rng.choice((1, -1))
        verb = "add" if sign > 0 else "subtract"
        fsign = -sign if flip else sign
        symbol = "+" if fsign > 0 else "-"
        if rng.randrange(3) == 0:
            w = rng.randint(1, 8)
            new = cur + sign * _dt.timedelta(days=7 * w)
            fnew = fcur + fsign * _dt.timedelta(days=7 * w)
            phrases.append(f"{verb} {_plural(w, 'week', 'weeks')}")
            steps.append(f"{fhere}{symbol} {7 * w} days = {fnew.isoformat()}")
            skills.append("weeks_to_days")
        else:
            n = rng.randint(1, 30)
            new = cur + sign * _dt.timedelta(days=n)
            fnew = fcur + fsign * _dt.timedelta(days=n)
            phrases.append(f"{verb} {_plural(n, 'day', 'days')}")
            steps.append(f"{fhere}{symbol} {_plural(n, 'day', 'days')} = {fnew.isoformat()}")
        skills.append("date_addition" if sign > 0 else "date_subtraction")
        if new.year != cur.year:
            skills.append("year_rollover")
        elif new.month != cur.month:
            skills.append("month_rollover")
        cur, fcur = new, fnew
    if weekday_last:
        answer = _WEEKDAYS[fcur.weekday()]
        phrases.append("name the weekday")
        steps.append(f"{fcur.isoformat() if not steps else 'that'} is a {answer}")
        skills.append("weekday")
    else:
        answer = fcur.isoformat()
    date_text = rng.choice(_DATE_FORMATS)(start)
    if date_text != start.isoformat():
        skills.insert(0, "date_format_reading")
    instruction, input_ = _template(rng, _DATE_TEMPLATES, template)(date_text, phrases)
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


draw = _gen_dates
solve = _solve_dates
