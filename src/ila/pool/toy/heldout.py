"""Held-out toy sets: dev, test and the task benchmark, drawn from the clean
generator (never corrupted) with their own seeds, balanced over families and
depths, and disjoint by (instruction, input) from the pool and from each
other.

Each set is drawn from its own streams (``ila.pool.toy.<split>:<seed>``), in
the order dev, test, benchmark; a draw whose problem text is already in the
pool or in an earlier set is redrawn from its stream. dev and test cycle
over the (family, depth) cells like the clean pool (so their families are
balanced whatever the pool's imbalance); the benchmark holds
``benchmark_per_family`` problems of each family, depths cycling. Every
record carries ``source`` = ``toy_<split>``, which is how the ingest and
the split tell held-out rows from pool rows (pool rows have source ``toy``).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from .generator import check_arguments, draw_cells

SPLITS: tuple[str, ...] = ("dev", "test", "benchmark")


def source_of(split: str) -> str:
    """The ``source`` of a held-out toy row of `split`."""
    return f"toy_{split}"


def heldout_sets(
    pool_keys: Iterable[tuple[str, str]],
    seed: int,
    dev_size: int,
    test_size: int,
    benchmark_per_family: int,
    families: Sequence[str] | None = None,
    min_depth: int = 1,
    max_depth: int = 5,
) -> dict[str, list[tuple[dict, tuple]]]:
    """{split: [(record, generator state), ...]} for dev, test and benchmark
    (see the module docstring). Raises ValueError for a size below 0 (1 for
    the benchmark)."""
    for name, v, low in (("split.dev_size", dev_size, 1), ("split.test_size", test_size, 0),
                         ("split.benchmark_per_family", benchmark_per_family, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"{name} must be an int >= {low} for the toy pool, got {v!r}")
    fams = check_arguments(dev_size, seed, families, min_depth, max_depth)
    depths = list(range(min_depth, max_depth + 1))
    cells = [(f, d) for f in fams for d in depths]
    plan = {
        "dev": [cells[i % len(cells)] for i in range(dev_size)],
        "test": [cells[i % len(cells)] for i in range(test_size)],
        "benchmark": [(f, depths[j % len(depths)]) for j in range(benchmark_per_family) for f in fams],
    }
    banned = set(pool_keys)
    out: dict[str, list[tuple[dict, tuple]]] = {}
    for split in SPLITS:
        drawn = draw_cells(plan[split], f"ila.pool.toy.{split}:{seed}", banned)
        for rec, _ in drawn:
            rec["source"] = source_of(split)
            banned.add((rec["instruction"], rec["input"]))
        out[split] = drawn
    return out


def pool_and_heldout(
    n: int,
    seed: int,
    families: Sequence[str] | None,
    min_depth: int,
    max_depth: int,
    realism,
    dev_size: int,
    test_size: int,
    benchmark_per_family: int,
) -> tuple[list[dict], list[dict], list[dict], dict]:
    """Everything the toy source writes: (records, truth, mc_items, ledger).

    records: the pool rows (with the realism knobs applied, see
    :mod:`ila.pool.toy.corrupt`), then the dev, test and benchmark rows
    (``source`` toy_dev, toy_test, toy_benchmark). truth: one row per pool
    and held-out record (:data:`ila.pool.toy.corrupt.TRUTH_COLUMNS` plus
    ``split``: pool, dev, test or benchmark). mc_items: the raw
    multiple-choice items of the benchmark (:func:`ila.pool.toy.choices.mc_items`)."""
    from ila.io import stable_id

    from .choices import mc_items
    from .corrupt import TRUTH_COLUMNS, make_pool

    pool, truth = make_pool(n, seed, families, min_depth, max_depth, realism)
    sets = heldout_sets(((r["instruction"], r["input"]) for r in pool), seed, dev_size, test_size,
                        benchmark_per_family, families, min_depth, max_depth)
    records = list(pool)
    truth = [{**t, "split": "pool"} for t in truth]
    for split in SPLITS:
        for rec, _ in sets[split]:
            records.append(rec)
            truth.append({"id": stable_id(rec["instruction"], rec["input"], rec["output"]), "domain": rec["domain"],
                          "steps": rec["steps"], "corruption": "none", "dup_burst": "", "dup_kind": "",
                          "split": split})
    items, mc_ledger = mc_items(sets["benchmark"], seed) if sets["benchmark"] else ([], {})
    counts: dict[str, dict[str, int]] = {}
    for t in truth:
        c = counts.setdefault(t["split"], {})
        c[t["corruption"]] = c.get(t["corruption"], 0) + 1
    ledger = {
        "rows": {s: sum(c.values()) for s, c in counts.items()},
        "corruption_by_split": counts,
        "near_duplicates": sum(t["dup_kind"] in ("rephrase", "numbers") for t in truth),
        "dup_bursts": len({t["dup_burst"] for t in truth if t["dup_burst"]}),
        "pool_by_family": _count(t["domain"] for t in truth if t["split"] == "pool"),
        "mc_distractors": mc_ledger,
        "truth_columns": [*TRUTH_COLUMNS, "split"],
    }
    return records, truth, items, ledger


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))
