"""Hand-made candidate pools with known answers, and the measures the
selection tests read off a selection."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd


def sha_key(seed: int, i: str) -> int:
    """Independent restatement of the documented tie-break key."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:8], "big")


def toy() -> pd.DataFrame:
    # cell 0: a1 .9, a2 .8, a3 .3 | cell 1: b1 .5, b2 .4 | cell 2: c1 .7, c2 .1
    return pd.DataFrame(
        {
            "id": ["b2", "a3", "c1", "a1", "c2", "b1", "a2"],
            "cell": [1, 0, 2, 0, 2, 1, 0],
            "RID": [0.4, 0.3, 0.7, 0.9, 0.1, 0.5, 0.8],
        }
    )


def landscape(n=600, cells=25, seed=1, rid_decimals=None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # unequal cell sizes: some cells run out early
    cell = np.minimum(rng.geometric(0.12, n) - 1, cells - 1)
    rid = rng.random(n)
    if rid_decimals is not None:
        rid = np.round(rid, rid_decimals)
    domain = np.array(["arith", "dates", "sort"])[cell % 3]
    return pd.DataFrame({"id": [f"x{i:05d}" for i in range(n)], "cell": cell, "RID": rid, "domain": domain})


def four_domain_landscape(n=600, cells=12, seed=1) -> pd.DataFrame:
    """Cells of unequal size over four domains: random domains for an odd
    seed, one domain per cell (cell mod 4) for an even one."""
    rng = np.random.default_rng(seed)
    cell = np.minimum(rng.geometric(0.15, n) - 1, cells - 1)
    domain = np.array(["arith", "dates", "sort", "count"])[rng.integers(0, 4, n) if seed % 2 else cell % 4]
    return pd.DataFrame({"id": [f"x{i:05d}" for i in range(n)], "cell": cell, "RID": rng.random(n), "domain": domain})


def instructions() -> pd.DataFrame:
    """Three instructions without scores: by length, complexity ranks p, q, r
    as 1, 6, 3.5 and quality as 1, 3.5, 6 (the proxy scorer)."""
    return pd.DataFrame(
        {
            "id": ["p", "q", "r"],
            "instruction": ["one", "one two three", "one two"],
            "input": ["", "", ""],
            "output": ["x", "x y", "x y z"],
        }
    )


def clusters(k=5, per=40, dim=16, spread=0.02, seed=0):
    """k well-separated clusters on the unit sphere (orthogonal centres)."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim, dtype=np.float32)[:k]
    lab = np.repeat(np.arange(k), per)
    x = centres[lab] + spread * rng.standard_normal((k * per, dim)).astype(np.float32)
    ids = [f"e{i:04d}" for i in range(k * per)]
    return pd.DataFrame({"id": ids, "cluster": lab}), x.astype(np.float32), lab


def cell_rounds(df: pd.DataFrame, ids: list[str]) -> list[int]:
    """1-based ordinal of each selected example within its cell."""
    cell = df.set_index("id")["cell"]
    seen: dict[int, int] = {}
    out = []
    for i in ids:
        c = int(cell[i])
        seen[c] = seen.get(c, 0) + 1
        out.append(seen[c])
    return out


def per_cell(df, ids):
    return df.set_index("id").loc[ids, "cell"].value_counts().sort_index()
