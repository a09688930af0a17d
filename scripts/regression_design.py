"""Draw the regression study's subsets and measure their coverage and depth."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io  # noqa: E402
from ila.regression import design  # noqa: E402

p = snakemake.params  # noqa: F821
examples = io.read_parquet(snakemake.input.examples)  # noqa: F821
cells = io.read_json(snakemake.input.cells)  # noqa: F821
if p.design == "factorial":
    members, plan = design.factorial_design(
        examples, p.size, p.coverage_levels, {k: tuple(v) for k, v in p.depth_bands.items()}, p.seeds, p.group_by, p.seed
    )
else:
    members, plan = design.random_design(examples, p.size, p.n_random, p.seed, p.group_by)
subsets = design.measure(examples, members, plan, cells["total_cells"], cells["occupied_cells"])
io.write_parquet(snakemake.output.members, members)  # noqa: F821
io.write_parquet(snakemake.output.subsets, subsets)  # noqa: F821
design.write_subset_ids(members, snakemake.output.ids)  # noqa: F821
log.info("%d subsets of %d examples\n%s", len(subsets), p.size, subsets.to_string())
