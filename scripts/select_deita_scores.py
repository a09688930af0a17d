"""Deita complexity and quality of every candidate (the offline proxy or the Deita scorer models)."""
from ila.workflow import start

log = start(snakemake, torch=True)  # noqa: F821
from ila import io  # noqa: E402
from ila.selection.deita import deita_scores  # noqa: E402

p = snakemake.params  # noqa: F821
candidates = io.read_parquet(snakemake.input.candidates)  # noqa: F821
scores, info = deita_scores(candidates, p.deita, device=p.device)
io.write_parquet(snakemake.output.table, scores)  # noqa: F821
io.write_json(snakemake.output.info, info)  # noqa: F821
log.info("Deita scores: %s", info)
