"""One row per scaling run: grid point, dev losses, accuracy, the selection's coverage, depth, time and exclusions."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io, scaling  # noqa: E402

table = scaling.scaling_table(
    [io.read_json(f) for f in snakemake.input.selections],  # noqa: F821
    [io.read_json(f) for f in snakemake.input.runs],  # noqa: F821
)
io.write_csv(snakemake.output[0], table)  # noqa: F821
log.info("scaling table: %d runs", len(table))
