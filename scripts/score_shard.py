"""Summed response losses of one shard under the base and warm-up models."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
from ila import io, models, records, shards  # noqa: E402
from ila.lm import jobs, prompt  # noqa: E402

p = snakemake.params  # noqa: F821
shard, _ = shards.shard_index(snakemake.wildcards.scatteritem)  # noqa: F821
plan = io.read_parquet(snakemake.input.plan)  # noqa: F821
# plan order: the scorer's length batches then equal the plan's batches
ids = plan.loc[plan["shard"] == shard].sort_values("order")["id"].tolist()
pool = io.read_parquet(snakemake.input.pool)  # noqa: F821
rows = records.to_records(records.rows_by_id(pool, ids, "pool"))
template = prompt.PromptTemplate(**p.prompt)
table, stats = jobs.score_models(
    {"base": models.read_handle(snakemake.input.base), "sft": snakemake.input.warmup},  # noqa: F821
    rows, template, max_length=p.max_length, batch_size=p.batch_size, device=p.device,
    uncond=["base"] if p.score_uncond else [],
)
io.write_parquet(snakemake.output[0], table)  # noqa: F821
log.info("scored %d examples: %s", len(table), stats)
