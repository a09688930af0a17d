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

from ._common import FAMILIES, MAX_CHARS, MAX_COST, MAX_DEPTH, MAX_REDRAWS, MIN_DEPTH, WORDS
from .generator import _GENERATORS as _GENERATORS, _SOLVERS as _SOLVERS  # the family tables, for tests
from .generator import final_answer, generate, solve, write_jsonl

__all__ = [
    "FAMILIES",
    "MAX_CHARS",
    "MAX_COST",
    "MAX_DEPTH",
    "MAX_REDRAWS",
    "MIN_DEPTH",
    "WORDS",
    "final_answer",
    "generate",
    "solve",
    "write_jsonl",
]
