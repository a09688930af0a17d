"""One row per subset: its design, measured coverage and depth, and dev losses."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io  # noqa: E402
from ila.regression import design  # noqa: E402

subsets = io.read_parquet(snakemake.input.subsets)  # noqa: F821
runs = [io.read_json(path) for path in snakemake.input.runs]  # noqa: F821
table = design.join_runs(subsets, runs)
io.write_csv(snakemake.output[0], table)  # noqa: F821
log.info("regression table: %d subsets", len(table))
