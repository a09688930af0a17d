"""2-D map of the candidate embeddings."""
from ila.plumbing import job

with job(snakemake) as log:
    import numpy as np
    import pandas as pd

    from ila import embed, io, landscape

    p = snakemake.params
    pool_ids = io.read_parquet(snakemake.input.pool, columns=["id"])["id"].tolist()
    candidates = io.read_ids(snakemake.input.candidates)
    emb = np.load(snakemake.input.embeddings)
    x = emb[embed.rows_for(candidates, pool_ids)]
    xy = landscape.project_2d(
        x, p.method, pca_dims=p.pca_dims, perplexity=p.perplexity, backend=p.backend,
        n_iter=p.n_iter, seed=p.seed, threads=snakemake.threads,
    )
    io.write_parquet(snakemake.output[0], pd.DataFrame({"id": candidates, "x": xy[:, 0], "y": xy[:, 1]}))
    log.info("projected %d candidates with %s", len(candidates), p.method)
