"""Information depth (METHOD.md).

For example j with a response of T_j tokens,
``dL_j = L_M0(y_j | x_j) - L_MSFT(y_j | x_j)`` (summed response cross-entropy
under the base and the warm-up model) and ``ID_j = dL_j / T_j * |labels_j|``
with at least one label. ``RID_j`` is the percentile rank of ID_j within its
domain, in [0, 1].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata


def information_depth(loss_base, loss_sft, tokens, n_labels) -> np.ndarray:
    """ID = (loss_base - loss_sft) / T * n_labels (losses summed over the
    response's T tokens). T must be positive and n_labels at least 1."""
    loss_base = np.asarray(loss_base, dtype=np.float64)
    loss_sft = np.asarray(loss_sft, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.float64)
    n_labels = np.asarray(n_labels, dtype=np.float64)
    if np.any(tokens <= 0):
        raise ValueError("every example needs at least one scored response token (T > 0)")
    if np.any(n_labels < 1):
        raise ValueError("every example counts at least one label")
    return (loss_base - loss_sft) / tokens * n_labels


def percentile_rank(values) -> np.ndarray:
    """Percentile rank in [0, 1]: (average rank - 1) / (n - 1); ties share
    their average rank; a group of one gets 0.5."""
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    if n == 0:
        return values
    if n == 1:
        return np.array([0.5])
    return (rankdata(values, method="average") - 1.0) / (n - 1.0)


def relative_depth(ids, depth, domains) -> np.ndarray:
    """RID: percentile rank of ID within each domain (joined by id, so the
    result does not depend on row order)."""
    frame = pd.DataFrame({"id": list(ids), "info_depth": np.asarray(depth, dtype=np.float64), "domain": list(domains)})
    if frame["info_depth"].isna().any():
        raise ValueError("ID has missing values; every scored example needs a depth")
    rid = np.empty(len(frame))
    for _, idx in frame.groupby("domain", sort=True).indices.items():
        rid[idx] = percentile_rank(frame["info_depth"].to_numpy()[idx])
    return rid


def n_labels(labels, mode: str = "data") -> np.ndarray:
    """|labels_j| as used by ID: the data's labels (at least 1) or 1 for
    every example (mode "none")."""
    if mode == "none":
        return np.ones(len(labels), dtype=np.int64)
    if mode != "data":
        raise ValueError(f"unknown label mode {mode!r} (expected 'data' or 'none')")
    return np.array([max(1, len(x) if x is not None else 0) for x in labels], dtype=np.int64)


def depth_domains(domains, cells, mode: str = "data") -> tuple[list[str], int]:
    """Domain used for RID: the data's domain, else the example's cell
    (METHOD.md choice). Returns the domains and how many fell back to the
    cell."""
    if mode not in ("data", "cell"):
        raise ValueError(f"unknown RID domain mode {mode!r} (expected 'data' or 'cell')")
    out, fallback = [], 0
    for d, c in zip(domains, cells):
        if mode == "cell" or not d:
            out.append(f"cell:{int(c)}")
            fallback += mode == "data"
        else:
            out.append(str(d))
    return out, fallback


def build_examples_table(
    pool: pd.DataFrame,
    scores: pd.DataFrame,
    landscape: pd.DataFrame,
    domain_mode: str = "data",
    label_mode: str = "data",
    rid_within: str = "domain",
) -> tuple[pd.DataFrame, dict]:
    """The per-example landscape table (DESIGN.md): id, domain, rid_domain,
    n_labels, cell, x, y, T, loss_base, loss_sft, info_depth (ID), RID, for every scored
    example, joined by id. Examples with T == 0 cannot have a depth; they
    are left out and counted in the returned ledger. ``rid_within``:
    "domain" (METHOD.md) or "domain_labels", the ablation that ranks ID
    within (domain, |labels|), so RID cannot become a tag count."""
    if rid_within not in ("domain", "domain_labels"):
        raise ValueError(f"depth.rid_within must be 'domain' or 'domain_labels', got {rid_within!r}")
    need = {"id", "T", "loss_base", "loss_sft"}
    if not need <= set(scores.columns):
        raise ValueError(f"scores table lacks columns {sorted(need - set(scores.columns))}")
    df = scores.merge(landscape[["id", "cell", "x", "y"]], on="id", how="left", validate="one_to_one")
    if df["cell"].isna().any():
        raise ValueError(f"{int(df['cell'].isna().sum())} scored ids have no cell in the landscape")
    df = df.merge(pool[["id", "domain", "labels"]], on="id", how="left", validate="one_to_one")
    if df["domain"].isna().any():
        raise ValueError(f"{int(df['domain'].isna().sum())} scored ids are not in the pool")
    unscorable = df["T"] <= 0
    ledger = {"scored": int(len(df)), "no_response_tokens": int(unscorable.sum())}
    df = df[~unscorable].copy()
    df["cell"] = df["cell"].astype(np.int64)
    df["n_labels"] = n_labels(df["labels"].tolist(), label_mode)
    df["rid_domain"], ledger["rid_domain_from_cell"] = depth_domains(df["domain"], df["cell"], domain_mode)
    if rid_within == "domain_labels":
        df["rid_domain"] = df["rid_domain"].astype(str) + "|" + df["n_labels"].astype(str)
    df["info_depth"] = information_depth(df["loss_base"], df["loss_sft"], df["T"], df["n_labels"])
    df["RID"] = relative_depth(df["id"], df["info_depth"], df["rid_domain"])
    ledger["with_depth"] = int(len(df))
    cols = ["id", "domain", "rid_domain", "n_labels", "cell", "x", "y", "T", "loss_base", "loss_sft", "info_depth", "RID"]
    extra = [c for c in scores.columns if c not in cols]
    df = df.sort_values("id").reset_index(drop=True)
    return df[cols + extra], ledger
