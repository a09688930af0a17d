"""Selection cost benchmark: ILA against random, k-center and facility
location on one synthetic landscape.

The landscape: N candidates (ids sorted, as in the canonical pool), random
cells (``--cells``), RID uniform in [0, 1], ``--dim``-d float32 embeddings
made as one of ``--centres`` random cluster centres plus Gaussian noise.
Every method selects ``--budget`` candidates through
``ila.selection.select`` (the timing is ``Selection.seconds``: input checks,
id hashing and the method itself).

Methods named in ``--full-size`` (default ila, random) run at N, the median
of ``--repeats`` runs. The others are first timed on growing prefixes of the
pool (``--probe-sizes``; rows are i.i.d., so a prefix is a random subset) at
the same budget; a power law ``t = a * n^p`` fitted to those times predicts
the full-size time. Each method first runs once, untimed, on 1,000 rows
(numba compiles apricot's kernels on first use). If the prediction is within ``--max-seconds`` the method
is then run at N; otherwise the prediction is reported, marked
"extrapolated". Facility location is always timed on its sparse k-NN path
(the one that runs at scale).

Targets checked: ILA <= 10 s at N = 1,000,000; ILA >= 100x faster than
k-center.

    python bench/bench_selection.py --threads 1 --out results/bench/selection.json
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1_000_000, help="candidates in the pool")
    p.add_argument("--cells", type=int, default=2500, help="landscape cells")
    p.add_argument("--dim", type=int, default=384, help="embedding dimension")
    p.add_argument("--centres", type=int, default=256, help="embedding cluster centres")
    p.add_argument("--budget", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--methods", default="ila,random,kcenter,facility")
    p.add_argument("--full-size", default="ila,random", help="methods always run at N")
    p.add_argument("--repeats", type=int, default=3, help="runs of each full-size method (median)")
    p.add_argument("--max-seconds", type=float, default=600.0, help="longest full-size run allowed per method")
    p.add_argument(
        "--probe-sizes",
        default="auto",
        help="comma-separated pool sizes for the power-law fit; auto: N/100, N/30, N/10, each >= 2 x budget",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="write the results as JSON here")
    return p.parse_args(argv)


def synthetic_landscape(n: int, n_cells: int, dim: int, n_centres: int, seed: int):
    """Candidates (id, cell, RID) and aligned float32 embeddings."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    ids = np.array([f"{i:016x}" for i in range(n)], dtype=object)
    df = pd.DataFrame({"id": ids, "cell": rng.integers(0, n_cells, n), "RID": rng.random(n)})
    centres = rng.standard_normal((n_centres, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    cluster = rng.integers(0, n_centres, n)
    emb = np.empty((n, dim), dtype=np.float32)
    noise = np.float32(0.5 / math.sqrt(dim))
    step = 1 << 16
    for s in range(0, n, step):
        e = min(n, s + step)
        block = rng.standard_normal((e - s, dim), dtype=np.float32)
        block *= noise
        block += centres[cluster[s:e]]
        emb[s:e] = block
    return df, emb


def fit_power_law(sizes: list[int], seconds: list[float]) -> tuple[float, float]:
    """Least-squares fit of log t = log a + p log n; returns (a, p)."""
    import numpy as np

    x = np.log(np.asarray(sizes, dtype=np.float64))
    y = np.log(np.maximum(np.asarray(seconds, dtype=np.float64), 1e-9))
    p, log_a = np.polyfit(x, y, 1)
    return float(math.exp(log_a)), float(p)


def _probe_sizes(spec: str, n: int, budget: int) -> list[int]:
    if spec == "auto":
        raw = [max(2 * budget, n // 100), max(2 * budget, n // 30), max(2 * budget, n // 10)]
    else:
        raw = [int(s) for s in spec.split(",") if s.strip()]
    return sorted({s for s in raw if budget < s < n})


def _method_params(method: str) -> dict[str, Any]:
    # Always the sparse k-NN path for facility location: the one that runs at scale.
    return {"dense_max_rows": 0} if method == "facility" else {}


def run(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from ila.selection import select

    try:
        import faiss

        faiss.omp_set_num_threads(args.threads)
    except ImportError:  # pragma: no cover
        pass

    t0 = time.perf_counter()
    df, emb = synthetic_landscape(args.n, args.cells, args.dim, args.centres, args.seed)
    gen_seconds = time.perf_counter() - t0
    print(
        f"landscape: N={args.n:,} cells={args.cells} dim={args.dim} budget={args.budget:,} "
        f"threads={args.threads} (generated in {gen_seconds:.1f} s)",
        flush=True,
    )

    def timed(method: str, n: int) -> float:
        sub = df if n == args.n else df.iloc[:n]
        sel = select(method, sub, args.budget, args.seed, embeddings=emb[:n], **_method_params(method))
        if len(sel.ids) != args.budget:
            raise RuntimeError(f"{method} selected {len(sel.ids)} of {args.budget}")
        return sel.seconds

    def warm_up(method: str) -> None:
        # One untimed tiny run: numba compiles apricot's kernels on first use.
        n = min(args.n, 1000)
        select(method, df.iloc[:n], min(args.budget, 10), args.seed, embeddings=emb[:n], **_method_params(method))

    full_size = {m.strip() for m in args.full_size.split(",") if m.strip()}
    results: dict[str, Any] = {}
    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        rec: dict[str, Any] = {"method": method, "n": args.n}
        warm_up(method)
        if method in full_size:
            runs = [timed(method, args.n) for _ in range(max(1, args.repeats))]
            rec.update(mode="measured", seconds=float(np.median(runs)), runs=runs)
        else:
            probes: list[tuple[int, float]] = []
            spent = 0.0
            for i, n in enumerate(_probe_sizes(args.probe_sizes, args.n, args.budget)):
                if i >= 2:  # the two smallest always run; later ones only if they fit
                    a, p = fit_power_law([q[0] for q in probes], [q[1] for q in probes])
                    if spent + a * n**p > args.max_seconds:
                        break
                sec = timed(method, n)
                spent += sec
                probes.append((n, sec))
                print(f"  {method}: n={n:,} {sec:.2f} s", flush=True)
            rec["probes"] = [{"n": n, "seconds": s} for n, s in probes]
            predicted = None
            if len(probes) >= 2:
                a, p = fit_power_law([q[0] for q in probes], [q[1] for q in probes])
                predicted = a * args.n**p
                rec.update(power_law_a=a, power_law_p=p, predicted_seconds=predicted)
            if predicted is not None and predicted <= args.max_seconds:
                rec.update(mode="measured", seconds=timed(method, args.n), runs=1)
            elif predicted is not None:
                rec.update(mode="extrapolated", seconds=predicted)
            else:
                rec.update(mode="not timed", seconds=None)
        results[method] = rec
        print(f"{method}: {rec['mode']} {rec['seconds']}", flush=True)

    ila_s = results.get("ila", {}).get("seconds")
    for rec in results.values():
        s = rec.get("seconds")
        rec["ratio_to_ila"] = (s / ila_s) if (s is not None and ila_s) else None

    print()
    print(f"{'method':<10} {'mode':<13} {'N':>10} {'seconds':>10} {'x ILA':>9}  note")
    for rec in results.values():
        note = ""
        if rec["mode"] == "measured" and rec["method"] in full_size:
            note = f"median of {len(rec['runs'])}"
        elif rec.get("power_law_p") is not None:
            sizes = ",".join(str(p["n"]) for p in rec["probes"])
            note = f"power law t ~ n^{rec['power_law_p']:.2f} fitted on n={sizes}"
            if rec["mode"] == "measured":
                note = f"run at N (predicted {rec['predicted_seconds']:.1f} s); " + note
            else:
                note = f"EXTRAPOLATED to N (> --max-seconds {args.max_seconds:g}); " + note
        sec = "-" if rec["seconds"] is None else f"{rec['seconds']:.2f}"
        ratio = "-" if rec["ratio_to_ila"] is None else f"{rec['ratio_to_ila']:.1f}"
        print(f"{rec['method']:<10} {rec['mode']:<13} {rec['n']:>10,} {sec:>10} {ratio:>9}  {note}")

    targets = {}
    if ila_s is not None:
        targets["ila_le_10s_at_1M"] = bool(ila_s <= 10.0) if args.n >= 1_000_000 else None
    kc = results.get("kcenter", {}).get("ratio_to_ila")
    if kc is not None:
        targets["ila_100x_faster_than_kcenter"] = bool(kc >= 100.0)
    print()
    for name, ok in targets.items():
        print(f"target {name}: {'n/a (N < 1,000,000)' if ok is None else ('PASS' if ok else 'FAIL')}")

    out = {
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "generate_seconds": gen_seconds,
        "results": results,
        "targets": targets,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
    }
    if args.out:
        from ila.io import write_json

        write_json(args.out, out)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _parse_args(argv)
    # Thread pools are fixed before numpy/faiss load when run as a script; in a
    # process that already loaded them, threadpoolctl limits BLAS at run time.
    from ila.runtime import set_threads

    set_threads(args.threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return run(args)
    with threadpool_limits(limits=args.threads):
        return run(args)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
