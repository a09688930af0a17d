"""Generate the toy instruction pool as JSON Lines (read by the ingest rule)."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila.pool import toy  # noqa: E402

p = snakemake.params  # noqa: F821
records = toy.generate(p.n, seed=p.seed, families=p.families, min_depth=p.min_depth, max_depth=p.max_depth)
toy.write_jsonl(records, snakemake.output[0])  # noqa: F821
log.info("wrote %d toy examples", len(records))
