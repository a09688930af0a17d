"""Draw the warm-up set I0 from the candidates."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila import io, records

    p = snakemake.params
    candidates = io.read_ids(snakemake.input.candidates)
    i0 = records.seeded_sample(candidates, p.size, p.seed, salt="warmup")
    io.write_ids(snakemake.output[0], i0)
    log.info("I0: %d of %d candidates", len(i0), len(candidates))
