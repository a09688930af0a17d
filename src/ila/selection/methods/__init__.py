"""The selection methods, one module each; importing this package registers
them all (:func:`ila.selection.base.register`).

| method | module |
|---|---|
| ``ila`` (dev-loss-modelled), ``ila-modelled-tilt``, ``ila-modelled-band`` | :mod:`.ila` |
| ``ila-roundrobin`` (the first reading) | :mod:`.ila_roundrobin` |
| ``ila-tilt`` / ``ila-band`` (ILA's selection families) | :mod:`.ila_tilt` / :mod:`.ila_band` |
| ``depth`` / ``coverage`` (ILA's ablations) | :mod:`.depth` / :mod:`.coverage` |
| ``random`` / ``random-balanced`` | :mod:`.random` / :mod:`.random_balanced` |
| ``ifd``, ``deita``, ``kcenter``, ``facility``, ``rds`` (baselines) | one module each |

Helpers shared by several methods: :mod:`ila.selection.cells` (the cell-based
ones) and :mod:`ila.selection.embedding` (the embedding-based ones). Every
method receives the candidates sorted by id and breaks ties by the seeded
id hash, so results do not depend on the row order of the input.
"""

from . import (  # noqa: F401  (importing a module registers its method)
    coverage,
    deita,
    depth,
    facility,
    ifd,
    ila,
    ila_band,
    ila_roundrobin,
    ila_tilt,
    kcenter,
    random,
    random_balanced,
    rds,
)
