"""OLS of dev loss on coverage and depth, with the diagnostics reviewers asked for."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
import pandas as pd  # noqa: E402

from ila import io  # noqa: E402
from ila.regression import ols  # noqa: E402

p = snakemake.params  # noqa: F821
table = pd.read_csv(snakemake.input.table)  # noqa: F821
summary = ols.study_summary(table, p.response, list(p.regressors), dict(p.transforms))
io.write_json(snakemake.output.summary, summary)  # noqa: F821
io.write_text(snakemake.output.markdown, ols.summary_markdown(summary, table))  # noqa: F821
log.info("R^2 %.3f, LOO-CV R^2 %s", summary["r2"], summary["loo_cv_r2"])
