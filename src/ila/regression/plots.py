"""Figures of the regression study.

Figures are built on :class:`matplotlib.figure.Figure` directly (rendered by
the Agg and PDF backends, no pyplot global state, no backend switch).

Every function writes one figure as PNG and PDF, atomically, with the
metadata that changes between runs removed (PDF creation date, PNG software
tag), so the same inputs give the same bytes.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ila.figures import save
from ila.regression.ols import prepare

def _fmt(x) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _band_order(table: pd.DataFrame, band_col: str) -> list:
    """Bands ordered by their lower RID bound when the design's band_lo is
    present, else by first appearance."""
    bands = list(dict.fromkeys(table[band_col].astype(str)))
    if "band_lo" in table.columns:
        grouped = table.assign(_band=table[band_col].astype(str)).groupby("_band")
        lo = grouped["band_lo"].min()
        hi = grouped["band_hi"].max() if "band_hi" in table.columns else lo
        bands.sort(key=lambda b: (float(lo[b]), float(hi[b]), b))
    return bands


def observed_vs_predicted(
    table: pd.DataFrame,
    summary: dict,
    response: str,
    png: str | os.PathLike,
    pdf: str | os.PathLike,
) -> None:
    """Observed response against the OLS prediction, one point per subset
    (joined by subset), with the y = x line and R^2 / LOO-CV R^2 in the
    title. With a transformed response both axes are on the model's scale."""
    y, _, terms, _ = prepare(table, response, summary["regressors"], summary["transforms"])
    missing = sorted(set(y.index) - set(summary["predicted"]))
    if missing:
        raise ValueError(f"summary has no prediction for {len(missing)} subset(s), e.g. {missing[0]!r}")
    pred = np.array([summary["predicted"][s] for s in y.index], dtype=np.float64)
    obs = y.to_numpy()

    fig = Figure(figsize=(4.5, 4.2))
    ax = fig.add_subplot()
    tab = table.assign(subset=table["subset"].astype(str)).set_index("subset").loc[y.index]
    if "band" in tab.columns:
        for i, band in enumerate(_band_order(tab.reset_index(), "band")):
            sel = (tab["band"].astype(str) == band).to_numpy()
            ax.scatter(pred[sel], obs[sel], s=22, color=f"C{i}", label=band, zorder=3)
        ax.legend(title="depth band", fontsize=8, title_fontsize=8)
    else:
        ax.scatter(pred, obs, s=22, color="C0", zorder=3)
    lo = float(min(pred.min(), obs.min()))
    hi = float(max(pred.max(), obs.max()))
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.4", lw=1, ls="--", label="_y=x", zorder=1)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel(f"predicted {terms[response]}")
    ax.set_ylabel(f"observed {terms[response]}")
    ax.set_title(
        f"{summary['formula']}\nR$^2$ = {_fmt(summary['r2'])}, LOO-CV R$^2$ = {_fmt(summary['loo_cv_r2'])}",
        fontsize=9,
    )
    fig.tight_layout()
    save(fig, png, pdf)


def partial_residuals(table: pd.DataFrame, summary: dict, response: str, regressor: str) -> tuple[np.ndarray, np.ndarray, float]:
    """Added-variable coordinates of one regressor: the residual of its term
    on the other terms (x) and of the response on the other terms (y), by
    least squares with intercept; the slope of y on x equals the regressor's
    coefficient in the full fit. Returns (x, y, slope)."""
    y, X, terms, _ = prepare(table, response, summary["regressors"], summary["transforms"])
    t = terms[regressor]
    others = X.drop(columns=[t]).to_numpy()
    xj = X[t].to_numpy()
    yv = y.to_numpy()

    def resid(v: np.ndarray) -> np.ndarray:
        beta, *_ = np.linalg.lstsq(others, v, rcond=None)
        return v - others @ beta

    rx, ry = resid(xj), resid(yv)
    denom = float(rx @ rx)
    slope = float(rx @ ry) / denom if denom > 0 else float("nan")
    return rx, ry, slope


def partial_regression(
    table: pd.DataFrame,
    summary: dict,
    response: str,
    regressors: Sequence[str],
    png: str | os.PathLike,
    pdf: str | os.PathLike,
) -> None:
    """Added-variable (partial regression) plots, one panel per regressor,
    each with its fitted slope and the coefficient's p-value."""
    regressors = list(regressors)
    unknown = [r for r in regressors if r not in summary["regressors"]]
    if unknown:
        raise ValueError(f"regressor(s) {unknown} are not in the fit ({summary['regressors']})")
    fig = Figure(figsize=(4.0 * len(regressors), 3.8))
    axes = fig.subplots(1, len(regressors), squeeze=False)[0]
    for ax, reg in zip(axes, regressors):
        rx, ry, slope = partial_residuals(table, summary, response, reg)
        term = summary["terms"][reg]
        ax.scatter(rx, ry, s=20, color="C0", zorder=3)
        xs = np.array([rx.min(), rx.max()])
        ax.plot(xs, slope * xs, color="C3", lw=1.2)
        p = summary["coefficients"][term]["p"]
        ax.set_title(f"{term}: slope {slope:.3g}, p = {p:.2g}" if p is not None else term, fontsize=9)
        ax.set_xlabel(f"{term} | others")
        ax.set_ylabel(f"{summary['terms'][response]} | others")
        ax.axhline(0, color="0.8", lw=0.8, zorder=1)
        ax.axvline(0, color="0.8", lw=0.8, zorder=1)
    fig.tight_layout()
    save(fig, png, pdf)


def loss_vs_coverage(
    table: pd.DataFrame,
    response: str,
    coverage_col: str,
    band_col: str,
    png: str | os.PathLike,
    pdf: str | os.PathLike,
) -> None:
    """Response against coverage, one colour per depth band, with each band's
    least-squares line (where the band has two distinct coverage values)."""
    missing = [c for c in (response, coverage_col, band_col) if c not in table.columns]
    if missing:
        raise ValueError(f"study table lacks column(s) {missing}")
    tab = table.copy()
    if "subset" in tab.columns:
        tab = tab.sort_values("subset", kind="mergesort")
    for c in (response, coverage_col):
        v = pd.to_numeric(tab[c], errors="coerce")
        if v.isna().any():
            raise ValueError(f"column {c!r} has {int(v.isna().sum())} missing or non-numeric value(s)")
        tab[c] = v.astype(np.float64)
    fig = Figure(figsize=(5.0, 3.8))
    ax = fig.add_subplot()
    for i, band in enumerate(_band_order(tab, band_col)):
        part = tab[tab[band_col].astype(str) == band]
        x = part[coverage_col].to_numpy()
        y = part[response].to_numpy()
        ax.scatter(x, y, s=22, color=f"C{i}", label=band, zorder=3)
        if np.unique(x).size >= 2:
            slope, intercept = np.polyfit(x, y, 1)
            xs = np.array([x.min(), x.max()])
            ax.plot(xs, intercept + slope * xs, color=f"C{i}", lw=1, alpha=0.8)
    ax.set_xlabel(coverage_col)
    ax.set_ylabel(response)
    ax.legend(title=band_col, fontsize=8, title_fontsize=8)
    ax.set_title(f"{response} against {coverage_col}", fontsize=9)
    fig.tight_layout()
    save(fig, png, pdf)
