"""Pretrain the tiny base model on the generic corpus."""
from ila.plumbing import job

with job(snakemake, torch=True) as log:
    from ila import timing
    from ila.lm import jobs, model, pretrain

    p = snakemake.params
    shape = model.ModelShape(max_position=p.max_position, **p.shape)
    settings = pretrain.PretrainSettings(**{k: v for k, v in p.settings.items() if k != "threads"})
    metrics = pretrain.pretrain(
        snakemake.input.tokenizer,
        jobs.read_corpus(snakemake.input.corpus),
        shape,
        settings,
        seed=p.seed,
        out_dir=snakemake.output.model,
        threads=snakemake.threads,
        device=p.device,
    )
    timing.write(snakemake.output.metrics, metrics, snakemake.output.timing)
    log.info("pretrain: %s", metrics)
