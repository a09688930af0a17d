"""Landscape map: candidates coloured by RID, grid drawn, I0 marked."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import figures, io, records  # noqa: E402

cells = io.read_parquet(snakemake.input.cells)  # noqa: F821
i0 = records.rows_by_id(cells, io.read_ids(snakemake.input.i0), "landscape")  # noqa: F821
figures.landscape_map(
    io.read_parquet(snakemake.input.examples),  # noqa: F821
    io.read_json(snakemake.input.info),  # noqa: F821
    i0,
    snakemake.output.png,  # noqa: F821
    snakemake.output.pdf,  # noqa: F821
    dpi=snakemake.params.dpi,  # noqa: F821
)
