"""Gather embedding shards into one matrix in pool order, with a sidecar."""
from ila.plumbing import job

with job(snakemake) as log:
    import json

    import numpy as np

    from ila import embed, io

    pool_ids = io.read_parquet(snakemake.input.pool, columns=["id"])["id"].tolist()
    ids, vectors, stats = [], [], []
    for path in snakemake.input.shards:
        with np.load(path, allow_pickle=False) as z:
            ids.append(z["ids"].tolist())
            vectors.append(z["vectors"])
            stats.append(json.loads(str(z["stats"])))
    matrix = embed.gather(ids, vectors, pool_ids)
    io.write_npy(snakemake.output.embeddings, matrix)
    io.write_json(
        snakemake.output.meta,
        {
            "model": snakemake.params.model,
            "rows": len(pool_ids),
            "dimension": int(matrix.shape[1]),
            "row_order": "pool order (pool.parquet, sorted by id)",
            "pool_ids_sha256": io.sha256_ids(pool_ids),
            "pool_sha256": io.sha256_file(snakemake.input.pool),
            "shards": [{k: s[k] for k in ("shard", "examples")} for s in stats],
        },
    )
    log.info("gathered %d x %d from %d shards", *matrix.shape, len(stats))
