"""Split the pool into candidates (what selection may pick from) and a
held-out dev set (where fine-tuned models are scored), and hold out the test
set and the task benchmarks before anything else sees the pool
(:func:`hold_out`).

The dev set is stratified by domain ("" is a domain like any other):

1. Every domain keeps at least one candidate, so a domain with a single
   example is never in the dev set. A domain may give at most
   ``size - 1`` examples, and at most ``max_per_domain`` if that is set.
2. The dev size is shared among the domains that can give examples, in
   proportion to their sizes, by the largest-remainder (Hamilton) method with
   exact integer arithmetic; remainder ties go to the larger domain, then to
   the smaller domain name. A domain whose share exceeds its cap gets its cap,
   and the rest is shared again among the other domains.
3. Inside a domain, the examples with the smallest ``sha256(f"{seed}:{id}")``
   go to dev. The split therefore depends only on the ids, the domains and the
   seed, never on row order.
"""

from __future__ import annotations

import fnmatch
import hashlib
import math
import numbers
import os
from typing import Mapping, Sequence

import pandas as pd

from ila.records import derived_seed


def resolve_dev_size(dev_size: int | float, n_pool: int) -> int:
    """Number of dev examples: an int is a count, a float in (0, 1) a
    fraction of the pool (rounded half up). Raises ValueError unless
    0 < count < n_pool."""
    if isinstance(dev_size, bool) or not isinstance(dev_size, numbers.Real):
        raise ValueError(f"dev_size must be an int count or a float fraction, got {dev_size!r}")
    if isinstance(dev_size, numbers.Integral):
        n_dev = int(dev_size)
    else:
        frac = float(dev_size)
        if not 0.0 < frac < 1.0:
            raise ValueError(f"dev_size as a fraction must be in (0, 1), got {dev_size!r}")
        n_dev = math.floor(frac * n_pool + 0.5)
    if n_dev <= 0:
        raise ValueError(f"dev_size {dev_size!r} gives {n_dev} dev examples from a pool of {n_pool}; need at least 1")
    if n_dev >= n_pool:
        raise ValueError(f"dev_size {dev_size!r} gives {n_dev} dev examples, not fewer than the pool size {n_pool}")
    return n_dev


def _largest_remainder(seats: int, sizes: Mapping[str, int]) -> dict[str, int]:
    """Share `seats` among keys in proportion to `sizes` (Hamilton method,
    exact). Remainder ties: larger size first, then key order."""
    total = sum(sizes.values())
    alloc = {k: seats * s // total for k, s in sizes.items()}
    left = seats - sum(alloc.values())
    order = sorted(sizes, key=lambda k: (-(seats * sizes[k] % total), -sizes[k], k))
    for k in order[:left]:
        alloc[k] += 1
    return alloc


def allocate_dev(
    domain_sizes: Mapping[str, int], n_dev: int, max_per_domain: int | None = None
) -> dict[str, int]:
    """Dev examples per domain (every domain of `domain_sizes` is a key, 0 for
    those that give none); see the module docstring for the rule. Raises
    ValueError if the domains cannot give `n_dev` examples under their caps."""
    if max_per_domain is not None and (isinstance(max_per_domain, bool) or int(max_per_domain) < 0):
        raise ValueError(f"max_per_domain must be a non-negative int or None, got {max_per_domain!r}")
    caps = {d: max(0, n - 1) for d, n in domain_sizes.items()}
    if max_per_domain is not None:
        caps = {d: min(c, int(max_per_domain)) for d, c in caps.items()}
    capacity = sum(caps.values())
    if n_dev > capacity:
        raise ValueError(
            f"cannot draw {n_dev} dev examples: the domains can give at most {capacity} "
            f"(each keeps one candidate"
            + (f", at most {max_per_domain} each" if max_per_domain is not None else "")
            + ")"
        )
    result = {d: 0 for d in domain_sizes}
    open_domains = {d: domain_sizes[d] for d in domain_sizes if caps[d] > 0}
    seats = n_dev
    while seats > 0:
        alloc = _largest_remainder(seats, open_domains)
        over = [d for d in open_domains if alloc[d] > caps[d]]
        if not over:
            for d, k in alloc.items():
                result[d] = k
            break
        for d in over:
            result[d] = caps[d]
            seats -= caps[d]
            del open_domains[d]
    assert sum(result.values()) == n_dev, (result, n_dev)
    return result


def _rank_key(seed: int, example_id: str) -> str:
    return hashlib.sha256(f"{seed}:{example_id}".encode("utf-8")).hexdigest()


def _check_pool(pool: pd.DataFrame) -> None:
    for col in ("id", "domain"):
        if col not in pool.columns:
            raise ValueError(f"pool has no '{col}' column (columns: {list(pool.columns)})")
    if pool["id"].duplicated().any():
        dup = pool.loc[pool["id"].duplicated(), "id"].iloc[0]
        raise ValueError(f"pool ids are not unique (e.g. {dup})")
    bad = [d for d in pool["domain"].tolist() if not isinstance(d, str)]
    if bad:
        raise ValueError(f"pool domain must be a string ('' for none); found {len(bad)} non-string, e.g. {bad[0]!r}")


def dev_split(
    pool: pd.DataFrame,
    dev_size: int | float,
    seed: int,
    *,
    max_per_domain: int | None = None,
) -> tuple[list[str], list[str]]:
    """Split pool ids into (candidate_ids, dev_ids), each sorted by id,
    stratified by domain with largest-remainder allocation and a seeded hash
    of the id inside each domain."""
    _check_pool(pool)
    n_pool = len(pool)
    n_dev = resolve_dev_size(dev_size, n_pool)
    ids = pool["id"].astype(str).tolist()
    domains = pool["domain"].tolist()
    by_domain: dict[str, list[str]] = {}
    for i, d in zip(ids, domains):
        by_domain.setdefault(d, []).append(i)
    sizes = {d: len(v) for d, v in sorted(by_domain.items())}
    alloc = allocate_dev(sizes, n_dev, max_per_domain)
    dev: list[str] = []
    for d, members in by_domain.items():
        k = alloc[d]
        if k:
            dev.extend(sorted(members, key=lambda i: (_rank_key(seed, i), i))[:k])
    dev_set = set(dev)
    candidates = sorted(i for i in ids if i not in dev_set)
    dev.sort()
    assert len(dev) == n_dev and len(candidates) + len(dev) == n_pool
    return candidates, dev


def split_summary(pool: pd.DataFrame, candidate_ids, dev_ids) -> dict:
    """Counts per domain (pool, candidates, dev) and in total, for the log.
    Checks that the two id lists partition the pool."""
    _check_pool(pool)
    cand, dev = set(candidate_ids), set(dev_ids)
    ids = set(pool["id"].astype(str))
    if cand & dev:
        raise ValueError(f"{len(cand & dev)} ids are both candidates and dev")
    if cand | dev != ids:
        missing, extra = len(ids - cand - dev), len((cand | dev) - ids)
        raise ValueError(f"split does not partition the pool: {missing} pool ids unassigned, {extra} ids not in the pool")
    domains: dict[str, dict[str, int]] = {}
    for i, d in zip(pool["id"].astype(str), pool["domain"]):
        c = domains.setdefault(d, {"pool": 0, "candidates": 0, "dev": 0})
        c["pool"] += 1
        c["dev" if i in dev else "candidates"] += 1
    return {
        "n_pool": len(ids),
        "n_candidates": len(cand),
        "n_dev": len(dev),
        "domains": dict(sorted(domains.items())),
    }


# --------------------------------------------------------------------------
# test set and benchmarks

TOY_SOURCES = {"dev": "toy_dev", "test": "toy_test", "benchmark": "toy_benchmark"}


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def hold_out(
    pool: pd.DataFrame,
    rejects: pd.DataFrame,
    *,
    holdout_files: Sequence[str] = (),
    test_size: int | float = 0,
    seed: int = 0,
    toy: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Take the test set and the benchmarks out of an ingested pool.

    Returns (pool, heldout, ledger): `pool` keeps every other row (what
    the dev split and the selection see); `heldout` has the pool's columns
    plus ``split`` (``test`` or ``benchmark``), sorted by split then id.

    - Benchmarks: rows whose ``source`` matches a glob of `holdout_files`
      (a file stem such as ``gsm8k_test``, or a pattern such as ``mt_bench*``;
      a pattern that also names a reject's file or its stem counts, and one
      that matches nothing is an error). For the toy pool (`toy`), the rows of
      source ``toy_benchmark`` as well.
    - Decontamination: a pool row that the ingest kept in place of a
      benchmark row with the same instruction and input (the benchmark row is
      a ``duplicate`` reject pointing at it) is dropped from the pool and
      counted (``dropped_contaminated``).
    - Test: for the toy pool the rows of source ``toy_test``; otherwise
      `test_size` rows (a count, or a fraction of what is left) drawn
      stratified by domain with :func:`dev_split` under a seed derived from
      `seed` (0 = no test set).
    """
    _check_pool(pool)
    patterns = [str(p) for p in holdout_files]
    sources = pool["source"].astype(str)
    is_bench = sources.map(lambda s: _matches(s, patterns)) if patterns else pd.Series(False, index=pool.index)
    if toy:
        is_bench |= sources == TOY_SOURCES["benchmark"]
    reject_files = rejects["file"].astype(str).tolist() if len(rejects) else []
    for p in patterns:
        named = any(fnmatch.fnmatchcase(s, p) for s in sources.unique()) or any(
            fnmatch.fnmatchcase(os.path.basename(f), p) or fnmatch.fnmatchcase(os.path.splitext(os.path.basename(f))[0], p)
            for f in reject_files)
        if not named:
            raise ValueError(f"split.holdout_files: {p!r} matches no source or file of the pool")
    contaminated: set[str] = set()
    if patterns and len(rejects):
        for f, reason, dup_of in zip(reject_files, rejects["reason"], rejects["duplicate_of"]):
            base = os.path.basename(f)
            if reason == "duplicate" and isinstance(dup_of, str) and (
                    _matches(base, patterns) or _matches(os.path.splitext(base)[0], patterns)):
                contaminated.add(dup_of)
    bench_ids = set(pool.loc[is_bench, "id"])
    contaminated -= bench_ids
    rest = pool[~is_bench & ~pool["id"].isin(contaminated)]
    if toy:
        test_mask = rest["source"] == TOY_SOURCES["test"]
        test_ids = set(rest.loc[test_mask, "id"])
    elif test_size:
        _, test = dev_split(rest, test_size, seed=derived_seed(seed, "test"))
        test_ids = set(test)
    else:
        test_ids = set()
    kept = rest[~rest["id"].isin(test_ids)].reset_index(drop=True)
    heldout = pd.concat(
        [pool[pool["id"].isin(test_ids)].assign(split="test"), pool[pool["id"].isin(bench_ids)].assign(split="benchmark")],
        ignore_index=True,
    ).sort_values(["split", "id"], kind="stable").reset_index(drop=True)
    ledger = {
        "holdout_files": patterns,
        "test": len(test_ids),
        "benchmark": len(bench_ids),
        "benchmark_by_source": {k: int(v) for k, v in sorted(pool.loc[is_bench, "source"].value_counts().items())},
        "dropped_contaminated": len(contaminated),
        "dropped_contaminated_ids": sorted(contaminated),
        "pool_after_holdout": int(len(kept)),
    }
    return kept, heldout, ledger


def toy_dev_ids(pool: pd.DataFrame) -> list[str]:
    """The dev ids of a toy pool: its rows of source ``toy_dev`` (generated
    from the clean generator), sorted."""
    _check_pool(pool)
    return sorted(pool.loc[pool["source"] == TOY_SOURCES["dev"], "id"].astype(str))




def heldout_summary(heldout: pd.DataFrame, candidate_ids, dev_ids) -> dict:
    """Counts of the held-out test and benchmark rows per domain (and per
    source for the benchmarks). Checks that no held-out id is a candidate or
    a dev id, and that test and benchmark are disjoint."""
    ids = {s: set(heldout.loc[heldout["split"] == s, "id"]) for s in ("test", "benchmark")}
    for name, other in (("candidates", set(candidate_ids)), ("dev", set(dev_ids))):
        for s, held in ids.items():
            if held & other:
                raise ValueError(f"{len(held & other)} {s} ids are also {name}")
    if ids["test"] & ids["benchmark"]:
        raise ValueError(f"{len(ids['test'] & ids['benchmark'])} ids are both test and benchmark")

    def by(split_name: str, col: str) -> dict[str, int]:
        rows = heldout[heldout["split"] == split_name]
        return {k: int(v) for k, v in sorted(rows[col].value_counts().items())}

    return {
        "n_test": len(ids["test"]),
        "n_benchmark": len(ids["benchmark"]),
        "test_domains": by("test", "domain"),
        "benchmark_domains": by("benchmark", "domain"),
        "benchmark_sources": by("benchmark", "source"),
    }


def write_heldout(heldout: pd.DataFrame, path) -> None:
    """Write the held-out rows as Parquet: the pool table's fixed schema
    (:func:`ila.pool.tables.pool_arrow_table`) plus ``split``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ila.io import atomic_path
    from ila.pool.ledger import POOL_COLUMNS
    from ila.pool.tables import pool_arrow_table

    table = pool_arrow_table(heldout[POOL_COLUMNS]).append_column("split", pa.array(heldout["split"].tolist(), pa.string()))
    with atomic_path(path) as tmp:
        pq.write_table(table.replace_schema_metadata(None), tmp, compression="zstd")


__all__ = ["allocate_dev", "dev_split", "heldout_summary", "hold_out", "resolve_dev_size", "split_summary", "toy_dev_ids", "write_heldout"]
