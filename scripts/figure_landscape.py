"""Landscape map: candidates coloured by RID, grid drawn, I0 marked."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import figures, io, records

    cells = io.read_parquet(snakemake.input.cells)
    i0 = records.rows_by_id(cells, io.read_ids(snakemake.input.i0), "landscape")
    figures.landscape_map(
        io.read_parquet(snakemake.input.examples),
        io.read_json(snakemake.input.info),
        i0,
        snakemake.output.png,
        snakemake.output.pdf,
        dpi=snakemake.params.dpi,
    )
