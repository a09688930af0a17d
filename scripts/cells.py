"""Cells of the landscape: a uniform grid on the 2-D map, or k-means."""
from ila.plumbing import job

with job(snakemake) as log:
    import numpy as np

    from ila import embed, io, landscape

    p = snakemake.params
    cmap = io.read_parquet(snakemake.input.map)
    if p.method == "grid":
        cells, info = landscape.grid_cells(cmap[["x", "y"]].to_numpy(), p.grid_size)
        total = p.grid_size * p.grid_size
    else:
        pool_ids = io.read_parquet(snakemake.input.pool, columns=["id"])["id"].tolist()
        emb = np.load(snakemake.input.embeddings)
        cells = landscape.kmeans_cells(emb[embed.rows_for(cmap["id"].tolist(), pool_ids)], p.k, seed=p.seed, backend=p.backend)
        info, total = {}, p.k
    cmap["cell"] = cells
    counts = cmap["cell"].value_counts()
    info.update(
        method=p.method,
        total_cells=int(total),
        occupied_cells=int(len(counts)),
        candidates=int(len(cmap)),
        largest_cell=int(counts.max()),
        median_cell=float(counts.median()),
    )
    io.write_parquet(snakemake.output.cells, cmap[["id", "cell", "x", "y"]])
    io.write_json(snakemake.output.info, info)
    log.info("cells: %s", info)
