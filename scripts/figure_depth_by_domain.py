"""ID and RID distributions by domain."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import figures, io

    figures.depth_by_domain(
        io.read_parquet(snakemake.input.examples),
        snakemake.output.png,
        snakemake.output.pdf,
        dpi=snakemake.params.dpi,
    )
