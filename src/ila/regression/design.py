"""Training-subset designs for the regression study, and the names of their subsets.

A design is a list of subsets of one fixed ``size`` drawn from the per-example
landscape table (id, domain, cell, T, info_depth, RID, ...). Each subset is built in
two steps (METHOD.md, **choice**): restrict the pool to ``k`` groups (cells,
or domains with ``group_by="domain"``), then sample ``size`` examples from the
members of those groups whose RID lies in a band ``[lo, hi]`` (both ends
inclusive). ``k`` controls coverage, the band controls depth.

Choosing the k groups (documented choice, the same for both designs):

1. The groups are put in a seeded random order. In the factorial design the
   order depends only on ``(seed, rep)``, so the same replicate uses the same
   order at every coverage level and every band: lower levels then tend to
   pick a prefix of the groups of higher levels.
2. Groups with no member in the band are skipped (they would add nothing).
   If fewer than k groups have in-band members, all of them are used; the
   design records the number actually used in ``k_used``.
3. Groups holding at least an even share (``ceil(size / k)``) of in-band
   members come first, in the seeded order, then the others, in the seeded
   order; the first k are taken.
4. If those k groups together hold fewer than ``size`` in-band members, the k
   groups with the most in-band members are taken instead (ties in the seeded
   order). If even they cannot fill the subset, :class:`ValueError` names the
   level, band and number available.

Sampling inside the chosen groups is even ("water-filling"): every group gets
the same quota, groups that run out give their unused quota to the others, and
a remainder smaller than the number of groups goes to randomly chosen groups.
So all chosen groups are represented whenever ``size >= k``.

Everything is deterministic by seed and independent of the row order of the
input: rows are sorted by id first, and each subset's random stream is derived
from the seed and the subset's own parameters (adding a level or a band does
not change the other subsets).
"""

from __future__ import annotations

import hashlib
import math
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd

GROUP_BY = ("cell", "domain")
DESIGN_COLUMNS = [
    "subset",
    "design",
    "level",
    "k",
    "band",
    "band_lo",
    "band_hi",
    "rep",
    "group_by",
    "k_used",
    "n_available",
]


# --------------------------------------------------------------------------- helpers


def _rng(*parts: Any) -> np.random.Generator:
    """A generator seeded from the text of `parts`: stable across runs,
    machines and Python versions, and independent for different parts."""
    text = "\x1f".join(repr(p) for p in parts)
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def _k_for_level(level: float, n_groups: int) -> int:
    """k = max(1, round(level * n_groups)), rounding halves up."""
    return max(1, int(math.floor(level * n_groups + 0.5)))


def _level_name(level: float) -> str:
    return f"{level:g}"


def _prepare(examples: pd.DataFrame, group_by: str) -> pd.DataFrame:
    """Validate the landscape table and return (id, group, RID) sorted by id."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, got {group_by!r}")
    missing = [c for c in ("id", group_by, "RID") if c not in examples.columns]
    if missing:
        raise ValueError(f"examples table lacks column(s) {missing}; has {list(examples.columns)}")
    df = examples[["id", group_by, "RID"]].copy()
    df["id"] = df["id"].astype(str)
    dup = df["id"][df["id"].duplicated()]
    if len(dup):
        raise ValueError(f"examples table has {len(dup)} duplicated id(s), e.g. {dup.iloc[0]!r}")
    df = df.sort_values("id", kind="mergesort").reset_index(drop=True)
    no_group = df[group_by].isna()
    if no_group.any():
        raise ValueError(
            f"{int(no_group.sum())} example(s) have no {group_by}, e.g. id {df['id'][no_group].iloc[0]!r}"
        )
    rid = pd.to_numeric(df["RID"], errors="coerce")
    no_rid = rid.isna()
    if no_rid.any():
        raise ValueError(
            f"{int(no_rid.sum())} example(s) have no RID (e.g. id {df['id'][no_rid].iloc[0]!r}); "
            "drop them (and count them) before building a design, e.g. the warm-up set"
        )
    df["RID"] = rid.astype(np.float64)
    df = df.rename(columns={group_by: "group"})
    return df


class _Pool:
    """The pool seen as groups: for each group, its members' ids and RIDs
    (sorted by id), and the sorted list of group keys."""

    def __init__(self, df: pd.DataFrame):
        self.groups: list[Hashable] = sorted(df["group"].unique().tolist())
        grouped = {g: part for g, part in df.groupby("group", sort=True)}
        self.ids = {g: grouped[g]["id"].to_numpy() for g in self.groups}
        self.rid = {g: grouped[g]["RID"].to_numpy() for g in self.groups}
        self.n = len(df)

    def in_band(self, lo: float, hi: float) -> dict[Hashable, np.ndarray]:
        """Ids (sorted) of each group's members with lo <= RID <= hi."""
        return {g: self.ids[g][(self.rid[g] >= lo) & (self.rid[g] <= hi)] for g in self.groups}

    def order(self, rng: np.random.Generator) -> list[Hashable]:
        perm = rng.permutation(len(self.groups))
        return [self.groups[i] for i in perm]


def _choose_groups(
    order: Sequence[Hashable], capacity: dict[Hashable, int], k: int, size: int
) -> list[Hashable]:
    """Choose up to k groups (see the module docstring, steps 2-4)."""
    eligible = [g for g in order if capacity[g] > 0]
    k_eff = min(k, len(eligible))
    if k_eff == 0:
        return []
    share = math.ceil(size / k_eff)
    ample = [g for g in eligible if capacity[g] >= share]
    short = [g for g in eligible if capacity[g] < share]
    chosen = (ample + short)[:k_eff]
    if sum(capacity[g] for g in chosen) < size:
        # sorted() is stable: ties keep the seeded order
        chosen = sorted(eligible, key=lambda g: -capacity[g])[:k_eff]
    return chosen


def _allocate(
    chosen: Sequence[Hashable], capacity: dict[Hashable, int], size: int, rng: np.random.Generator
) -> dict[Hashable, int]:
    """Even quotas over the chosen groups, capped by each group's capacity."""
    quota = {g: 0 for g in chosen}
    remaining = size
    active = list(chosen)
    while remaining > 0:
        active = [g for g in active if quota[g] < capacity[g]]
        if not active:  # guarded by the caller; kept as a clear failure
            raise RuntimeError("allocation ran out of capacity")
        share = remaining // len(active)
        if share == 0:
            picks = sorted(rng.choice(len(active), size=remaining, replace=False).tolist())
            for i in picks:
                quota[active[i]] += 1
            remaining = 0
        else:
            for g in active:
                add = min(share, capacity[g] - quota[g])
                quota[g] += add
                remaining -= add
    return quota


def _draw_subset(
    pool: _Pool,
    size: int,
    k: int,
    lo: float,
    hi: float,
    order: Sequence[Hashable],
    rng: np.random.Generator,
) -> tuple[list[str] | None, int, int]:
    """Sample one subset. Returns (sorted ids or None when it cannot be
    filled, groups used, in-band members available in the chosen groups)."""
    members = pool.in_band(lo, hi)
    capacity = {g: len(members[g]) for g in pool.groups}
    chosen = _choose_groups(order, capacity, k, size)
    available = sum(capacity[g] for g in chosen)
    if available < size:
        return None, len(chosen), available
    quota = _allocate(chosen, capacity, size, rng)
    ids: list[str] = []
    for g in sorted(chosen):
        q = quota[g]
        if q:
            idx = rng.choice(capacity[g], size=q, replace=False)
            ids.extend(members[g][np.sort(idx)].tolist())
    ids.sort()
    return ids, len(chosen), available


def _outputs(rows: list[dict], member_rows: list[tuple[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    design = pd.DataFrame(rows, columns=DESIGN_COLUMNS)
    members = pd.DataFrame(member_rows, columns=["subset", "id"])
    return members, design


def _check_size(size: int, n: int) -> None:
    if int(size) != size or size < 1:
        raise ValueError(f"subset size must be a positive integer, got {size!r}")
    if size > n:
        raise ValueError(f"subset size {size} exceeds the pool of {n} examples")


# --------------------------------------------------------------------------- designs


def factorial_design(
    examples: pd.DataFrame,
    size: int,
    coverage_levels: Sequence[float],
    depth_bands: dict[str, tuple[float, float]],
    seeds: Sequence[int],
    group_by: str = "cell",
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Coverage levels x depth bands x replicate seeds.

    Args:
        examples: per-example landscape table (needs id, RID and the
            `group_by` column); row order does not matter.
        size: examples per subset.
        coverage_levels: fractions in (0, 1] of the groups the pool occupies;
            k = max(1, round(level * n_groups)).
        depth_bands: band name -> (lo, hi) RID window, both ends inclusive,
            e.g. ``{"low": (0, 1/3), "mixed": (0, 1), "high": (2/3, 1)}``.
        seeds: replicate seeds (the ``rep`` of each subset).
        group_by: "cell" (restrict to k cells) or "domain" (k domains).
        seed: base seed of the whole design.

    Returns:
        members: (subset, id), one row per member, ids sorted in each subset.
        design: one row per subset: subset (``c{level}-{band}-s{rep}``),
            design ("factorial"), level, k, band, band_lo, band_hi, rep,
            group_by, k_used (groups actually chosen: fewer than k only when
            fewer groups have in-band members) and n_available (in-band
            members of the chosen groups).

    Raises:
        ValueError: on invalid arguments, or when a design cell cannot be
            filled (names the level, band and how many were available).
    """
    levels = [float(x) for x in coverage_levels]
    for level in levels:
        if not 0.0 < level <= 1.0:
            raise ValueError(f"coverage level {level} is outside (0, 1]")
    if not levels:
        raise ValueError("no coverage levels given")
    if len({_level_name(x) for x in levels}) != len(levels):
        raise ValueError(f"coverage levels are not distinct: {levels}")
    if not depth_bands:
        raise ValueError("no depth bands given")
    bands: dict[str, tuple[float, float]] = {}
    for name, window in depth_bands.items():
        lo, hi = (float(v) for v in window)
        if not lo < hi:
            raise ValueError(f"depth band {name!r}: lower bound {lo} is not below upper bound {hi}")
        bands[str(name)] = (lo, hi)
    reps = [int(s) for s in seeds]
    if not reps:
        raise ValueError("no replicate seeds given")
    if len(set(reps)) != len(reps):
        raise ValueError(f"replicate seeds are not distinct: {reps}")

    df = _prepare(examples, group_by)
    _check_size(size, len(df))
    pool = _Pool(df)
    n_groups = len(pool.groups)

    rows: list[dict] = []
    member_rows: list[tuple[str, str]] = []
    for level in levels:
        k = _k_for_level(level, n_groups)
        for band, (lo, hi) in bands.items():
            for rep in reps:
                order = pool.order(_rng("factorial-groups", int(seed), group_by, rep))
                rng = _rng("factorial-sample", int(seed), group_by, rep, _level_name(level), band)
                ids, k_used, available = _draw_subset(pool, size, k, lo, hi, order, rng)
                if ids is None:
                    raise ValueError(
                        f"design cell level={_level_name(level)} (k={k} of {n_groups} {group_by}s) "
                        f"band={band!r} [{lo:g}, {hi:g}] rep={rep} cannot be filled: "
                        f"only {available} examples with RID in the band are available in the best "
                        f"{k_used} {group_by}(s), {size} needed"
                    )
                name = f"c{_level_name(level)}-{band}-s{rep}"
                rows.append(
                    dict(
                        subset=name,
                        design="factorial",
                        level=level,
                        k=k,
                        band=band,
                        band_lo=lo,
                        band_hi=hi,
                        rep=rep,
                        group_by=group_by,
                        k_used=k_used,
                        n_available=available,
                    )
                )
                member_rows.extend((name, i) for i in ids)
    return _outputs(rows, member_rows)


def random_design(
    examples: pd.DataFrame,
    size: int,
    n_subsets: int,
    seed: int,
    group_by: str = "cell",
    min_band_width: float = 0.2,
    max_draws: int = 1000,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subsets with a random k and a random RID window each.

    For subset i: k is uniform on 1..n_groups (level = k / n_groups), the
    window width uniform on [min_band_width, 1] and its lower end uniform on
    [0, 1 - width]. A draw whose subset cannot be filled is redrawn (at most
    `max_draws` times; the number of draws used is in the ``draws`` column).
    Outputs as :func:`factorial_design`, with design "random", band "window",
    rep = i and subset names ``r000``, ``r001``, ...
    """
    if int(n_subsets) != n_subsets or n_subsets < 1:
        raise ValueError(f"n_subsets must be a positive integer, got {n_subsets!r}")
    if not 0.0 < float(min_band_width) <= 1.0:
        raise ValueError(f"min_band_width must be in (0, 1], got {min_band_width}")
    df = _prepare(examples, group_by)
    _check_size(size, len(df))
    pool = _Pool(df)
    n_groups = len(pool.groups)
    width_digits = max(3, len(str(n_subsets - 1)))

    rows: list[dict] = []
    member_rows: list[tuple[str, str]] = []
    for i in range(int(n_subsets)):
        rng = _rng("random", int(seed), group_by, i)
        for draw in range(1, max_draws + 1):
            k = int(rng.integers(1, n_groups + 1))
            width = float(rng.uniform(min_band_width, 1.0))
            lo = float(rng.uniform(0.0, 1.0 - width))
            hi = lo + width
            order = pool.order(rng)
            ids, k_used, available = _draw_subset(pool, size, k, lo, hi, order, rng)
            if ids is not None:
                break
        else:
            raise ValueError(
                f"random subset {i}: no fillable draw of k and RID window in {max_draws} draws "
                f"(size {size}, {n_groups} {group_by}s, min_band_width {min_band_width})"
            )
        name = f"r{i:0{width_digits}d}"
        rows.append(
            dict(
                subset=name,
                design="random",
                level=k / n_groups,
                k=k,
                band="window",
                band_lo=lo,
                band_hi=hi,
                rep=i,
                group_by=group_by,
                k_used=k_used,
                n_available=available,
                draws=draw,
            )
        )
        member_rows.extend((name, x) for x in ids)
    members = pd.DataFrame(member_rows, columns=["subset", "id"])
    design = pd.DataFrame(rows, columns=DESIGN_COLUMNS + ["draws"])
    return members, design


# --------------------------------------------------------------------------- names


def subset_names(
    design: str,
    coverage_levels: Sequence[float] = (),
    depth_bands: Sequence[str] = (),
    seeds: Sequence[int] = (),
    n_random: int = 0,
) -> list[str]:
    """Names of the subsets a design will produce, known before any data is
    read (the workflow makes one fine-tuning job per name)."""
    if design == "factorial":
        return [f"c{_level_name(lv)}-{b}-s{s}" for lv in coverage_levels for b in depth_bands for s in seeds]
    if design == "random":
        digits = max(3, len(str(n_random - 1)))
        return [f"r{i:0{digits}d}" for i in range(n_random)]
    raise ValueError(f"unknown design {design!r} (expected 'factorial' or 'random')")
