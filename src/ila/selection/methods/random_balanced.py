"""``random-balanced``: uniform random within domains, the same number from
every domain (the large-scale selection literature's hard-to-beat baseline
for a long-tailed pool). A domain with fewer candidates than its share
gives all it has and the rest is redistributed over the others
(water-filling); the last units go to the domains whose next draw has the
smallest seeded hash. Inside a domain: the smallest seeded id hashes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..base import CandidatePool, MethodResult, register


def balanced_quotas(sizes: dict[str, int], k: int) -> dict[str, int]:
    """Per domain, how many of ``k`` it gets: equal shares, capped at its
    size, leftovers spread over the domains that still have candidates;
    the remainder of an uneven split goes to the domains first in sorted
    order (the caller re-ranks by hash)."""
    if k > sum(sizes.values()):
        raise ValueError(f"cannot take {k} from {sum(sizes.values())} candidates")
    quota = {d: 0 for d in sizes}
    left = k
    open_ = sorted(d for d in sizes if sizes[d] > 0)
    while left > 0 and open_:
        share = left // len(open_)
        if share == 0:
            break
        for d in list(open_):
            add = min(share, sizes[d] - quota[d])
            quota[d] += add
            left -= add
        open_ = [d for d in open_ if quota[d] < sizes[d]]
    return quota | {"__left__": left}


@register("random-balanced")
def random_balanced(pool: CandidatePool) -> MethodResult:
    """Uniform over domains (see the module docstring). Needs ``domain``.
    Excluded: ``domain_missing``."""
    dom = pool.column("domain")
    missing = dom.isna().to_numpy() | (dom.astype(str).str.len() == 0).to_numpy()
    elig = np.flatnonzero(~missing)
    info: dict[str, Any] = {"n_eligible": int(len(elig))}
    k = pool.take(len(elig), info)
    h = pool.hashes()[elig]
    d = dom.iloc[elig].astype(str).to_numpy()
    sizes = pd.Series(d).value_counts().to_dict()
    quota = balanced_quotas({str(x): int(n) for x, n in sizes.items()}, k)
    left = quota.pop("__left__")
    # rank inside each domain by hash
    order = np.lexsort((h, d))
    ranked = pd.DataFrame({"pos": order, "domain": d[order], "h": h[order]})
    ranked["rank"] = ranked.groupby("domain", sort=False).cumcount()
    take = ranked[ranked["rank"] < ranked["domain"].map(quota)]
    if left:  # the remainder: the next candidate of the domains whose next draw has the smallest hash
        nxt = ranked[ranked["rank"] == ranked["domain"].map(quota)].sort_values("h", kind="stable").head(left)
        take = pd.concat([take, nxt])
    picked = take.sort_values(["rank", "h"], kind="stable")["pos"].to_numpy(dtype=np.int64)
    info["per_domain"] = {str(x): int(n) for x, n in pd.Series(d[picked]).value_counts().sort_index().items()}
    return MethodResult(indices=elig[picked], excluded={"domain_missing": int(missing.sum())}, info=info)
