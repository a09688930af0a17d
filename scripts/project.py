"""2-D map of the candidate embeddings."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ila import embed, io, landscape  # noqa: E402

p = snakemake.params  # noqa: F821
pool_ids = io.read_parquet(snakemake.input.pool, columns=["id"])["id"].tolist()  # noqa: F821
candidates = io.read_ids(snakemake.input.candidates)  # noqa: F821
emb = np.load(snakemake.input.embeddings)  # noqa: F821
x = emb[embed.rows_for(candidates, pool_ids)]
xy = landscape.project_2d(
    x, p.method, pca_dims=p.pca_dims, perplexity=p.perplexity, backend=p.backend,
    n_iter=p.n_iter, seed=p.seed, threads=snakemake.threads,  # noqa: F821
)
io.write_parquet(snakemake.output[0], pd.DataFrame({"id": candidates, "x": xy[:, 0], "y": xy[:, 1]}))  # noqa: F821
log.info("projected %d candidates with %s", len(candidates), p.method)
