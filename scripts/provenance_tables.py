"""Provenance tables for the report: per figure and table its rule, script,
params and chain of steps; the software versions; the resolved config."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila.plumbing import report

    out = snakemake.output
    tables = report.write_report_tables(
        snakemake.input.products,
        products=out.products,
        steps=out.steps,
        software=out.software,
        config=out.config,
    )
    log.info("provenance: %d product(s), %d step(s)", len(tables.products), len(tables.steps))
