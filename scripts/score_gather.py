"""Gather scoring shards, in plan order, every planned id exactly once."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io, shards  # noqa: E402

plan = io.read_parquet(snakemake.input.plan)  # noqa: F821
frames = [io.read_parquet(f) for f in snakemake.input.shards]  # noqa: F821
table = shards.gather_frames(frames, sorted(plan["id"]))
io.write_parquet(snakemake.output[0], table)  # noqa: F821
log.info("gathered %d scores from %d shards", len(table), len(frames))
