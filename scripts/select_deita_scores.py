"""Deita complexity and quality of every candidate (the offline proxy or the Deita scorer models)."""
from ila.plumbing import job

with job(snakemake, torch=True) as log:
    from ila import io
    from ila.selection.deita_scores import deita_scores

    p = snakemake.params
    candidates = io.read_parquet(snakemake.input.candidates)
    scores, info = deita_scores(candidates, p.deita, device=p.device)
    io.write_parquet(snakemake.output.table, scores)
    io.write_json(snakemake.output.info, info)
    log.info("Deita scores: %s", info)
