"""ID and RID distributions by domain."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import figures, io  # noqa: E402

figures.depth_by_domain(
    io.read_parquet(snakemake.input.examples),  # noqa: F821
    snakemake.output.png,  # noqa: F821
    snakemake.output.pdf,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
)
