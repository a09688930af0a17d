"""Deita complexity and quality of every candidate, by the published scorers or the offline proxy."""

from __future__ import annotations


import numpy as np
import pandas as pd



def deita_scores(candidates: pd.DataFrame, settings: dict, device: str = "cpu") -> tuple[pd.DataFrame, dict]:
    """Deita complexity and quality of every candidate: (id, complexity,
    quality) and a description of the scorers.

    ``settings`` (config ``selection.deita``): ``scorer`` "proxy" (the
    offline :class:`ila.selection.scorers.ProxyScorer`, **not Deita**;
    features ``complexity_feature`` / ``quality_feature``) or "deita"
    (:class:`ila.selection.scorers.DeitaScorer` on ``complexity_model`` and
    ``quality_model``, ``batch_size``, ``max_length``)."""
    from .scorers import DeitaScorer, ProxyScorer

    kind = settings.get("scorer", "proxy")
    if kind == "proxy":
        scorers = {
            "complexity": ProxyScorer("complexity", settings.get("complexity_feature")),
            "quality": ProxyScorer("quality", settings.get("quality_feature")),
        }
    elif kind == "deita":
        scorers = {
            k: DeitaScorer(
                settings[f"{k}_model"], device=device, kind=k,
                batch_size=int(settings.get("batch_size", 8)), max_length=settings.get("max_length"),
            )
            for k in ("complexity", "quality")
        }
    else:
        raise ValueError(f"selection.deita.scorer must be 'proxy' or 'deita', got {kind!r}")
    out = pd.DataFrame({"id": candidates["id"].to_numpy()})
    for k, scorer in scorers.items():
        out[k] = np.asarray(scorer.score(candidates), dtype=np.float64)
    info = {k: s.describe() for k, s in scorers.items()}
    info["n"] = int(len(out))
    info["missing"] = {k: int((~np.isfinite(out[k].to_numpy())).sum()) for k in scorers}
    return out, info


