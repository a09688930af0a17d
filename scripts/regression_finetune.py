"""Fine-tune the base model on one regression subset and measure its dev loss."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
from ila import io, models, records, study  # noqa: E402
from ila.lm.prompt import PromptTemplate  # noqa: E402

p = snakemake.params  # noqa: F821
subset = snakemake.wildcards.subset  # noqa: F821
members = io.read_parquet(snakemake.input.members)  # noqa: F821
ids = members.loc[members["subset"] == subset, "id"].tolist()
if not ids:
    raise ValueError(f"{snakemake.input.members}: subset {subset!r} has no members")  # noqa: F821
metrics = study.train_and_evaluate(
    models.read_handle(snakemake.input.base),  # noqa: F821
    io.read_parquet(snakemake.input.pool),  # noqa: F821
    ids,
    io.read_ids(snakemake.input.dev),  # noqa: F821
    study.settings_from_config(p.finetune, p.max_length),
    PromptTemplate(**p.prompt),
    seed=records.derived_seed(p.seed, "regression", subset),
    threads=snakemake.threads,  # noqa: F821
    device=p.device,
    clip=p.clip,
    dev_batch_size=p.batch_size,
    out_dir=p.model_dir if p.keep_model else None,
    processes=snakemake.config["finetune"]["processes"],  # noqa: F821
    checkpoint_dir=p.checkpoint_dir,
    checkpoint_steps=snakemake.config["finetune"]["checkpoint_steps"],  # noqa: F821
)
metrics["subset"] = subset
io.write_json(snakemake.output[0], metrics)  # noqa: F821
