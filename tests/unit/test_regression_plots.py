"""Figures of the regression study: files written, bytes stable, numbers right."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from ila.regression.ols import fit_study
from ila.regression.plots import loss_vs_coverage, observed_vs_predicted, partial_regression, partial_residuals


@pytest.fixture(scope="module")
def study():
    rng = np.random.default_rng(0)
    rows = []
    for level in (0.25, 0.5, 0.75, 1.0):
        for band, depth in (("low", 0.2), ("mixed", 0.5), ("high", 0.8)):
            for rep in (1, 2, 3):
                cov = level + rng.normal(0, 0.02)
                rid = depth + rng.normal(0, 0.03)
                rows.append(
                    dict(
                        subset=f"c{level:g}-{band}-s{rep}",
                        level=level,
                        band=band,
                        band_lo={"low": 0.0, "mixed": 0.0, "high": 2 / 3}[band],
                        band_hi={"low": 1 / 3, "mixed": 1.0, "high": 1.0}[band],
                        coverage_occupied=cov,
                        mean_RID=rid,
                        dev_loss=3.0 - 0.6 * np.log(cov) - 0.5 * rid + rng.normal(0, 0.05),
                    )
                )
    table = pd.DataFrame(rows)
    summary = fit_study(table, "dev_loss", ["coverage_occupied", "mean_RID"], {"coverage_occupied": "log"})
    return table, summary


def _check_files(png, pdf):
    assert png.stat().st_size > 1000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert pdf.stat().st_size > 1000 and pdf.read_bytes()[:5] == b"%PDF-"


def test_figures_written_and_byte_stable(study, tmp_path):
    table, summary = study
    calls = {
        "ovp": lambda png, pdf: observed_vs_predicted(table, summary, "dev_loss", png, pdf),
        "partial": lambda png, pdf: partial_regression(
            table, summary, "dev_loss", ["coverage_occupied", "mean_RID"], png, pdf
        ),
        "coverage": lambda png, pdf: loss_vs_coverage(table, "dev_loss", "coverage_occupied", "band", png, pdf),
    }
    for name, call in calls.items():
        png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
        call(png, pdf)
        _check_files(png, pdf)
        first_pdf, first_png = pdf.read_bytes(), png.read_bytes()
        call(png, pdf)
        assert pdf.read_bytes() == first_pdf, name
        assert png.read_bytes() == first_png, name
        assert b"CreationDate" not in first_pdf
    # no temporary files left beside the outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{n}.{ext}" for n in calls for ext in ("png", "pdf")
    )


def test_partial_residual_slope_is_the_coefficient(study):
    table, summary = study
    for reg in ("coverage_occupied", "mean_RID"):
        rx, ry, slope = partial_residuals(table, summary, "dev_loss", reg)
        term = summary["terms"][reg]
        assert slope == pytest.approx(summary["coefficients"][term]["coef"], rel=1e-10)
        assert len(rx) == len(table) and abs(rx.mean()) < 1e-10 and abs(ry.mean()) < 1e-10
    ref = smf.ols("dev_loss ~ mean_RID", data=table).fit()
    rx, ry, _ = partial_residuals(table, summary, "dev_loss", "coverage_occupied")
    # the y residuals of coverage's panel are those of the response on the other term
    by_subset = ref.resid.set_axis(table["subset"]).sort_index()
    assert ry == pytest.approx(by_subset.to_numpy(), abs=1e-10)


def test_plot_errors(study, tmp_path):
    table, summary = study
    with pytest.raises(ValueError, match="not in the fit"):
        partial_regression(table, summary, "dev_loss", ["n_domains"], tmp_path / "a.png", tmp_path / "a.pdf")
    with pytest.raises(ValueError, match="lacks"):
        loss_vs_coverage(table, "dev_loss", "coverage_grid", "band", tmp_path / "b.png", tmp_path / "b.pdf")
    extra = pd.concat([table, table.iloc[[0]].assign(subset="new")])
    with pytest.raises(ValueError, match="no prediction.*'new'"):
        observed_vs_predicted(extra, summary, "dev_loss", tmp_path / "c.png", tmp_path / "c.pdf")
