"""Gather scoring shards, in plan order, every planned id exactly once."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io, shards

    plan = io.read_parquet(snakemake.input.plan)
    frames = [io.read_parquet(f) for f in snakemake.input.shards]
    table = shards.gather_frames(frames, sorted(plan["id"]))
    io.write_parquet(snakemake.output[0], table)
    log.info("gathered %d scores from %d shards", len(table), len(frames))
