"""ID and RID distributions by domain."""
from ila.workflow import start

log = start(snakemake)
from ila import figures, io

figures.depth_by_domain(
    io.read_parquet(snakemake.input.examples),
    snakemake.output.png,
    snakemake.output.pdf,
    dpi=snakemake.params.dpi,
)
