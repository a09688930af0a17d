"""The regression study's fine-tuning runs: one id file per subset as the
training set of its run, and the regression table that joins every
subset's design and measures to its run's dev losses."""

from __future__ import annotations

import os
from typing import Sequence

import pandas as pd

from ila import io


def write_subset_ids(members: pd.DataFrame, paths: Sequence[str]) -> None:
    """One file of member ids per subset (``<subset>.txt``, ids in member
    order), the training set of that subset's fine-tune: a change to one
    subset touches one file. Every subset of ``members`` must have a path
    and every path a subset (matched by name)."""
    by_name = {os.path.basename(str(p))[: -len(".txt")]: str(p) for p in paths}
    names = list(dict.fromkeys(members["subset"]))
    if set(names) != set(by_name):
        raise ValueError(f"subsets {sorted(set(names) ^ set(by_name))[:5]} are in the design or the outputs, not both")
    for name in names:
        io.write_ids(by_name[name], members.loc[members["subset"] == name, "id"].tolist())


#: dev-loss columns a fine-tuning run reports (ila.finetune.core)
RUN_COLUMNS = (
    "dev_loss",
    "dev_loss_domain_mean",
    "dev_loss_clipped",
    "dev_loss_example_mean",
    "train_examples",
    "train_tokens",
    "train_response_tokens",
    "train_loss",
    "seed",
)


def join_runs(subsets: pd.DataFrame, runs: Sequence[dict]) -> pd.DataFrame:
    """The regression table: one row per subset with its design and measures
    (from :func:`ila.regression.measures.measure`) and its run's dev losses,
    joined by subset name.
    A subset without a run, or a run without a subset, is an error."""
    frame = pd.DataFrame([{k: r.get(k) for k in ("subset", *RUN_COLUMNS)} for r in runs])
    for r in runs:
        for dom, v in sorted(r.get("dev_per_domain", {}).items()):
            frame.loc[frame["subset"] == r["subset"], f"dev_loss[{dom}]"] = v
    if frame["subset"].duplicated().any():
        raise ValueError(f"more than one run for subset {frame['subset'][frame['subset'].duplicated()].iloc[0]}")
    missing = sorted(set(subsets["subset"]) - set(frame["subset"]))
    extra = sorted(set(frame["subset"]) - set(subsets["subset"]))
    if missing or extra:
        raise ValueError(f"runs do not match the design: no run for {missing[:3]}, no subset for {extra[:3]}")
    out = subsets.merge(frame, on="subset", how="left", validate="one_to_one")
    return out.sort_values("subset").reset_index(drop=True)
