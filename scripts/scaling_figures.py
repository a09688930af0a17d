"""Figures of the scaling study: score vs budget, score vs pool size, coverage and depth of the selections."""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import scaling

    p = snakemake.params
    out = snakemake.output
    table = pd.read_csv(snakemake.input.table)
    scaling.plot_budget(table, p.metric, p.reference, out.budget, out.budget_pdf, p.dpi)
    scaling.plot_pool(table, p.metric, p.reference, p.fixed_budget, out.pool, out.pool_pdf, p.dpi)
    scaling.plot_selection(table, p.reference, out.selection, out.selection_pdf, p.dpi)
