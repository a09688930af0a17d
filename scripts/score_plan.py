"""Plan the scoring shards: candidates outside I0, bucketed by token length."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io, models, records, shards
    from ila.lm import jobs, prompt

    p = snakemake.params
    i0 = set(io.read_ids(snakemake.input.i0))
    ids = [i for i in io.read_ids(snakemake.input.candidates) if i not in i0]
    pool = io.read_parquet(snakemake.input.pool)
    rows = records.to_records(records.rows_by_id(pool, ids, "pool"))
    lengths = jobs.sequence_lengths(
        models.read_handle(snakemake.input.base), rows, prompt.PromptTemplate(**p.prompt), p.max_length
    )
    plan = shards.plan(ids, lengths, p.batch_size, p.shards)
    io.write_parquet(snakemake.output[0], plan)
    log.info("plan: %d examples (I0 of %d excluded), %d batches, %d shards", len(plan), len(i0), plan["batch"].nunique() if len(plan) else 0, p.shards)
