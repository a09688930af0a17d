"""Worked toy problems as plain text, for pretraining the tiny base model.

A real base model has read a great deal of procedural and mathematical text
before it is fine-tuned; the embedded tiny model has read only the standard
library's docstrings, which teach it nothing about reading numbers off a
prompt. These documents are its stand-in for that text: clean problems of
the toy families, balanced over (family, depth), drawn from a stream of their
own (``ila.pool.toy.worked:<seed>``) and disjoint by (instruction, input)
from every row they are told about (the pool, dev, test and benchmark rows).
They are laid out as plain text (instruction, input and response on their
own lines), never under the fine-tuning prompt template, so the template and
the instruction-following itself are still learnt only from the selected
fine-tuning data.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .generator import check_arguments, draw_cells


def worked_text(record: dict) -> str:
    """One worked problem as a plain-text document: its instruction, input
    (when there is one) and response, one per line."""
    return "\n".join(part for part in (record["instruction"], record["input"], record["output"]) if part)


def worked_records(
    n: int,
    seed: int,
    banned: Iterable[tuple[str, str]] = (),
    families: Sequence[str] | None = None,
    min_depth: int = 1,
    max_depth: int = 5,
) -> list[dict]:
    """``n`` clean toy records cycling over the (family, depth) cells, drawn
    from the stream ``ila.pool.toy.worked:<seed>``, none of whose
    (instruction, input) is in `banned` (such a draw is redrawn).
    Deterministic in all arguments."""
    fams = check_arguments(n, seed, families, min_depth, max_depth)
    cells = [(f, d) for f in fams for d in range(min_depth, max_depth + 1)]
    drawn = draw_cells([cells[i % len(cells)] for i in range(n)], f"ila.pool.toy.worked:{seed}", set(banned))
    return [rec for rec, _ in drawn]


def worked_problems(
    n: int,
    seed: int,
    banned: Iterable[tuple[str, str]] = (),
    families: Sequence[str] | None = None,
    min_depth: int = 1,
    max_depth: int = 5,
) -> list[str]:
    """The documents (:func:`worked_text`) of :func:`worked_records`."""
    return [worked_text(rec) for rec in worked_records(n, seed, banned, families, min_depth, max_depth)]
