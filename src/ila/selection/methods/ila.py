"""``ila``, the dev-loss-modelled ILA (METHOD.md, "ILA selection"): for every
knob of its variant (tilt or band) it makes the selection, predicts that
selection's dev loss with the dev-loss model (:mod:`ila.devloss`, fitted on
dev-evaluated runs only) and returns the selection with the lowest
prediction; ``ila-modelled-tilt`` / ``ila-modelled-band`` fix the variant."""

from __future__ import annotations

import numpy as np

from ..base import CandidatePool, MethodResult, register
from ..cells import parse_window
from .ila_band import band
from .ila_tilt import tilt


#: the knobs the modelled ILA chooses from (config selection.ila)
DEFAULT_KAPPAS = (0.0, 1.0, 2.0, 4.0, 8.0, "inf")


DEFAULT_WINDOWS = ((0.0, 1.0), (0.25, 1.0), (1 / 3, 1.0), (0.5, 1.0), (2 / 3, 1.0))


def _predicted(pool: CandidatePool, idx: np.ndarray, model: dict, dev_mix: dict) -> tuple[float, dict]:
    from ila.devloss import features, predict

    cand = pool.candidates
    cells = cand["cell"]
    feats = features(cand["domain"].iloc[idx].tolist(), cells.iloc[idx].tolist(), pool.numeric("RID")[idx],
                     int(cells.nunique(dropna=True)), dev_mix)
    return predict(model, feats), feats


@register("ila")
def modelled(pool: CandidatePool, *, variant: str = "tilt", kappas=DEFAULT_KAPPAS, windows=DEFAULT_WINDOWS,
             quotas: str = "uniform", model: dict | None = None, dev_mix: dict | None = None) -> MethodResult:
    """Dev-loss-modelled ILA: for each knob of ``variant`` (tilt: every
    kappa of ``kappas``; band: every RID window of ``windows``) the
    selection that knob makes, its predicted dev loss under ``model`` (a
    :func:`ila.devloss.fit` result, fitted on dev-evaluated runs only) with
    the dev set's domain mix ``dev_mix``; the lowest prediction wins (ties:
    the earlier knob). The workflow passes ``model`` and ``dev_mix``.

    Needs ``cell``, ``RID`` and ``domain``. Excluded: as the variant."""
    if model is None or dev_mix is None:
        raise ValueError("selection method 'ila' needs the dev-loss model and the dev set's domain mix "
                         "(the workflow passes them: selection.ila.calibration); for ILA without the model use "
                         "'ila-roundrobin'")
    if variant not in ("tilt", "band"):
        raise ValueError(f"ila variant must be 'tilt' or 'band', got {variant!r}")
    knobs = list(kappas) if variant == "tilt" else [list(parse_window(w)) for w in windows]
    if not knobs:
        raise ValueError(f"ila: no knob to choose from for variant {variant!r}")
    best = None
    tried = []
    for knob in knobs:
        if variant == "tilt":
            res = tilt(pool, kappa=knob, quotas=quotas)
        else:
            res = band(pool, window=knob)
        pred, feats = _predicted(pool, np.asarray(res.indices, dtype=np.int64), model, dev_mix)
        tried.append({"knob": knob, "predicted_dev_loss": pred, **feats, "n": int(len(res.indices))})
        if best is None or pred < best[0]:
            best = (pred, knob, res)
    pred, knob, res = best
    info = dict(res.info)
    info.update(variant=variant, knob=knob, predicted_dev_loss=pred, knobs=tried)
    return MethodResult(indices=res.indices, excluded=res.excluded, info=info)


@register("ila-modelled-tilt")
def modelled_tilt(pool: CandidatePool, *, kappas=DEFAULT_KAPPAS, quotas: str = "uniform", model: dict | None = None,
                  dev_mix: dict | None = None, variant: str = "tilt", windows=DEFAULT_WINDOWS) -> MethodResult:
    """``ila`` with the tilt family, whatever ``selection.ila.variant`` says (every variant is reported)."""
    return modelled(pool, variant="tilt", kappas=kappas, quotas=quotas, model=model, dev_mix=dev_mix)


@register("ila-modelled-band")
def modelled_band(pool: CandidatePool, *, windows=DEFAULT_WINDOWS, model: dict | None = None,
                  dev_mix: dict | None = None, variant: str = "band", kappas=DEFAULT_KAPPAS,
                  quotas: str = "uniform") -> MethodResult:
    """``ila`` with the band family, whatever ``selection.ila.variant`` says."""
    return modelled(pool, variant="band", windows=windows, model=model, dev_mix=dev_mix)
