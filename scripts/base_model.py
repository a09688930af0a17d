"""Write the handle of the base model M0 (the tiny model trained here, or a hub name)."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import models  # noqa: E402

base = snakemake.params.base  # noqa: F821
if base == "tiny":
    models.write_handle(snakemake.output[0], snakemake.input[0], "tiny")  # noqa: F821
else:
    models.write_handle(snakemake.output[0], base, "pretrained")  # noqa: F821
log.info("base model: %s", base)
