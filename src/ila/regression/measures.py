"""Coverage and depth of the regression study's subsets (:mod:`ila.regression.design`),
measured on the per-example landscape table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ila.landscape import coverage

#: the measures of a subset, in the order of :func:`measure`'s columns
MEASURE_COLUMNS = [
    "n",
    "cells",
    "coverage_grid",
    "coverage_occupied",
    "mean_RID",
    "mean_ID",
    "tokens",
    "mean_T",
    "n_domains",
]


def measure(
    examples: pd.DataFrame,
    members: pd.DataFrame,
    design: pd.DataFrame,
    total_cells: int,
    occupied_cells: int,
) -> pd.DataFrame:
    """Coverage and depth of every subset, joined by id.

    Returns one row per subset of `design` (in design order): the design
    columns, then n, cells (distinct cells reached), coverage_grid (cells /
    total_cells), coverage_occupied (cells / occupied_cells, the regression's
    coverage), mean_RID, mean_ID, tokens (sum of T), mean_T, n_domains.

    Raises ValueError when a member id is absent from `examples` (naming it),
    when a member lacks a value needed for a measure, when a subset appears in
    only one of `members` and `design`, or when a subset lists an id twice.
    """
    need = ["id", "cell", "domain", "T", "info_depth", "RID"]
    missing = [c for c in need if c not in examples.columns]
    if missing:
        raise ValueError(f"examples table lacks column(s) {missing}; has {list(examples.columns)}")
    for frame, cols, what in ((members, ["subset", "id"], "members"), (design, ["subset"], "design")):
        lack = [c for c in cols if c not in frame.columns]
        if lack:
            raise ValueError(f"{what} table lacks column(s) {lack}")
    ex = examples[need].copy()
    ex["id"] = ex["id"].astype(str)
    dup = ex["id"][ex["id"].duplicated()]
    if len(dup):
        raise ValueError(f"examples table has {len(dup)} duplicated id(s), e.g. {dup.iloc[0]!r}")
    ex = ex.set_index("id")

    mem = members[["subset", "id"]].astype(str)
    dup_pairs = mem[mem.duplicated()]
    if len(dup_pairs):
        s, i = dup_pairs.iloc[0]
        raise ValueError(f"subset {s!r} lists id {i!r} more than once ({len(dup_pairs)} duplicate rows)")
    des = design.copy()
    des["subset"] = des["subset"].astype(str)
    if des["subset"].duplicated().any():
        raise ValueError(f"design lists subset {des['subset'][des['subset'].duplicated()].iloc[0]!r} twice")
    unknown = sorted(set(mem["subset"]) - set(des["subset"]))
    if unknown:
        raise ValueError(f"members name {len(unknown)} subset(s) absent from the design, e.g. {unknown[0]!r}")
    empty = [s for s in des["subset"] if s not in set(mem["subset"])]
    if empty:
        raise ValueError(f"{len(empty)} design subset(s) have no members, e.g. {empty[0]!r}")
    absent = sorted(set(mem["id"]) - set(ex.index))
    if absent:
        raise ValueError(
            f"{len(absent)} member id(s) are absent from the examples table, e.g. {absent[0]!r} "
            f"(subset {mem['subset'][mem['id'] == absent[0]].iloc[0]!r})"
        )

    joined = mem.join(ex, on="id")
    for col in ("cell", "T", "info_depth", "RID"):
        bad = joined[col].isna()
        if bad.any():
            raise ValueError(f"member id {joined['id'][bad].iloc[0]!r} has no {col} ({int(bad.sum())} rows)")

    out_rows = []
    by_subset = dict(tuple(joined.groupby("subset", sort=False)))
    for name in des["subset"]:
        part = by_subset[name]
        cov = coverage(part["cell"].astype(np.int64).tolist(), total_cells, occupied_cells)
        tokens = int(part["T"].astype(np.int64).sum())
        n = len(part)
        out_rows.append(
            dict(
                subset=name,
                n=n,
                cells=cov.cells,
                coverage_grid=cov.grid,
                coverage_occupied=cov.occupied,
                mean_RID=float(part["RID"].astype(np.float64).mean()),
                mean_ID=float(part["info_depth"].astype(np.float64).mean()),
                tokens=tokens,
                mean_T=tokens / n,
                n_domains=int(part["domain"].astype(str).nunique()),
            )
        )
    measures = pd.DataFrame(out_rows, columns=["subset"] + MEASURE_COLUMNS)
    return des.merge(measures, on="subset", how="left", validate="one_to_one")
