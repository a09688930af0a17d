"""Draw the warm-up set I0 from the candidates."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila import io, records  # noqa: E402

p = snakemake.params  # noqa: F821
candidates = io.read_ids(snakemake.input.candidates)  # noqa: F821
i0 = records.seeded_sample(candidates, p.size, p.seed, salt="warmup")
io.write_ids(snakemake.output[0], i0)  # noqa: F821
log.info("I0: %d of %d candidates", len(i0), len(candidates))
