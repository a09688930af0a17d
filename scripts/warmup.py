"""Fine-tune the base model on I0: the warm-up model M_SFT."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
from ila import io, models, records, study  # noqa: E402
from ila.lm import prompt, train  # noqa: E402

p = snakemake.params  # noqa: F821
pool = io.read_parquet(snakemake.input.pool)  # noqa: F821
rows = records.rows_by_id(pool, io.read_ids(snakemake.input.ids), "pool")  # noqa: F821
metrics = train.finetune(
    models.read_handle(snakemake.input.base),  # noqa: F821
    records.to_records(rows),
    study.settings_from_config(p.finetune, p.max_length),
    prompt.PromptTemplate(**p.prompt),
    seed=p.seed,
    out_dir=snakemake.output.model,  # noqa: F821
    threads=snakemake.threads,  # noqa: F821
    device=p.device,
)
io.write_json(snakemake.output.metrics, metrics)  # noqa: F821
log.info("warm-up: %s", metrics)
