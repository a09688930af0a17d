"""Pretrain the tiny base model on the generic corpus."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
from ila import timing  # noqa: E402
from ila.lm import jobs, model, train  # noqa: E402

p = snakemake.params  # noqa: F821
shape = model.ModelShape(max_position=p.max_position, **p.shape)
settings = train.PretrainSettings(**{k: v for k, v in p.settings.items() if k != "threads"})
metrics = train.pretrain(
    snakemake.input.tokenizer,  # noqa: F821
    jobs.read_corpus(snakemake.input.corpus),  # noqa: F821
    shape,
    settings,
    seed=p.seed,
    out_dir=snakemake.output.model,  # noqa: F821
    threads=snakemake.threads,  # noqa: F821
    device=p.device,
)
timing.write(snakemake.output.metrics, metrics, snakemake.output.timing)  # noqa: F821
log.info("pretrain: %s", metrics)
