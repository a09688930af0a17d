"""``ifd``: Instruction-Following Difficulty (Cherry data, Li et al. 2024)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..base import CandidatePool, MethodResult, register


@register("ifd")
def ifd(pool: CandidatePool, *, threshold: float | None = 1.0) -> MethodResult:
    """Instruction-Following Difficulty (Cherry data, Li et al. 2024).

    ``IFD = (loss_base / T) / (loss_base_uncond / T_uncond)``: the base
    model's mean per-token loss of the response given the instruction over
    its mean per-token loss of the response alone. Columns: ``loss_base``
    (summed, conditioned), ``T``, ``loss_base_uncond`` (summed, response
    alone), ``T_uncond``. The highest IFD is selected first.

    Excluded, each candidate under its first reason: ``ifd_missing`` (a
    missing or non-finite input), ``ifd_nonpositive_tokens`` (T or T_uncond
    <= 0), ``ifd_nonpositive_uncond_loss`` (loss_base_uncond <= 0: IFD
    undefined), ``ifd_ge_threshold`` (IFD >= ``threshold``: the instruction
    does not help; ``threshold=None`` keeps them)."""
    lb = pool.numeric("loss_base")
    t = pool.numeric("T")
    lu = pool.numeric("loss_base_uncond")
    tu = pool.numeric("T_uncond")
    missing = ~(np.isfinite(lb) & np.isfinite(t) & np.isfinite(lu) & np.isfinite(tu))
    bad_tokens = ~missing & ((t <= 0) | (tu <= 0))
    bad_uncond = ~missing & ~bad_tokens & (lu <= 0)
    valid = ~missing & ~bad_tokens & ~bad_uncond
    score = np.full(len(pool), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        score[valid] = (lb[valid] / t[valid]) / (lu[valid] / tu[valid])
    ge = valid & (score >= threshold) if threshold is not None else np.zeros(len(pool), bool)
    elig = np.flatnonzero(valid & ~ge)
    info: dict[str, Any] = {"n_eligible": int(len(elig)), "threshold": threshold}
    k = pool.take(len(elig), info)
    order = np.lexsort((pool.hashes()[elig], -score[elig]))[:k]
    chosen = elig[order]
    if len(chosen):
        info["ifd_selected_max"] = float(score[chosen].max())
        info["ifd_selected_min"] = float(score[chosen].min())
    return MethodResult(
        chosen,
        {
            "ifd_missing": int(missing.sum()),
            "ifd_nonpositive_tokens": int(bad_tokens.sum()),
            "ifd_nonpositive_uncond_loss": int(bad_uncond.sum()),
            "ifd_ge_threshold": int(ge.sum()),
        },
        info,
    )
