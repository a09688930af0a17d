"""Figures of the regression study."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
import pandas as pd  # noqa: E402

from ila import io  # noqa: E402
from ila.regression import plots  # noqa: E402

p = snakemake.params  # noqa: F821
out = snakemake.output  # noqa: F821
table = pd.read_csv(snakemake.input.table)  # noqa: F821
summary = io.read_json(snakemake.input.summary)  # noqa: F821
plots.observed_vs_predicted(table, summary, p.response, out.observed, out.observed_pdf)
plots.partial_regression(table, summary, p.response, list(p.regressors), out.partial, out.partial_pdf)
plots.loss_vs_coverage(table, p.response, "coverage_occupied", "band", out.coverage, out.coverage_pdf)
