"""One interface for every selector: ILA and the baselines.

``select(method, candidates, budget, seed, embeddings=None,
dev_embeddings=None, **params)`` validates its inputs, puts the candidates in
canonical order (sorted by id; the embeddings follow their rows), runs the
method registered under ``method`` and returns a :class:`Selection`.

Contracts that hold for every method:

- **Join by id, never by position.** ``embeddings`` must have one row per
  candidate row, in the same row order (the caller aligns them by id); a
  length mismatch raises.
- **Order independence.** Methods only ever see the candidates sorted by id,
  and every tie is broken by a seeded hash of the id
  (:func:`seeded_hash`: the first 8 bytes of ``sha256(f"{seed}:{id}")``,
  then the id itself). The same inputs and seed give the same selection, bit
  for bit, whatever the row order of ``candidates``.
- **No silent filtering.** A candidate a method refuses (missing RID, IFD above
  the threshold, an embedding with a zero norm, too similar to one already
  taken, ...) is counted in ``Selection.excluded`` under a named reason.
- **Budget.** A budget larger than the number of eligible candidates raises
  ``ValueError`` that says how many are eligible. Pass ``allow_short=True``
  to get every eligible candidate instead; the shortfall is then recorded in
  ``info["short_by"]``. (Deita can only find out during its walk that too
  few candidates pass its diversity filter; the same rule applies then.)
"""

from __future__ import annotations

import hashlib
import inspect
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ila.landscape import coverage as _coverage

__all__ = [
    "METHODS",
    "CandidatePool",
    "MethodResult",
    "Selection",
    "method_params",
    "register",
    "seeded_hash",
    "select",
]


@dataclass
class Selection:
    """The outcome of one selection.

    ids: selected candidate ids in selection order (ranked, round-robin or
    greedy order: for every method here the first ``k`` ids are the
    selection the method makes at budget ``k``). excluded: reason -> number of candidates
    the method refused, every reason the method knows listed, zeros included.
    info: method diagnostics plus ``n_candidates``, ``n_selected``, the
    method's ``params`` and, when the candidates carry them, the selection's
    ``cells_reached`` / ``coverage_occupied`` / ``mean_RID``; JSON-ready.
    seconds: wall time of ``select`` (checks, id hashing and the method)."""

    ids: list[str]
    method: str
    budget: int
    seed: int
    excluded: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class MethodResult:
    """What a method function returns: positions into the canonical (sorted by
    id) candidates in selection order, exclusion counts and diagnostics."""

    indices: np.ndarray
    excluded: dict[str, int]
    info: dict[str, Any]


@dataclass
class CandidatePool:
    """The candidates as a method sees them: sorted by id, index 0..n-1, with
    the embeddings (if any) in the same row order."""

    candidates: pd.DataFrame
    ids: np.ndarray  # object array of str, sorted ascending, unique
    budget: int
    seed: int
    method: str
    embeddings: np.ndarray | None = None
    dev_embeddings: np.ndarray | None = None
    allow_short: bool = False
    _hashes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def hashes(self) -> np.ndarray:
        """Seeded uint64 hash of every candidate id (cached)."""
        if self._hashes is None:
            self._hashes = seeded_hash(self.ids, self.seed)
        return self._hashes

    def column(self, name: str) -> pd.Series:
        if name not in self.candidates.columns:
            raise ValueError(
                f"selection method {self.method!r} needs a column {name!r} in the candidates; "
                f"columns present: {sorted(map(str, self.candidates.columns))}"
            )
        return self.candidates[name]

    def numeric(self, name: str) -> np.ndarray:
        """A column as float64 with missing values as NaN."""
        col = self.column(name)
        try:
            return pd.to_numeric(col, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"selection method {self.method!r}: column {name!r} must be numeric ({exc})"
            ) from exc

    def require_embeddings(self) -> np.ndarray:
        if self.embeddings is None:
            raise ValueError(
                f"selection method {self.method!r} needs `embeddings` (float32, one row per candidate)"
            )
        return self.embeddings

    def take(self, n_eligible: int, info: dict[str, Any] | None = None) -> int:
        """How many to select given ``n_eligible`` eligible candidates: the
        budget, or fewer when ``allow_short``; otherwise a budget above the
        eligible count raises."""
        if self.budget <= n_eligible:
            return self.budget
        if not self.allow_short:
            raise ValueError(
                f"selection method {self.method!r}: budget {self.budget} exceeds the "
                f"{n_eligible} eligible candidates (of {len(self)}); lower the budget or "
                "pass allow_short=True to select all eligible candidates"
            )
        if info is not None:
            info["short_by"] = int(self.budget - n_eligible)
        return int(n_eligible)


MethodFn = Callable[..., MethodResult]
METHODS: dict[str, MethodFn] = {}


def register(name: str) -> Callable[[MethodFn], MethodFn]:
    """Register ``fn(pool: CandidatePool, **params) -> MethodResult`` under
    ``name``. Method parameters must be keyword-only with defaults."""

    def deco(fn: MethodFn) -> MethodFn:
        if name in METHODS and METHODS[name] is not fn:
            raise ValueError(f"selection method {name!r} is registered twice")
        METHODS[name] = fn
        fn.method_name = name  # type: ignore[attr-defined]
        return fn

    return deco


def method_params(name: str) -> dict[str, Any]:
    """The parameters a method accepts, with their defaults."""
    _load_methods()
    if name not in METHODS:
        raise ValueError(f"unknown selection method {name!r}; known: {sorted(METHODS)}")
    sig = inspect.signature(METHODS[name])
    return {
        p.name: p.default
        for p in sig.parameters.values()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    }


def seeded_hash(ids, seed: int) -> np.ndarray:
    """uint64 tie-break key of each id: the first 8 bytes (big-endian) of
    ``sha256(f"{seed}:{id}")``. Depends only on the id and the seed, so it is
    the same whatever the row order, machine or Python version."""
    prefix = f"{int(seed)}:"
    digest = hashlib.sha256
    raw = b"".join([digest((prefix + i).encode("utf-8")).digest()[:8] for i in ids])
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64)


def _load_methods() -> None:
    # Importing the modules registers their methods.
    from . import methods  # noqa: F401


def _canonical(
    candidates: pd.DataFrame, embeddings: np.ndarray | None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    if not isinstance(candidates, pd.DataFrame):
        raise TypeError(f"candidates must be a pandas DataFrame, got {type(candidates).__name__}")
    if "id" not in candidates.columns:
        raise ValueError("candidates need an 'id' column")
    ids = candidates["id"]
    if ids.isna().any():
        raise ValueError(f"candidates: {int(ids.isna().sum())} rows have no id")
    n = len(candidates)
    if embeddings is not None:
        embeddings = np.asarray(embeddings)
        if embeddings.ndim != 2:
            raise ValueError(f"embeddings must be 2-D (n, d), got shape {embeddings.shape}")
        if embeddings.shape[0] != n:
            raise ValueError(
                f"embeddings have {embeddings.shape[0]} rows but candidates have {n}: "
                "align them by id before selecting"
            )
        if embeddings.dtype != np.float32:
            embeddings = embeddings.astype(np.float32)
    if n and pd.api.types.infer_dtype(ids, skipna=False) != "string":
        raise ValueError("candidates: ids must be strings")
    ids_arr = ids.to_numpy(dtype=object)
    if ids.is_monotonic_increasing:
        cand = candidates.reset_index(drop=True)
        sorted_ids = ids_arr
    else:
        perm = np.argsort(ids_arr.astype(str), kind="stable")
        cand = candidates.iloc[perm].reset_index(drop=True)
        sorted_ids = ids_arr[perm]
        if embeddings is not None:
            embeddings = embeddings[perm]
    if n > 1:
        dup = sorted_ids[1:] == sorted_ids[:-1]
        if dup.any():
            first = sorted_ids[1:][dup][0]
            raise ValueError(f"candidates: {int(dup.sum())} duplicate ids (e.g. {first!r})")
    return cand, sorted_ids, embeddings


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, (str, int)):
        return obj
    if hasattr(obj, "describe"):  # scorer objects
        return _jsonable(obj.describe())
    return f"<{type(obj).__name__}>"


def _summary(cand: pd.DataFrame, idx: np.ndarray) -> dict[str, Any]:
    """Coverage and depth of the selection when the candidates carry cells and
    RID (the quantities the regression study uses)."""
    out: dict[str, Any] = {}
    if "cell" in cand.columns:
        cells = cand["cell"]
        occupied = int(cells.nunique(dropna=True))
        sel = cells.iloc[idx].dropna()
        cov = _coverage(sel.tolist(), total_cells=occupied, occupied_cells=occupied)
        out["cells_reached"] = cov.cells
        out["cells_occupied"] = occupied
        out["coverage_occupied"] = cov.occupied
    if "RID" in cand.columns and len(idx):
        rid = pd.to_numeric(cand["RID"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        vals = rid[idx]
        vals = vals[np.isfinite(vals)]
        out["mean_RID"] = float(vals.mean()) if len(vals) else None
    return out


def select(
    method: str,
    candidates: pd.DataFrame,
    budget: int,
    seed: int,
    embeddings: np.ndarray | None = None,
    dev_embeddings: np.ndarray | None = None,
    *,
    allow_short: bool = False,
    **params: Any,
) -> Selection:
    """Select ``budget`` candidates with ``method``.

    candidates: DataFrame with an ``id`` column (unique str) plus the columns
    the method needs (ila: cell, RID; ifd: loss_base, T, loss_base_uncond,
    T_uncond; ...). embeddings: float32 (n, d), row i = candidates row i.
    dev_embeddings: (m, d), for ``rds``. allow_short: return all eligible
    candidates instead of raising when the budget exceeds them. params: the
    method's own parameters (see :func:`method_params`)."""
    t0 = time.perf_counter()
    _load_methods()
    if method not in METHODS:
        raise ValueError(f"unknown selection method {method!r}; known: {sorted(METHODS)}")
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 0:
        raise ValueError(f"budget must be a non-negative integer, got {budget!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    accepted = method_params(method)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(
            f"selection method {method!r} got unknown parameter(s) {unknown}; "
            f"it accepts {sorted(accepted)}"
        )
    cand, ids, emb = _canonical(candidates, embeddings)
    if dev_embeddings is not None:
        dev_embeddings = np.asarray(dev_embeddings, dtype=np.float32)
        if dev_embeddings.ndim != 2:
            raise ValueError(f"dev_embeddings must be 2-D (m, d), got shape {dev_embeddings.shape}")
    pool = CandidatePool(
        candidates=cand,
        ids=ids,
        budget=int(budget),
        seed=int(seed),
        method=method,
        embeddings=emb,
        dev_embeddings=dev_embeddings,
        allow_short=bool(allow_short),
    )
    result = METHODS[method](pool, **params)
    idx = np.asarray(result.indices, dtype=np.int64)
    if len(idx) > budget:
        raise RuntimeError(f"selection method {method!r} returned {len(idx)} > budget {budget}")
    if len(np.unique(idx)) != len(idx):
        raise RuntimeError(f"selection method {method!r} selected a candidate twice")
    if len(idx) < budget and "short_by" not in result.info:
        raise RuntimeError(
            f"selection method {method!r} returned {len(idx)} of budget {budget} without saying why"
        )
    info = dict(result.info)
    info.setdefault("n_candidates", len(ids))
    info["n_selected"] = int(len(idx))
    info["params"] = {**accepted, **params, "allow_short": bool(allow_short)}
    info.update(_summary(cand, idx))
    excluded = {str(k): int(v) for k, v in sorted(result.excluded.items())}
    return Selection(
        ids=[str(x) for x in ids[idx]],
        method=method,
        budget=int(budget),
        seed=int(seed),
        excluded=excluded,
        info=_jsonable(info),
        seconds=time.perf_counter() - t0,
    )
