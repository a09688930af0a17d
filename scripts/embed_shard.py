"""Embed one shard of the pool."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
import numpy as np  # noqa: E402

from ila import embed, io, shards  # noqa: E402

p = snakemake.params  # noqa: F821
shard, n = shards.shard_index(snakemake.wildcards.scatteritem)  # noqa: F821
pool = io.read_parquet(snakemake.input.pool, columns=["id", "instruction", "input"])  # noqa: F821
ids, vectors, stats = embed.embed_shard(
    pool, shard, n, p.model, batch_size=p.batch_size, device=p.device, max_seq_length=p.max_seq_length
)
with io.atomic_path(snakemake.output[0]) as tmp:  # noqa: F821
    with open(tmp, "wb") as fh:
        # timings go to the log only, so the shard's bytes depend on the data alone
        counts = {k: stats[k] for k in ("shard", "shards", "examples", "dimension")}
        np.savez(fh, ids=np.array(ids, dtype="U"), vectors=vectors, stats=np.array(io.dumps_json(counts)))
log.info("%s", stats)
