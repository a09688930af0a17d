"""The study's grid (pool fraction, budget, replicate) and its nested pools and seeds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ila import records as rec

GRID_DESIGNS = ("axes", "full")
POOL_ORDER_SALT = "pool_fraction"


def fraction_label(fraction: float) -> str:
    """A pool fraction as it appears in file names: decimal, no trailing
    zeros (0.25 -> "0.25", 1.0 -> "1"). At most 6 decimals."""
    f = float(fraction)
    if not (0.0 < f <= 1.0) or not math.isfinite(f):
        raise ValueError(f"a pool fraction must be in (0, 1], got {fraction!r}")
    label = f"{f:.6f}".rstrip("0").rstrip(".")
    if float(label) != f:
        raise ValueError(f"pool fraction {fraction!r} has more than 6 decimals")
    return label


@dataclass(frozen=True, order=True)
class GridPoint:
    """One (pool fraction, budget, replicate) of the study. The replicate is
    an index: its seeds derive from it and the master seed (:func:`pool_order_seed`,
    :func:`selection_seed`, :func:`run_seed`)."""

    fraction: float
    budget: int
    replicate: int

    @property
    def key(self) -> str:
        """File stem of the point: ``f<fraction>-b<budget>-s<replicate>``."""
        return f"f{fraction_label(self.fraction)}-b{self.budget}-s{self.replicate}"


def parse_key(key: str) -> GridPoint:
    """Inverse of :attr:`GridPoint.key`."""
    try:
        f, b, s = key.split("-")
        if not (f[0] == "f" and b[0] == "b" and s[0] == "s"):
            raise ValueError
        point = GridPoint(float(f[1:]), int(b[1:]), int(s[1:]))
    except (ValueError, IndexError):
        raise ValueError(f"not a grid key (f<fraction>-b<budget>-s<replicate>): {key!r}") from None
    if point.key != key:
        raise ValueError(f"grid key {key!r} is not in canonical form ({point.key!r})")
    return point


def _unique(name: str, values: Sequence) -> list:
    values = list(values)
    if not values:
        raise ValueError(f"scaling.{name} is empty")
    dup = sorted({v for v in values if values.count(v) > 1})
    if dup:
        raise ValueError(f"scaling.{name} lists {dup} more than once")
    return values


def grid(
    fractions: Sequence[float],
    budgets: Sequence[int],
    fixed_budget: int | None,
    replicates: Sequence[int],
    design: str = "axes",
) -> list[GridPoint]:
    """The study's grid points, sorted (fraction, budget, replicate).

    ``axes``: every budget at the largest fraction, plus every fraction at
    ``fixed_budget`` (default: the largest budget); ``full``: every fraction
    x every budget (``fixed_budget`` then only names the budget of the pool
    scaling comparison, and must be one of the budgets)."""
    if design not in GRID_DESIGNS:
        raise ValueError(f"scaling.grid must be one of {GRID_DESIGNS}, got {design!r}")
    fractions = _unique("pool_fractions", [float(f) for f in fractions])
    for f in fractions:
        fraction_label(f)
    budgets = _unique("budgets", list(budgets))
    replicates = _unique("replicates", list(replicates))
    for b in budgets:
        if isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1:
            raise ValueError(f"scaling.budgets: a budget must be a positive integer, got {b!r}")
    fixed = max(budgets) if fixed_budget is None else int(fixed_budget)
    if fixed < 1:
        raise ValueError(f"scaling.fixed_budget must be positive, got {fixed_budget!r}")
    if design == "full":
        if fixed not in budgets:
            raise ValueError(f"scaling.fixed_budget {fixed} is not one of scaling.budgets {budgets} (grid: full)")
        cells = {(f, int(b)) for f in fractions for b in budgets}
    else:
        top = max(fractions)
        cells = {(top, int(b)) for b in budgets} | {(f, fixed) for f in fractions}
    return sorted(GridPoint(f, b, int(r)) for f, b in cells for r in replicates)


def fixed_budget_of(budgets: Sequence[int], fixed_budget: int | None) -> int:
    """The budget at which pool sizes are compared: ``fixed_budget``, or the
    largest budget when it is None."""
    return max(budgets) if fixed_budget is None else int(fixed_budget)


# --------------------------------------------------------------------------- pools


def pool_ranks(ids: Sequence[str], seed: int) -> pd.Series:
    """Rank (0..N-1) of each candidate id in the seeded pool order
    (:func:`ila.records.seeded_order` with salt ``pool_fraction``); indexed
    by id. Independent of the input order."""
    ids = list(ids)
    if len(set(ids)) != len(ids):
        raise ValueError("pool_ranks: duplicate candidate ids")
    order = rec.seeded_order(ids, seed, POOL_ORDER_SALT)
    return pd.Series(np.arange(len(order), dtype=np.int64), index=pd.Index(order, name="id"), name="pool_rank")


def pool_size(n_candidates: int, fraction: float) -> int:
    """Candidates in pool fraction ``fraction`` of ``n_candidates``:
    ``round(fraction * N)`` (halves up), at least 1 when N > 0."""
    fraction_label(fraction)
    if n_candidates <= 0:
        return 0
    return max(1, int(math.floor(float(fraction) * n_candidates + 0.5)))


def pool_members(candidates: pd.DataFrame, fraction: float, master_seed: int, replicate: int) -> pd.DataFrame:
    """Rows of ``candidates`` in pool fraction ``fraction`` of a replicate:
    the first pool_size(N, fraction) of its pool order (:func:`pool_order_seed`)."""
    ranks = pool_ranks(candidates["id"].tolist(), pool_order_seed(master_seed, replicate))
    size = pool_size(len(candidates), fraction)
    return candidates[ranks.loc[candidates["id"]].to_numpy() < size]


def pool_order_seed(master_seed: int, replicate: int) -> int:
    """Seed of a replicate's nested pool order: every replicate draws its own
    sub-pools (nested within the replicate), the same for every method."""
    return rec.derived_seed(master_seed, "pool_order", replicate)


def selection_seed(master_seed: int, replicate: int) -> int:
    """Seed handed to :func:`ila.selection.select` for a replicate: the same
    for every method, pool fraction and budget."""
    return rec.derived_seed(master_seed, "selection", replicate)


def run_seed(master_seed: int, method: str, point: GridPoint) -> int:
    """Training seed of one fine-tune of the study."""
    fraction = fraction_label(point.fraction)
    return rec.derived_seed(master_seed, "scaling", method, fraction, point.budget, point.replicate)
