"""Draw the regression study's subsets and measure their coverage and depth."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io
    from ila.regression import design, measures, runs

    p = snakemake.params
    examples = io.read_parquet(snakemake.input.examples)
    cells = io.read_json(snakemake.input.cells)
    if p.design == "factorial":
        members, plan = design.factorial_design(
            examples, p.size, p.coverage_levels, {k: tuple(v) for k, v in p.depth_bands.items()}, p.seeds, p.group_by, p.seed
        )
    else:
        members, plan = design.random_design(examples, p.size, p.n_random, p.seed, p.group_by)
    subsets = measures.measure(examples, members, plan, cells["total_cells"], cells["occupied_cells"])
    io.write_parquet(snakemake.output.members, members)
    io.write_parquet(snakemake.output.subsets, subsets)
    runs.write_subset_ids(members, snakemake.output.ids)
    log.info("%d subsets of %d examples\n%s", len(subsets), p.size, subsets.to_string())
