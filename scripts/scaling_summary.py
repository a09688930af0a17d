"""Does each method beat the baseline, by how much (95% CIs over replicates), does its margin grow with the pool, and did the predictions hold?"""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
import pandas as pd  # noqa: E402

from ila import io, scaling  # noqa: E402

p = snakemake.params  # noqa: F821
table = pd.read_csv(snakemake.input.table)  # noqa: F821
summary = scaling.summarize(table, list(p.metrics), p.baseline, p.fixed_budget, list(p.notes), list(p.predictions))
io.write_json(snakemake.output.summary, summary)  # noqa: F821
io.write_text(snakemake.output.markdown, scaling.summary_markdown(summary))  # noqa: F821
log.info("\n".join(summary["headline"]))
