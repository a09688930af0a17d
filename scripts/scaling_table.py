"""One row per scaling run (grid point, test losses, benchmark, the selection's coverage, depth and exclusions) and the runs' wall-clock seconds in a table of their own."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io, scaling, timing

    inp = snakemake.input
    selections = [io.read_json(f) for f in inp.selections]
    runs = [io.read_json(f) for f in inp.runs]
    table = scaling.scaling_table(selections, runs)
    io.write_csv(snakemake.output.table, table)
    # the timings rejoin their records file by file (same relative path), then the table joins runs by grid point
    timed_selections = [timing.merge(s, io.read_json(t)) for s, t in zip(selections, inp.selection_timings)]
    timed_runs = [timing.merge(r, io.read_json(t)) for r, t in zip(runs, inp.run_timings)]
    io.write_csv(snakemake.output.timings, scaling.timing_table(timed_selections, timed_runs))
    log.info("scaling table: %d runs", len(table))
