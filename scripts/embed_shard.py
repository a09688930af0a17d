"""Embed one shard of the pool."""
from ila.plumbing import job

with job(snakemake, torch=True) as log:
    import numpy as np

    from ila import embed, io, shards

    p = snakemake.params
    shard, n = shards.shard_index(snakemake.wildcards.scatteritem)
    pool = io.read_parquet(snakemake.input.pool, columns=["id", "instruction", "input"])
    ids, vectors, stats = embed.embed_shard(
        pool, shard, n, p.model, batch_size=p.batch_size, device=p.device, max_seq_length=p.max_seq_length
    )
    with io.atomic_path(snakemake.output[0]) as tmp:
        with open(tmp, "wb") as fh:
            # timings go to the log only, so the shard's bytes depend on the data alone
            counts = {k: stats[k] for k in ("shard", "shards", "examples", "dimension")}
            np.savez(fh, ids=np.array(ids, dtype="U"), vectors=vectors, stats=np.array(io.dumps_json(counts)))
    log.info("%s", stats)
