"""Does each method beat the baseline, by how much (95% CIs over replicates), does its margin grow with the pool, and did the predictions hold?"""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import io, scaling

    p = snakemake.params
    table = pd.read_csv(snakemake.input.table)
    summary = scaling.summarize(table, list(p.metrics), p.baseline, p.fixed_budget, list(p.notes), list(p.predictions))
    io.write_json(snakemake.output.summary, summary)
    io.write_text(snakemake.output.markdown, scaling.summary_markdown(summary))
    log.info("\n".join(summary["headline"]))
