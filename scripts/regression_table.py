"""One row per subset: its design, measured coverage and depth, and dev losses."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io
    from ila.regression.runs import join_runs

    subsets = io.read_parquet(snakemake.input.subsets)
    runs = [io.read_json(path) for path in snakemake.input.runs]
    table = join_runs(subsets, runs)
    io.write_csv(snakemake.output[0], table)
    log.info("regression table: %d subsets", len(table))
