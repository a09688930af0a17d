"""What real instruction pools suffer from, added to the clean toy pool with
a ground-truth record per row.

Knobs (all off by default, see :class:`Realism`):

- ``imbalance``: a long tail of task families. Family k (0-based, in the
  listed order) gets a share proportional to ``1 / (k + 1) ** imbalance``
  (0 = balanced, today's round-robin); depths stay balanced inside a family.
- ``near_duplicate_rate``: that fraction of the rows are near-duplicates of
  another row, in bursts of 1..``near_duplicate_burst`` copies per source
  problem: the same data under another instruction template (``rephrase``)
  or the same problem with its last drawn number moved by one
  (``numbers``, for the families whose data have free integers:
  arithmetic, unit conversion, dates, chained). Copies are correct.
- response corruptions, each at its rate over all rows, at most one per row:

  ``wrong_answer``       the right steps, then a wrong final answer;
  ``inconsistent_step``  one intermediate step states a wrong result while
                         the next steps and the answer continue from the
                         right one (rows with at least two steps);
  ``terse``              the answer line without the steps;
  ``truncated``          the response cut off before its answer line (a
                         generation that hit its token limit);
  ``mismatched``         the response of another problem of the same
                         family (a misaligned pair).

Ground truth (never written into the pool table): per row ``corruption``
(``none`` or one of the kinds above), ``dup_burst`` (the id of the burst's
source row for the source and its copies, "" otherwise) and ``dup_kind``
(``source``, ``rephrase``, ``numbers`` or ""). A corrupted row's ``answer``
key is the answer its response states ("" when none), so the raw records do
not carry the truth either.
"""

from __future__ import annotations

import datetime as _dt
import random
import re
from dataclasses import dataclass, fields
from typing import Sequence

from ila.io import stable_id

from ._common import _ANSWER, _plural, _response
from .dates import _WEEKDAYS
from .generator import check_arguments, draw_cells, final_answer, redraw, within_budget
from .unit_conversion import _UNIT_SIZE

CORRUPTIONS: tuple[str, ...] = ("wrong_answer", "inconsistent_step", "terse", "truncated", "mismatched")
NUMBER_FAMILIES = frozenset({"arithmetic", "unit_conversion", "dates", "chained"})
TRUTH_COLUMNS = ["id", "domain", "steps", "corruption", "dup_burst", "dup_kind"]


@dataclass(frozen=True)
class Realism:
    """The pool-realism knobs (``pool.toy`` in the config); all zero gives
    the clean pool."""

    imbalance: float = 0.0
    near_duplicate_rate: float = 0.0
    near_duplicate_burst: int = 4
    wrong_answer_rate: float = 0.0
    inconsistent_step_rate: float = 0.0
    terse_rate: float = 0.0
    truncated_rate: float = 0.0
    mismatched_rate: float = 0.0

    @classmethod
    def from_config(cls, toy_cfg: dict) -> "Realism":
        """The knobs from a ``pool.toy`` mapping (other keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in toy_cfg.items() if k in names})

    def rate(self, kind: str) -> float:
        return float(getattr(self, f"{kind}_rate"))

    def check(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"pool.toy.{f.name} must be a non-negative number, got {v!r}")
        for name in ["near_duplicate_rate"] + [f"{k}_rate" for k in CORRUPTIONS]:
            if getattr(self, name) >= 1:
                raise ValueError(f"pool.toy.{name} must be below 1, got {getattr(self, name)!r}")
        total = sum(self.rate(k) for k in CORRUPTIONS)
        if total >= 1:
            raise ValueError(
                "pool.toy: the corruption rates ("
                + ", ".join(f"{k}_rate" for k in CORRUPTIONS) + f") sum to {total:.3f}; they must sum below 1"
            )
        if int(self.near_duplicate_burst) != self.near_duplicate_burst or self.near_duplicate_burst < 1:
            raise ValueError(f"pool.toy.near_duplicate_burst must be a positive int, got {self.near_duplicate_burst!r}")


def family_counts(n: int, families: Sequence[str], imbalance: float) -> dict[str, int]:
    """Rows per family: shares ``1 / (k + 1) ** imbalance`` rounded by the
    largest remainder (ties to the earlier family)."""
    w = [1.0 / (k + 1) ** imbalance for k in range(len(families))]
    total = sum(w)
    raw = [n * x / total for x in w]
    counts = [int(r) for r in raw]
    order = sorted(range(len(families)), key=lambda k: (-(raw[k] - counts[k]), k))
    for k in order[: n - sum(counts)]:
        counts[k] += 1
    return dict(zip(families, counts))


def pool_cells(n: int, families: Sequence[str], min_depth: int, max_depth: int, imbalance: float) -> list[tuple[str, int]]:
    """The (family, depth) of each original row: today's round-robin when
    `imbalance` is 0, else the long-tail family counts with depths
    round-robin inside each family."""
    depths = list(range(min_depth, max_depth + 1))
    if imbalance == 0:
        cells = [(f, d) for f in families for d in depths]
        return [cells[i % len(cells)] for i in range(n)]
    out: list[tuple[str, int]] = []
    for f, k in family_counts(n, families, imbalance).items():
        out.extend((f, depths[j % len(depths)]) for j in range(k))
    return out


class _Nudge(random.Random):
    """A generator whose `target`-th ``randint`` result moves by one (up, or
    down at the top of its range); counts ``randint`` calls in ``calls``."""

    def __init__(self, target: int = -1):
        super().__init__()
        self.target = target
        self.calls = 0

    def randint(self, a: int, b: int) -> int:
        v = super().randint(a, b)
        if self.calls == self.target and b > a:
            v = v + 1 if v < b else v - 1
        self.calls += 1
        return v


_NUM_RE = re.compile(r"\d+")


def _one_number_changed(a: dict, b: dict) -> bool:
    """True when b's problem text is a's with exactly one number changed."""
    ta, tb = a["instruction"] + "\n" + a["input"], b["instruction"] + "\n" + b["input"]
    if _NUM_RE.sub("#", ta) != _NUM_RE.sub("#", tb):
        return False
    return sum(x != y for x, y in zip(_NUM_RE.findall(ta), _NUM_RE.findall(tb))) == 1


def _near_duplicate(rec: dict, state: tuple, kind: str, rng: random.Random, seen: set) -> dict | None:
    """A rephrasing or a numbers-nudged copy of `rec`, or None when none is
    new and within the length budget."""
    fam, depth = rec["domain"], rec["steps"]
    tries: list[dict] = []
    if kind == "numbers":
        counter = _Nudge()
        redraw(fam, depth, state, rng=counter)
        if counter.calls:
            cand = redraw(fam, depth, state, rng=_Nudge(counter.calls - 1))
            if _one_number_changed(rec, cand):
                tries.append(cand)
    else:
        for t in rng.sample(range(6), 6):
            tries.append(redraw(fam, depth, state, template=t))
    for cand in tries:
        if (cand["instruction"], cand["input"]) not in seen and within_budget(cand):
            return cand
    return None


# --------------------------------------------------------------------------
# wrong values

_ISO_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INT_RE = re.compile(r"^-?\d+$")
_QTY_RE = re.compile(r"^(\d+) ([a-z]+)$")


def wrong_value(value: str, rng: random.Random) -> str:
    """A plausible wrong value of the same format as `value`: a date moved
    by 1-3 days, another weekday, two neighbours of a list swapped, an
    integer (or quantity) moved by 1-3, a word with one letter changed.
    Always differs from `value`."""
    if _ISO_RE.match(value):
        d = _dt.date.fromisoformat(value) + _dt.timedelta(days=rng.choice((-3, -2, -1, 1, 2, 3)))
        return d.isoformat()
    if value in _WEEKDAYS:
        return rng.choice([w for w in _WEEKDAYS if w != value])
    if ", " in value:
        items = value.split(", ")
        k = rng.randrange(len(items) - 1)
        items[k], items[k + 1] = items[k + 1], items[k]
        return ", ".join(items)
    if _INT_RE.match(value):
        n = int(value)
        deltas = [d for d in (-3, -2, -1, 1, 2, 3) if n + d >= 0 or n < 0]
        return str(n + rng.choice(deltas))
    m = _QTY_RE.match(value)
    if m and m.group(2) in _UNIT_SIZE:
        n = int(m.group(1))
        _, _, sing, plur = _UNIT_SIZE[m.group(2)]
        new = n + rng.choice([d for d in (-3, -2, -1, 1, 2, 3) if n + d >= 0])
        return _plural(new, sing, plur)
    if value:
        k = rng.randrange(len(value))
        pool = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if value[k].isupper() else "abcdefghijklmnopqrstuvwxyz"
        return value[:k] + rng.choice([c for c in pool if c != value[k]]) + value[k + 1:]
    return "x"


_RESULT_SPLIT = (" = ", " -> ", " is a ")
_COUNT_RE = re.compile(r"^'(.)' appears (\d+) times?(.*)$")
_PICK_RE = re.compile(r"^(\w+) is (.+?); left: (.+)$")


def wrong_step(step: str, rng: random.Random) -> str:
    """The step line with a wrong stated result (see :func:`wrong_value`)."""
    m = _COUNT_RE.match(step)
    if m:
        n = int(m.group(2))
        return f"'{m.group(1)}' appears {_plural(int(wrong_value(str(n), rng)), 'time', 'times')}{m.group(3)}"
    m = _PICK_RE.match(step)
    if m:  # sorting: a wrong pick, swapped with the first item left
        left = m.group(3).split(", ")
        pick, left[0] = left[0], m.group(2)
        return f"{m.group(1)} is {pick}; left: {', '.join(left)}"
    for sep in _RESULT_SPLIT:
        if sep in step:
            head, tail = step.rsplit(sep, 1)
            quoted = len(tail) >= 2 and tail[0] == tail[-1] == "'"
            new = wrong_value(tail[1:-1] if quoted else tail, rng)
            return f"{head}{sep}{repr_quoted(new) if quoted else new}"
    raise ValueError(f"no result to change in step {step!r}")  # pragma: no cover - every family's steps match


def repr_quoted(text: str) -> str:
    return f"'{text}'"


def _steps(output: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in output.split("\n") if line.startswith("Step ")]


def corrupt_response(rec: dict, kind: str, rng: random.Random, other: dict | None = None) -> str:
    """The response of `rec` with corruption `kind` (``mismatched`` takes
    `other`'s response)."""
    steps, answer = _steps(rec["output"]), rec["answer"]
    if kind == "wrong_answer":
        return _response(steps, wrong_value(answer, rng))
    if kind == "inconsistent_step":
        k = rng.randrange(len(steps) - 1)
        steps = steps[:k] + [wrong_step(steps[k], rng)] + steps[k + 1:]
        return _response(steps, answer)
    if kind == "terse":
        return f"{_ANSWER} {answer}"
    if kind == "truncated":
        body = rec["output"][: rec["output"].rfind(_ANSWER)].rstrip("\n")
        cut = rng.randint(min(len(body), max(len("Step 1: ") + 2, len(body) // 3)), len(body))
        return body[:cut].rstrip()
    if kind == "mismatched":
        return other["output"]
    raise ValueError(f"unknown corruption {kind!r}; known: {', '.join(CORRUPTIONS)}")


def _eligible(kind: str, rec: dict) -> bool:
    return kind != "inconsistent_step" or rec["steps"] >= 2


def make_pool(
    n: int,
    seed: int,
    families: Sequence[str] | None = None,
    min_depth: int = 1,
    max_depth: int = 5,
    realism: Realism | None = None,
) -> tuple[list[dict], list[dict]]:
    """The toy pool with the realism knobs applied: (records, truth), truth
    one dict per record with :data:`TRUTH_COLUMNS` (``id`` is
    :func:`ila.io.stable_id` of the row's texts, the id the ingest gives
    it). With every knob off the records are :func:`generate`'s, byte for
    byte. Raises ValueError naming the knob when a rate cannot be met."""
    realism = realism or Realism()
    realism.check()
    fams = check_arguments(n, seed, families, min_depth, max_depth)
    n_dup = round(realism.near_duplicate_rate * n)
    cells = pool_cells(n - n_dup, fams, min_depth, max_depth, realism.imbalance)
    drawn = draw_cells(cells, f"ila.pool.toy:{seed}")
    records = [dict(rec) for rec, _ in drawn]
    truth = [{"corruption": "none", "dup_burst": -1, "dup_kind": ""} for _ in records]

    # Near-duplicates in bursts.
    seen = {(r["instruction"], r["input"]) for r in records}
    rng = random.Random(f"ila.pool.toy.dup:{seed}")
    sources = list(range(len(drawn)))
    rng.shuffle(sources)
    made = 0
    for src in sources:
        if made >= n_dup:
            break
        burst = min(rng.randint(1, int(realism.near_duplicate_burst)), n_dup - made)
        rec, state = drawn[src]
        copies = 0
        for _ in range(burst):
            kind = "numbers" if rec["domain"] in NUMBER_FAMILIES and rng.randrange(2) == 0 else "rephrase"
            cand = _near_duplicate(rec, state, kind, rng, seen)
            if cand is None and kind == "numbers":
                kind, cand = "rephrase", _near_duplicate(rec, state, "rephrase", rng, seen)
            if cand is None:
                continue
            seen.add((cand["instruction"], cand["input"]))
            records.append(cand)
            truth.append({"corruption": "none", "dup_burst": src, "dup_kind": kind})
            copies += 1
        if copies:
            truth[src]["dup_kind"] = "source"
            truth[src]["dup_burst"] = src
            made += copies
    if made < n_dup:
        raise ValueError(f"pool.toy.near_duplicate_rate: made {made} of {n_dup} near-duplicates; lower the rate")

    # Response corruptions at exact counts, at most one per row.
    rng = random.Random(f"ila.pool.toy.corrupt:{seed}")
    order = list(range(len(records)))
    rng.shuffle(order)
    by_family: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        by_family.setdefault(r["domain"], []).append(i)
    taken: set[int] = set()
    clean = [dict(r) for r in records]
    for kind in CORRUPTIONS:
        want = round(realism.rate(kind) * len(records))
        rows = [i for i in order if i not in taken and _eligible(kind, records[i])][:want]
        if len(rows) < want:
            raise ValueError(f"pool.toy.{kind}_rate: only {len(rows)} rows can take it, {want} wanted")
        for i in rows:
            rec = records[i]
            row_rng = random.Random(f"ila.pool.toy.corrupt:{seed}:{i}")
            other = None
            if kind == "mismatched":
                others = [j for j in by_family[rec["domain"]] if clean[j]["answer"] != rec["answer"]]
                if not others:
                    raise ValueError(f"pool.toy.mismatched_rate: no other {rec['domain']!r} answer to take a response from")
                other = clean[row_rng.choice(others)]
            out = corrupt_response(rec, kind, row_rng, other)
            rec["output"] = out
            rec["answer"] = final_answer(out) or ""
            truth[i]["corruption"] = kind
            taken.add(i)

    ids = [stable_id(r["instruction"], r["input"], r["output"]) for r in records]
    for i, t in enumerate(truth):
        t["id"] = ids[i]
        t["domain"] = records[i]["domain"]
        t["steps"] = records[i]["steps"]
        t["dup_burst"] = ids[t["dup_burst"]] if t["dup_burst"] >= 0 else ""
    perm = list(range(len(records)))
    random.Random(f"ila.pool.toy.order:{seed}").shuffle(perm)
    return [records[i] for i in perm], [{k: truth[i][k] for k in TRUTH_COLUMNS} for i in perm]
