"""Figures of the scaling study: score vs budget, score vs pool size, coverage and depth of the selections."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
import pandas as pd  # noqa: E402

from ila import scaling  # noqa: E402

p = snakemake.params  # noqa: F821
out = snakemake.output  # noqa: F821
table = pd.read_csv(snakemake.input.table)  # noqa: F821
scaling.plot_budget(table, p.metric, p.reference, out.budget, out.budget_pdf, p.dpi)
scaling.plot_pool(table, p.metric, p.reference, p.fixed_budget, out.pool, out.pool_pdf, p.dpi)
scaling.plot_selection(table, p.reference, out.selection, out.selection_pdf, p.dpi)
