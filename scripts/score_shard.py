"""Summed response losses of one shard under the base and warm-up models."""
from ila.plumbing import job

with job(snakemake, torch=True) as log:
    from ila import io, models, records, shards
    from ila.lm import jobs, prompt

    p = snakemake.params
    shard, _ = shards.shard_index(snakemake.wildcards.scatteritem)
    plan = io.read_parquet(snakemake.input.plan)
    # plan order: the scorer's length batches then equal the plan's batches
    ids = plan.loc[plan["shard"] == shard].sort_values("order")["id"].tolist()
    pool = io.read_parquet(snakemake.input.pool)
    rows = records.to_records(records.rows_by_id(pool, ids, "pool"))
    template = prompt.PromptTemplate(**p.prompt)
    table, stats = jobs.score_models(
        {"base": models.read_handle(snakemake.input.base), "sft": snakemake.input.warmup},
        rows, template, max_length=p.max_length, batch_size=p.batch_size, device=p.device,
        uncond=["base"] if p.score_uncond else [],
    )
    io.write_parquet(snakemake.output[0], table)
    log.info("scored %d examples: %s", len(table), stats)
