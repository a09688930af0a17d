"""One row per (method, grid point, task, metric) of the benchmark runs."""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import io, scaling

    rows = []
    for path in snakemake.input:
        res = io.read_json(path)
        point = scaling.parse_key(res["key"])
        for task, metrics in sorted(res["tasks"].items()):
            for metric, value in sorted(metrics.items()):
                rows.append(dict(method=res["method"], pool_fraction=point.fraction, budget=point.budget, replicate=point.replicate,
                                 task=task, metric=metric, value=value, n_samples=res["n_samples"].get(task)))
    io.write_csv(snakemake.output[0], pd.DataFrame(rows))
    log.info("%d benchmark rows", len(rows))
