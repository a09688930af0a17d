"""The selection and accelerated-scaling study (METHOD.md, "Baselines and
evaluation"): select subsets of the candidate pool with ILA and the
baselines at several budgets and pool sizes, fine-tune the base model on
each, and compare dev loss and task accuracy.

Pieces, in the order the workflow uses them:

- **Candidates** (:func:`candidate_table`): the per-example table (every
  scored candidate, the warm-up set I0 excluded), joined by id with the
  pool's text, with a ledger of every pool row that is not a candidate.
- **Nested pool fractions** (:func:`pool_ranks`, :func:`pool_size`): the
  candidates in a seeded order of their ids; pool fraction ``f`` is the first
  ``round(f * N)`` of that order, so a smaller pool is always inside a larger
  one and the order does not depend on the row order of the input.
- **Grid** (:func:`grid`): (pool fraction, budget, replicate seed) points,
  the same for every method. ``axes``: every budget at the largest pool
  fraction plus every pool fraction at the fixed budget; ``full``: every
  fraction x every budget.
- **Selections** (:func:`select_grid`): one :func:`ila.selection.select` per
  point, on the candidates of the point's pool fraction.
- **Table, summary, figures** (:func:`scaling_table`, :func:`summarize`,
  :func:`summary_markdown`, :func:`plot_budget`, :func:`plot_pool`,
  :func:`plot_selection`).

Seeds: the pool order uses the master seed (so every replicate sees the same
nested pools); a selection uses :func:`selection_seed` (master seed,
replicate seed), the same for every method, fraction and budget, so random
selections at growing budgets are nested; a fine-tune uses
``derived_seed(master, "scaling", method, fraction, budget, replicate)``.
"""

from .figures import plot_budget, plot_pool, plot_selection
from .grid import (
    GRID_DESIGNS,
    POOL_ORDER_SALT,
    GridPoint,
    fixed_budget_of,
    fraction_label,
    grid,
    parse_key,
    pool_members,
    pool_ranks,
    pool_size,
    run_seed,
    selection_seed,
)
from .selections import TEXT_COLUMNS, candidate_table, select_grid, selection_record
from .summary import LOWER_IS_BETTER, summarize, summary_markdown
from .table import DEV_COLUMNS, LEADING, scaling_table

__all__ = [
    "POOL_ORDER_SALT",
    "TEXT_COLUMNS",
    "LOWER_IS_BETTER",
    "DEV_COLUMNS",
    "LEADING",
    "GRID_DESIGNS",
    "GridPoint",
    "fraction_label",
    "parse_key",
    "grid",
    "fixed_budget_of",
    "pool_ranks",
    "pool_size",
    "pool_members",
    "candidate_table",
    "selection_seed",
    "run_seed",
    "select_grid",
    "selection_record",
    "scaling_table",
    "summarize",
    "summary_markdown",
    "plot_budget",
    "plot_pool",
    "plot_selection",
]
