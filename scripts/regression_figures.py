"""Figures of the regression study."""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import io
    from ila.regression import plots

    p = snakemake.params
    out = snakemake.output
    table = pd.read_csv(snakemake.input.table)
    summary = io.read_json(snakemake.input.summary)
    plots.observed_vs_predicted(table, summary, p.response, out.observed, out.observed_pdf)
    plots.partial_regression(table, summary, p.response, list(p.regressors), out.partial, out.partial_pdf)
    plots.loss_vs_coverage(table, p.response, "coverage_occupied", "band", out.coverage, out.coverage_pdf)
