"""What each selection picked: the evidence behind every number of the study.

Per selection (method x grid point): how many picks fall in each domain, in
each ground-truth corruption type of the toy pool (``pool/truth.parquet``,
which no selector reads) and among near-duplicates, against the same
shares in the candidates it chose from. The truth file is read here, for
the analysis only.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from .grid import parse_key


def composition_table(selections: Sequence[tuple[str, str, list[str]]], candidates: pd.DataFrame,
                      truth: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per selection ((method, key, ids) triples): n, share per
    domain (``domain_<d>``), mean RID, and with ``truth`` the share per
    corruption (``corruption_<kind>``, ``none`` = clean) and of
    near-duplicate copies (``near_duplicate``: rows of a burst other than
    its source). Ids are joined with the candidates (and the truth) by id;
    an id that is in neither is an error."""
    cand = candidates.set_index("id")
    truth_by_id = truth.set_index("id") if truth is not None else None
    domains = sorted(cand["domain"].dropna().unique())
    kinds = sorted(truth["corruption"].unique()) if truth is not None else []
    rows = []
    for method, key, ids in selections:
        missing = pd.Index(ids).difference(cand.index)
        if len(missing):
            raise KeyError(f"{method}/{key}: {len(missing)} selected ids are not candidates, e.g. {missing[0]}")
        point = parse_key(key)
        picked = cand.loc[list(ids)]
        n = len(picked)
        row = {"method": method, "pool_fraction": point.fraction, "budget": point.budget, "replicate": point.replicate,
               "n": n, "mean_RID": float(pd.to_numeric(picked.get("RID"), errors="coerce").mean())
               if "RID" in picked else None}
        counts = picked["domain"].value_counts()
        for d in domains:
            row[f"domain_{d}"] = float(counts.get(d, 0) / n) if n else None
        if truth_by_id is not None:
            t = truth_by_id.loc[list(ids)]
            kc = t["corruption"].value_counts()
            for k in kinds:
                row[f"corruption_{k}"] = float(kc.get(k, 0) / n) if n else None
            row["near_duplicate"] = float((t["dup_kind"].isin(["rephrase", "numbers"])).mean()) if n else None
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["method", "pool_fraction", "budget", "replicate"], kind="stable").reset_index(drop=True)


def candidate_shares(candidates: pd.DataFrame, truth: pd.DataFrame | None = None) -> dict:
    """The same shares over all candidates: what random selection tracks."""
    n = len(candidates)
    out = {"n": n, "domain": {d: float(c / n) for d, c in candidates["domain"].value_counts().sort_index().items()}}
    if truth is not None:
        t = truth.set_index("id").loc[candidates["id"]]
        out["corruption"] = {k: float(c / n) for k, c in t["corruption"].value_counts().sort_index().items()}
        out["near_duplicate"] = float(t["dup_kind"].isin(["rephrase", "numbers"]).mean())
    return out


def composition_markdown(table: pd.DataFrame, shares: dict, budget: int) -> str:
    """Mean shares per method at the largest pool and ``budget`` (over
    replicates), beside the candidates' shares."""
    sub = table[(table["budget"] == budget) & (table["pool_fraction"] == table["pool_fraction"].max())]
    cols = [c for c in table.columns if c.startswith(("corruption_", "domain_")) or c == "near_duplicate"]
    means = sub.groupby("method")[cols + ["mean_RID"]].mean()
    head = "| method | " + " | ".join(c.replace("corruption_", "").replace("domain_", "") for c in cols) + " | mean RID |"
    lines = ["# What each selection picked", "",
             f"Share of the picks at the largest pool, budget {budget}, mean over replicates; the first row is the "
             "candidates themselves (what random selection tracks). Corruption types are the toy pool's ground "
             "truth (pool/truth.parquet), read by no selector.", "", head, "|---" * (len(cols) + 2) + "|"]
    cand = ["candidates"]
    for c in cols:
        if c.startswith("corruption_"):
            cand.append(f"{shares.get('corruption', {}).get(c[len('corruption_'):], 0):.3f}")
        elif c.startswith("domain_"):
            cand.append(f"{shares['domain'].get(c[len('domain_'):], 0):.3f}")
        else:
            cand.append(f"{shares.get('near_duplicate', 0):.3f}")
    lines.append("| " + " | ".join(cand) + " | 0.500 |")
    for method, r in means.iterrows():
        lines.append(f"| {method} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + f" | {r['mean_RID']:.3f} |")
    return "\n".join(lines) + "\n"
