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
- **Grid** (:func:`grid`): (pool fraction, budget, replicate) points,
  the same for every method. ``axes``: every budget at the largest pool
  fraction plus every pool fraction at the fixed budget; ``full``: every
  fraction x every budget.
- **Selections** (:func:`select_grid`): one :func:`ila.selection.select` per
  point, on the candidates of the point's pool fraction.
- **Table, summary, figures** (:func:`scaling_table`, :func:`summarize`,
  :func:`summary_markdown`, :func:`plot_budget`, :func:`plot_pool`,
  :func:`plot_selection`).

Seeds: a replicate re-draws everything random: its nested pool order
(:func:`pool_order_seed`), the draws and tie-breaks of every selection
(:func:`selection_seed`, the same for every method, fraction and budget, so
random selections at growing budgets are nested) and every training seed
(``derived_seed(master, "scaling", method, fraction, budget, replicate)``).
A deterministic selector (round-robin top-RID) still picks the same set at
the largest pool in every replicate; only its training seed differs there.
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
    pool_order_seed,
    pool_ranks,
    pool_size,
    run_seed,
    selection_seed,
)
from .selections import TEXT_COLUMNS, candidate_table, select_grid, selection_record
from .summary import LOWER_IS_BETTER, check_predictions, outcome, summarize, summary_markdown
from .table import LEADING, MC_COLUMNS, TEST_COLUMNS, TIMING_COLUMNS, scaling_table, timing_table

__all__ = [
    "POOL_ORDER_SALT",
    "TEXT_COLUMNS",
    "LOWER_IS_BETTER",
    "TEST_COLUMNS",
    "MC_COLUMNS",
    "TIMING_COLUMNS",
    "timing_table",
    "check_predictions",
    "outcome",
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
    "pool_order_seed",
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
