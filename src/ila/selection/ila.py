"""ILA selection (METHOD.md, "ILA selection") and its ablations.

- ``ila-roundrobin`` (the first reading): group the candidates by cell;
  inside a cell order them by RID, highest first; take them round-robin
  across cells (rank 1 of every cell, then rank 2, ...) until the budget is
  met; inside one round the cell whose candidate has the higher RID goes
  first.
- ``ila-tilt`` (knob kappa): the same round-robin over cells (uniform
  quotas) or quotas proportional to cell size, but inside a cell the
  candidates are drawn without replacement with P(x) proportional to
  exp(kappa * RID) (Gumbel-top-k on the seeded id hash): kappa = 0 is
  stratified random, kappa = inf is round-robin top-RID.
- ``ila-band`` (knob: an RID window [lo, hi]): round-robin over cells
  drawing, in a seeded random order, only candidates whose RID lies in the
  window ("drop the shallow third" is [1/3, 1]).
- ``ila``: the dev-loss-modelled ILA. For every knob of its variant (tilt
  or band) it makes the selection, predicts that selection's dev loss with
  the dev-loss model (:mod:`ila.devloss`, fitted on dev-evaluated runs
  only) and returns the selection with the lowest prediction.
- ablations: ``depth`` (RID only), ``coverage`` (cells only), ``random``.

Every tie is broken by the seeded hash of the id
(:func:`ila.selection.base.seeded_hash`), then by the id. Cost: a few
lexsorts over the eligible candidates plus one sha256 per id, O(N log N)
per knob, vectorised.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .base import CandidatePool, MethodResult, register

__all__ = ["rank_within_cell", "roundrobin", "tilt", "band", "modelled", "depth", "coverage", "random",
           "parse_kappa", "DEFAULT_KAPPAS", "DEFAULT_WINDOWS"]

#: the knobs the modelled ILA chooses from (config selection.ila)
DEFAULT_KAPPAS = (0.0, 1.0, 2.0, 4.0, 8.0, "inf")
DEFAULT_WINDOWS = ((0.0, 1.0), (0.25, 1.0), (1 / 3, 1.0), (0.5, 1.0), (2 / 3, 1.0))


def _mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a second, independent-looking key from a hash."""
    z = h.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def rank_within_cell(codes: np.ndarray, *keys: np.ndarray) -> np.ndarray:
    """0-based rank of every row inside its cell, ordering a cell's rows by
    ``keys`` (numpy.lexsort convention: the last key is the primary one;
    smaller first). Ties left by the keys go to the earlier row."""
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((*keys, codes))
    sc = codes[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    sizes = np.diff(np.r_[starts, n])
    rank_sorted = np.arange(n, dtype=np.int64) - np.repeat(starts, sizes)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    return rank


def _cells(pool: CandidatePool) -> tuple[np.ndarray, np.ndarray]:
    """Missing-cell mask and integer codes (sorted cell labels) of all rows."""
    cell = pool.column("cell")
    missing = cell.isna().to_numpy()
    codes = np.full(len(pool), -1, dtype=np.int64)
    if (~missing).any():
        codes[~missing] = pd.factorize(cell[~missing], sort=True)[0]
    return missing, codes


def _round_robin_info(rank: np.ndarray, n_cells: int) -> dict[str, Any]:
    if len(rank) == 0:
        return {"rounds": 0, "cells_in_last_round": 0, "n_cells_eligible": n_cells}
    last = int(rank.max())
    return {
        "rounds": last + 1,
        "cells_in_last_round": int((rank == last).sum()),
        "n_cells_eligible": n_cells,
    }


@register("ila-roundrobin")
def roundrobin(pool: CandidatePool) -> MethodResult:
    """Coverage first, depth inside: round-robin over cells by RID rank.

    Needs columns ``cell`` and ``RID``. Excluded: ``cell_missing``,
    ``rid_missing`` (missing or non-finite RID)."""
    cell_missing, codes = _cells(pool)
    rid = pool.numeric("RID")
    rid_missing = ~np.isfinite(rid) & ~cell_missing
    elig = np.flatnonzero(~cell_missing & ~rid_missing)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    c, r, h = codes[elig], rid[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h, -r)
    order = np.lexsort((h, -r, rank))[:k]
    info.update(_round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(
        indices=elig[order],
        excluded={"cell_missing": int(cell_missing.sum()), "rid_missing": int(rid_missing.sum())},
        info=info,
    )


def parse_kappa(kappa) -> float:
    """A tilt strength: a non-negative number, or "inf" (round-robin top-RID)."""
    if isinstance(kappa, str):
        if kappa.strip().lower() in ("inf", "infinity"):
            return math.inf
        raise ValueError(f"kappa must be a non-negative number or 'inf', got {kappa!r}")
    k = float(kappa)
    if not k >= 0:
        raise ValueError(f"kappa must be a non-negative number or 'inf', got {kappa!r}")
    return k


def _gumbel(h: np.ndarray) -> np.ndarray:
    """A standard Gumbel draw per candidate from its seeded hash."""
    u = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    return -np.log(-np.log(u))


def _eligible_cells_rid(pool: CandidatePool):
    cell_missing, codes = _cells(pool)
    rid = pool.numeric("RID")
    rid_missing = ~np.isfinite(rid) & ~cell_missing
    elig = np.flatnonzero(~cell_missing & ~rid_missing)
    excluded = {"cell_missing": int(cell_missing.sum()), "rid_missing": int(rid_missing.sum())}
    return elig, codes, rid, excluded


def _proportional_quotas(codes: np.ndarray, k: int) -> np.ndarray:
    """Per cell code, its share of ``k`` proportional to its size (largest
    remainder; ties to the smaller code), capped at the cell's size."""
    sizes = np.bincount(codes)
    raw = sizes * (k / sizes.sum())
    quota = np.floor(raw).astype(np.int64)
    left = k - int(quota.sum())
    order = np.lexsort((np.arange(len(sizes)), -(raw - quota)))
    quota[order[:left]] += 1
    return np.minimum(quota, sizes)


def _tilt_order(c: np.ndarray, r: np.ndarray, h: np.ndarray, kappa: float, k: int, quotas: str) -> np.ndarray:
    """Positions (into the eligible rows) of a tilted selection of ``k``."""
    if math.isinf(kappa):
        key = r
    elif kappa == 0:
        key = _gumbel(h)
    else:
        key = kappa * r + _gumbel(h)
    rank = rank_within_cell(c, h, -key)
    if quotas == "uniform":
        return np.lexsort((h, -key, rank))[:k]
    if quotas != "proportional":
        raise ValueError(f"ila-tilt quotas must be 'uniform' or 'proportional', got {quotas!r}")
    quota = _proportional_quotas(c, k)
    keep = np.flatnonzero(rank < quota[c])
    order = keep[np.lexsort((h[keep], -key[keep], rank[keep]))]
    if len(order) < k:  # cells capped at their size: the rest round-robin from what is left
        rest = np.setdiff1d(np.arange(len(c)), order)
        order = np.r_[order, rest[np.lexsort((h[rest], -key[rest], rank[rest]))][: k - len(order)]]
    return order[:k]


@register("ila-tilt")
def tilt(pool: CandidatePool, *, kappa=1.0, quotas: str = "uniform") -> MethodResult:
    """Cell quotas (uniform round-robin, or proportional to cell size),
    inside a cell P(x) proportional to exp(kappa * RID) without replacement
    (Gumbel-top-k). kappa 0: stratified random; "inf": round-robin top-RID.

    Needs ``cell`` and ``RID``. Excluded: ``cell_missing``, ``rid_missing``."""
    kappa = parse_kappa(kappa)
    elig, codes, rid, excluded = _eligible_cells_rid(pool)
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "kappa": "inf" if math.isinf(kappa) else kappa}
    k = pool.take(len(elig), info)
    c, r, h = codes[elig], rid[elig], pool.hashes()[elig]
    order = _tilt_order(c, r, h, kappa, k, quotas)
    return MethodResult(indices=elig[order], excluded=excluded, info=info)


def _window(window) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in window)
    except (TypeError, ValueError):
        raise ValueError(f"an RID window is [lo, hi], got {window!r}") from None
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"an RID window needs 0 <= lo < hi <= 1, got {window!r}")
    return lo, hi


@register("ila-band")
def band(pool: CandidatePool, *, window=(1 / 3, 1.0)) -> MethodResult:
    """Round-robin over cells, drawing (in a seeded random order) only
    candidates whose RID lies in ``window`` = [lo, hi].

    Needs ``cell`` and ``RID``. Excluded: ``cell_missing``, ``rid_missing``,
    ``outside_window``."""
    lo, hi = _window(window)
    elig, codes, rid, excluded = _eligible_cells_rid(pool)
    inside = (rid[elig] >= lo) & (rid[elig] <= hi)
    excluded["outside_window"] = int((~inside).sum())
    elig = elig[inside]
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "window": [lo, hi]}
    k = pool.take(len(elig), info)
    c, h = codes[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h)
    order = np.lexsort((h, _mix64(h), rank))[:k]
    info.update(_round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(indices=elig[order], excluded=excluded, info=info)


def _predicted(pool: CandidatePool, idx: np.ndarray, model: dict, dev_mix: dict) -> tuple[float, dict]:
    from ila.devloss import features, predict

    cand = pool.candidates
    cells = cand["cell"]
    feats = features(cand["domain"].iloc[idx].tolist(), cells.iloc[idx].tolist(), pool.numeric("RID")[idx],
                     int(cells.nunique(dropna=True)), dev_mix)
    return predict(model, feats), feats


@register("ila")
def modelled(pool: CandidatePool, *, variant: str = "tilt", kappas=DEFAULT_KAPPAS, windows=DEFAULT_WINDOWS,
             quotas: str = "uniform", model: dict | None = None, dev_mix: dict | None = None) -> MethodResult:
    """Dev-loss-modelled ILA: for each knob of ``variant`` (tilt: every
    kappa of ``kappas``; band: every RID window of ``windows``) the
    selection that knob makes, its predicted dev loss under ``model`` (a
    :func:`ila.devloss.fit` result, fitted on dev-evaluated runs only) with
    the dev set's domain mix ``dev_mix``; the lowest prediction wins (ties:
    the earlier knob). The workflow passes ``model`` and ``dev_mix``.

    Needs ``cell``, ``RID`` and ``domain``. Excluded: as the variant."""
    if model is None or dev_mix is None:
        raise ValueError("selection method 'ila' needs the dev-loss model and the dev set's domain mix "
                         "(the workflow passes them: selection.ila.calibration); for ILA without the model use "
                         "'ila-roundrobin'")
    if variant not in ("tilt", "band"):
        raise ValueError(f"ila variant must be 'tilt' or 'band', got {variant!r}")
    knobs = list(kappas) if variant == "tilt" else [list(_window(w)) for w in windows]
    if not knobs:
        raise ValueError(f"ila: no knob to choose from for variant {variant!r}")
    best = None
    tried = []
    for knob in knobs:
        if variant == "tilt":
            res = tilt(pool, kappa=knob, quotas=quotas)
        else:
            res = band(pool, window=knob)
        pred, feats = _predicted(pool, np.asarray(res.indices, dtype=np.int64), model, dev_mix)
        tried.append({"knob": knob, "predicted_dev_loss": pred, **feats, "n": int(len(res.indices))})
        if best is None or pred < best[0]:
            best = (pred, knob, res)
    pred, knob, res = best
    info = dict(res.info)
    info.update(variant=variant, knob=knob, predicted_dev_loss=pred, knobs=tried)
    return MethodResult(indices=res.indices, excluded=res.excluded, info=info)


@register("ila-modelled-tilt")
def modelled_tilt(pool: CandidatePool, *, kappas=DEFAULT_KAPPAS, quotas: str = "uniform", model: dict | None = None,
                  dev_mix: dict | None = None, variant: str = "tilt", windows=DEFAULT_WINDOWS) -> MethodResult:
    """``ila`` with the tilt family, whatever ``selection.ila.variant`` says (every variant is reported)."""
    return modelled(pool, variant="tilt", kappas=kappas, quotas=quotas, model=model, dev_mix=dev_mix)


@register("ila-modelled-band")
def modelled_band(pool: CandidatePool, *, windows=DEFAULT_WINDOWS, model: dict | None = None,
                  dev_mix: dict | None = None, variant: str = "band", kappas=DEFAULT_KAPPAS,
                  quotas: str = "uniform") -> MethodResult:
    """``ila`` with the band family, whatever ``selection.ila.variant`` says."""
    return modelled(pool, variant="band", windows=windows, model=model, dev_mix=dev_mix)


@register("depth")
def depth(pool: CandidatePool) -> MethodResult:
    """Ablation, depth only: the highest RID first, ignoring cells.

    Needs ``RID``. Excluded: ``rid_missing``."""
    rid = pool.numeric("RID")
    ok = np.isfinite(rid)
    elig = np.flatnonzero(ok)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    order = np.lexsort((pool.hashes()[elig], -rid[elig]))[:k]
    return MethodResult(elig[order], {"rid_missing": int((~ok).sum())}, info)


@register("coverage")
def coverage(pool: CandidatePool) -> MethodResult:
    """Ablation, coverage only: round-robin across cells like ILA, but the
    order inside a cell and inside a round is random (seeded), not by RID.

    Needs ``cell``. Excluded: ``cell_missing``."""
    cell_missing, codes = _cells(pool)
    elig = np.flatnonzero(~cell_missing)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    c, h = codes[elig], pool.hashes()[elig]
    rank = rank_within_cell(c, h)
    # A second key for the order inside a round: ordering round r by the same
    # hash that ranked the cells would favour large cells (smaller minima).
    order = np.lexsort((h, _mix64(h), rank))[:k]
    info.update(_round_robin_info(rank[order], int(len(np.unique(c)))))
    return MethodResult(elig[order], {"cell_missing": int(cell_missing.sum())}, info)


@register("random")
def random(pool: CandidatePool) -> MethodResult:
    """Uniform random sample without replacement: the candidates with the
    smallest seeded id hashes (so independent of row order)."""
    info: dict[str, Any] = {"n_eligible": len(pool)}
    k = pool.take(len(pool), info)
    order = np.argsort(pool.hashes(), kind="stable")[:k]
    return MethodResult(order, {}, info)
