"""ID and RID for every scored candidate, joined with its cell: the per-example table."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import depth, io

    p = snakemake.params
    table, ledger = depth.build_examples_table(
        io.read_parquet(snakemake.input.pool, columns=["id", "domain", "labels"]),
        io.read_parquet(snakemake.input.scores),
        io.read_parquet(snakemake.input.cells),
        domain_mode=p.domain_from,
        label_mode=p.labels,
        rid_within=p.rid_within,
    )
    io.write_parquet(snakemake.output.table, table)
    io.write_json(snakemake.output.ledger, ledger)
    log.info("depth ledger: %s", ledger)
