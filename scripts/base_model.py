"""Write the handle of the base model M0 (the tiny model trained here, or a hub name)."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import models

    base = snakemake.params.base
    if base == "tiny":
        models.write_handle(snakemake.output[0], snakemake.input[0], "tiny")
    else:
        models.write_handle(snakemake.output[0], base, "pretrained")
    log.info("base model: %s", base)
