"""One row per scaling run (grid point, test losses, benchmark, the selection's coverage, depth and exclusions) and the runs' wall-clock seconds in a table of their own."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io, scaling  # noqa: E402

selections = [io.read_json(f) for f in snakemake.input.selections]  # noqa: F821
runs = [io.read_json(f) for f in snakemake.input.runs]  # noqa: F821
table = scaling.scaling_table(selections, runs)
io.write_csv(snakemake.output.table, table)  # noqa: F821
io.write_csv(snakemake.output.timings, scaling.timing_table(selections, runs))  # noqa: F821
log.info("scaling table: %d runs", len(table))
