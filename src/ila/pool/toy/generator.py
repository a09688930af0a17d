"""Drawing toy examples: the family registry, the length budget, the
round-robin over (family, depth) cells, and the independent solver."""

from __future__ import annotations

import json
import os
import random
from typing import Iterable, Sequence

from ila.io import atomic_path

from . import arithmetic, chained, counting, dates, sorting, string_edit, unit_conversion
from ._common import _ANSWER, FAMILIES, MAX_CHARS, MAX_COST, MAX_DEPTH, MAX_REDRAWS, MIN_DEPTH, _problem_text, _response

# public API

_MODULES = {
    "arithmetic": arithmetic,
    "string_edit": string_edit,
    "sorting": sorting,
    "unit_conversion": unit_conversion,
    "counting": counting,
    "dates": dates,
    "chained": chained,
}
_GENERATORS = {name: m.draw for name, m in _MODULES.items()}
_SOLVERS = {name: m.solve for name, m in _MODULES.items()}


def _within_budget(text: str) -> bool:
    """True when a text fits the length budget (:data:`MAX_CHARS`,
    :data:`MAX_COST`)."""
    digits = sum(c.isdigit() for c in text)
    return len(text) <= MAX_CHARS and len(text) + digits <= MAX_COST


def _make_example(family: str, depth: int, rng: random.Random, template: int | None = None,
                  flip: bool = False) -> dict:
    if template is None and not flip:
        instruction, input_, steps, labels, answer = _GENERATORS[family](rng, depth)
    else:
        instruction, input_, steps, labels, answer = _GENERATORS[family](rng, depth, template=template, flip=flip)
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
    fams = check_arguments(n, seed, families, min_depth, max_depth)
    cells = [(f, d) for f in fams for d in range(min_depth, max_depth + 1)]
    records = [rec for rec, _ in draw_cells([cells[i % len(cells)] for i in range(n)], f"ila.pool.toy:{seed}")]
    random.Random(f"ila.pool.toy.order:{seed}").shuffle(records)
    return records


def draw_cells(
    cells: Sequence[tuple[str, int]],
    stream: str,
    banned: set[tuple[str, str]] | frozenset = frozenset(),
) -> list[tuple[dict, tuple]]:
    """Draw one example per (family, depth) in `cells`: example i from its
    own ``random.Random(f"{stream}:{i}")``, redrawn from the same stream
    while it repeats an earlier example, exceeds the length budget, or has
    an (instruction, input) in `banned`. Returns (record, state) pairs in
    cell order, where `state` is the generator state the accepted draw
    started from (replaying it with :func:`redraw` gives the same draw, or a
    rephrasing or its flipped task)."""
    seen: set[tuple[str, str, str]] = set()
    out: list[tuple[dict, tuple]] = []
    for i, (family, depth) in enumerate(cells):
        rng = random.Random(f"{stream}:{i}")
        for _ in range(MAX_REDRAWS):
            state = rng.getstate()
            rec = _make_example(family, depth, rng)
            key = (rec["instruction"], rec["input"], rec["output"])
            if key not in seen and key[:2] not in banned and _within_budget("".join(key)):
                break
        else:
            raise ValueError(
                f"could not draw a new distinct {family!r} example of depth {depth} within "
                f"the length budget after "
                f"{MAX_REDRAWS} tries (example {i} of n={len(cells)}): n is too large for this cell"
            )
        seen.add(key)
        out.append((rec, state))
    return out


def redraw(
    family: str,
    depth: int,
    state: tuple,
    template: int | None = None,
    flip: bool = False,
    rng: random.Random | None = None,
) -> dict:
    """Replay a draw from its generator `state` (see :func:`draw_cells`):
    with `template` set, the same data under instruction template number
    `template`; with `flip`, the response to the flipped task (the other
    sort order, + for -, multiply for divide, ...) under the same prompt.
    `rng` replaces the plain generator (e.g. one that nudges a number)."""
    rng = rng if rng is not None else random.Random()
    rng.setstate(state)
    return _make_example(family, depth, rng, template=template, flip=flip)


def within_budget(rec: dict) -> bool:
    """True when an example's instruction + input + output fits the length
    budget."""
    return _within_budget(rec["instruction"] + rec["input"] + rec["output"])


def check_arguments(n, seed, families, min_depth, max_depth) -> list[str]:
    """Validate the arguments of :func:`generate`; returns the families."""
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
    return fams
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
