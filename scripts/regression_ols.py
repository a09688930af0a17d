"""OLS of dev loss on coverage and depth, with the diagnostics reviewers asked for."""
from ila.plumbing import job

with job(snakemake) as log:
    import pandas as pd

    from ila import io
    from ila.regression import ols

    p = snakemake.params
    table = pd.read_csv(snakemake.input.table)
    summary = ols.study_summary(table, p.response, list(p.regressors), dict(p.transforms))
    io.write_json(snakemake.output.summary, summary)
    io.write_text(snakemake.output.markdown, ols.summary_markdown(summary, table))
    log.info("R^2 %.3f, LOO-CV R^2 %s", summary["r2"], summary["loo_cv_r2"])
