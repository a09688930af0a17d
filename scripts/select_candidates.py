"""The selection candidates: the per-example table (I0 excluded) with the pool's text and the seeded pool order, and a ledger of every pool row."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io, scaling

    inp = snakemake.input
    table, ledger = scaling.candidate_table(
        io.read_parquet(inp.examples),
        io.read_parquet(inp.pool, columns=["id", *scaling.TEXT_COLUMNS]),
        io.read_ids(inp.non_dev),
        io.read_ids(inp.dev),
        io.read_ids(inp.i0),
        seed=snakemake.params.seed,
    )
    io.write_parquet(snakemake.output.table, table)
    io.write_json(snakemake.output.ledger, ledger)
    log.info("selection candidates: %s", ledger)
