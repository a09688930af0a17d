"""ID and RID for every scored candidate, joined with its cell: the per-example table."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import depth, io  # noqa: E402

p = snakemake.params  # noqa: F821
table, ledger = depth.build_examples_table(
    io.read_parquet(snakemake.input.pool, columns=["id", "domain", "labels"]),  # noqa: F821
    io.read_parquet(snakemake.input.scores),  # noqa: F821
    io.read_parquet(snakemake.input.cells),  # noqa: F821
    domain_mode=p.domain_from,
    label_mode=p.labels,
    rid_within=p.rid_within,
)
io.write_parquet(snakemake.output.table, table)  # noqa: F821
io.write_json(snakemake.output.ledger, ledger)  # noqa: F821
log.info("depth ledger: %s", ledger)
