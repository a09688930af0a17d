"""Selection candidates and the selections of every grid point."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ila import records as rec

from .grid import GridPoint, fraction_label, pool_order_seed, pool_ranks, pool_size, selection_seed

TEXT_COLUMNS = ("instruction", "input", "output")


def candidate_table(
    examples: pd.DataFrame,
    pool: pd.DataFrame,
    non_dev_ids: Sequence[str],
    dev_ids: Sequence[str],
    i0_ids: Sequence[str],
    seed: int,
) -> tuple[pd.DataFrame, dict]:
    """The selection candidates: every row of the per-example table, joined
    by id with the pool's instruction, input and output, with its
    sorted by id (each replicate draws its nested pools from these, see
    :func:`select_grid`).

    Ledger: pool rows = dev + non-dev; non-dev = warm-up I0 + candidates +
    not_scored (non-dev examples outside I0 missing from the per-example
    table). An example-table id that is not in the pool, in the dev set or in
    I0 is an error."""
    pool_ids = pd.Index(pool["id"])
    ex_ids = pd.Index(examples["id"])
    if not ex_ids.is_unique:
        raise ValueError("per-example table has duplicate ids")
    for name, other in (("dev set", dev_ids), ("warm-up set I0", i0_ids)):
        both = ex_ids.intersection(pd.Index(other))
        if len(both):
            raise ValueError(f"{len(both)} ids of the per-example table are in the {name}, e.g. {both[0]}")
    not_in_pool = ex_ids.difference(pool_ids)
    if len(not_in_pool):
        raise ValueError(f"{len(not_in_pool)} ids of the per-example table are not in the pool, e.g. {not_in_pool[0]}")
    non_dev = pd.Index(non_dev_ids)
    i0 = pd.Index(i0_ids)
    not_scored = non_dev.difference(i0).difference(ex_ids)
    text = rec.rows_by_id(pool, list(ex_ids), "pool")[["id", *TEXT_COLUMNS]]
    clash = sorted(set(TEXT_COLUMNS) & set(examples.columns))
    cand = examples.drop(columns=clash).merge(text, on="id", how="left", validate="one_to_one")
    cand = cand.sort_values("id", kind="stable").reset_index(drop=True)
    ledger = {
        "pool_rows": int(len(pool)),
        "dev": int(len(dev_ids)),
        "non_dev": int(len(non_dev)),
        "warmup_I0": int(len(i0)),
        "candidates": int(len(cand)),
        "not_scored": int(len(not_scored)),
        "candidates_without_RID": int(pd.to_numeric(cand["RID"], errors="coerce").isna().sum()) if "RID" in cand else None,
        "master_seed": int(seed),
    }
    if ledger["pool_rows"] != ledger["dev"] + ledger["non_dev"]:
        raise ValueError(f"pool has {ledger['pool_rows']} rows but dev + non-dev = {ledger['dev'] + ledger['non_dev']}")
    return cand, ledger



def _attach_scores(candidates: pd.DataFrame, scores: pd.DataFrame | None) -> pd.DataFrame:
    if scores is None:
        return candidates
    missing = pd.Index(candidates["id"]).difference(pd.Index(scores["id"]))
    if len(missing):
        raise ValueError(f"{len(missing)} candidates have no Deita score, e.g. {missing[0]}")
    cols = [c for c in ("complexity", "quality") if c in scores.columns]
    return candidates.drop(columns=[c for c in cols if c in candidates.columns]).merge(
        scores[["id", *cols]], on="id", how="left", validate="one_to_one"
    )


def select_grid(
    method: str,
    candidates: pd.DataFrame,
    points: Iterable[GridPoint],
    master_seed: int,
    embeddings: np.ndarray | None = None,
    dev_embeddings: np.ndarray | None = None,
    params: dict | None = None,
    allow_short: bool = False,
    scores: pd.DataFrame | None = None,
) -> list[tuple[GridPoint, Any]]:
    """Select with ``method`` at every grid point: on the candidates of the
    point's pool fraction in the replicate's own pool order
    (:func:`pool_order_seed`; nested within a replicate), ``budget``
    examples, seed :func:`selection_seed` (master, replicate).

    ``embeddings``: one row per row of ``candidates`` (aligned by the caller,
    e.g. with :func:`ila.embed.rows_for`); ``scores``: Deita scores (id,
    complexity, quality) joined by id. Returns (point, Selection) pairs; an
    infeasible budget raises ValueError naming the point."""
    from ila.selection import select

    cand = _attach_scores(candidates.reset_index(drop=True), scores)
    if embeddings is not None and len(embeddings) != len(cand):
        raise ValueError(f"embeddings have {len(embeddings)} rows for {len(cand)} candidates")
    out = []
    ranks: dict[int, np.ndarray] = {}
    for point in points:
        if point.replicate not in ranks:  # the replicate's own nested pool order
            order = pool_ranks(cand["id"].tolist(), pool_order_seed(master_seed, point.replicate))
            ranks[point.replicate] = order.loc[cand["id"]].to_numpy()
        mask = ranks[point.replicate] < pool_size(len(cand), point.fraction)
        sub = cand[mask]
        emb = embeddings[mask] if embeddings is not None else None
        try:
            sel = select(
                method, sub, point.budget, selection_seed(master_seed, point.replicate), emb, dev_embeddings,
                allow_short=allow_short, **(params or {}),
            )
        except ValueError as exc:
            raise ValueError(
                f"selection {method!r} at pool fraction {fraction_label(point.fraction)} "
                f"({int(mask.sum())} candidates), budget {point.budget}, replicate {point.replicate}: {exc}"
            ) from exc
        out.append((point, sel))
    return out


def selection_record(method: str, point: GridPoint, selection, n_candidates: int) -> dict:
    """The JSON written beside a selection's ids: Selection.as_dict() without
    the ids, plus the grid point, pool size and a hash of the ids."""
    from ila.io import sha256_ids

    d = selection.as_dict()
    ids = d.pop("ids")
    d.update(
        method=method,
        key=point.key,
        pool_fraction=point.fraction,
        pool_size=pool_size(n_candidates, point.fraction),
        replicate=point.replicate,
        n_selected=len(ids),
        ids_sha256=sha256_ids(ids),
    )
    return d


