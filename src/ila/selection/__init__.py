"""Selection of an instruction subset from a candidate pool: ILA and the
baselines, behind one interface.

    from ila.selection import select, METHODS
    sel = select("ila-roundrobin", candidates, budget=1000, seed=0)

Methods (``METHODS``): ``ila`` (dev-loss-modelled, METHOD.md),
``ila-roundrobin``, ``ila-tilt``, ``ila-band`` (its selection families and
the first reading), ``random``, ``random-balanced`` (uniform over domains),
``depth`` (RID only), ``coverage`` (cells only), ``ifd`` (Cherry data), ``deita``,
``kcenter`` (greedy core-set), ``facility`` (facility location, apricot),
``rds`` (cosine to the dev-set mean). See :mod:`ila.selection.base` for the
contracts every method keeps (order independence, counted exclusions, budget
errors) and :mod:`ila.selection.scorers` for Deita's scorers.
"""

from . import methods  # noqa: F401  (register the methods)
from .base import METHODS, CandidatePool, MethodResult, Selection, method_params, register, seeded_hash, select

__all__ = [
    "METHODS",
    "CandidatePool",
    "MethodResult",
    "Selection",
    "method_params",
    "register",
    "seeded_hash",
    "select",
]
