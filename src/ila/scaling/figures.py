"""The study's figures: score vs budget, score vs pool size, what the selections reached."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from ila.stats import mean_ci

_LABELS = {
    "test_loss": "test loss (nats / response token)",
    "test_loss_domain_mean": "test loss, mean of domains",
    "test_loss_example_mean": "test loss, mean of examples",
    "test_loss_clipped": "test loss, clipped example mean",
    "mc_accuracy": "benchmark accuracy (4-way multiple choice)",
    "answer_loss": "benchmark answer-line loss (nats / token)",
    "benchmark_loss": "held-out benchmark loss (nats / token)",
    "accuracy": "task accuracy (exact match)",
    "coverage_occupied": "coverage (share of occupied cells)",
    "mean_RID": "mean RID of the selection",
}


def _style(methods: Sequence[str], reference: str) -> dict[str, dict]:
    styles = {}
    others = [m for m in methods if m != reference]
    for i, m in enumerate(others):
        styles[m] = {"color": f"C{(i + 1) % 10}", "lw": 1.2, "marker": "os^vD<>ph*"[i % 10], "ms": 4}
    styles[reference] = {"color": "C0", "lw": 2.4, "marker": "o", "ms": 6, "zorder": 5}
    return styles


def _curves(ax, table: pd.DataFrame, x: str, y: str, reference: str, logx: bool = True) -> None:
    methods = sorted(table["method"].unique())
    styles = _style(methods, reference)
    for m in [m for m in methods if m != reference] + ([reference] if reference in methods else []):
        rows = table[table["method"] == m]
        xs, mean, lo, hi = [], [], [], []
        for xv, g in rows.groupby(x, sort=True):
            ci = mean_ci(pd.to_numeric(g[y], errors="coerce"))
            if ci["n"] == 0:
                continue
            xs.append(xv)
            mean.append(ci["mean"])
            lo.append(ci["ci_low"] if ci["n"] > 1 else ci["mean"])
            hi.append(ci["ci_high"] if ci["n"] > 1 else ci["mean"])
        if not xs:
            continue
        st = styles[m]
        ax.plot(xs, mean, label=m, **st)
        if max(h - lw for h, lw in zip(hi, lo)) > 0:  # the 95% t interval of the mean over replicates
            ax.fill_between(xs, lo, hi, color=st["color"], alpha=0.12, lw=0)
    if logx:
        ax.set_xscale("log", base=2)
        xs = sorted(table[x].unique())
        ax.set_xticks(xs)
        ax.set_xticklabels([str(int(v)) for v in xs], fontsize=8)
        ax.minorticks_off()
    ax.set_ylabel(_LABELS.get(y, y))
    ax.grid(alpha=0.3, lw=0.5)
    if y in ("accuracy", "mc_accuracy"):
        top = pd.to_numeric(table[y], errors="coerce").max()
        ax.set_ylim(-0.02, min(1.02, max(0.1, 1.15 * top)) if pd.notna(top) else 0.1)
    if y == "mc_accuracy" and "mc_chance" in table.columns:
        chance = pd.to_numeric(table["mc_chance"], errors="coerce").mean()
        if pd.notna(chance):
            ax.axhline(chance, color="0.4", lw=0.8, ls=":", zorder=0, label="chance")


def _measured(table: pd.DataFrame, column: str) -> bool:
    return column in table.columns and pd.to_numeric(table[column], errors="coerce").notna().any()


def plot_budget(table: pd.DataFrame, metric: str, reference: str, png, pdf, dpi: int = 150) -> None:
    """Score against budget at the largest pool, one line per method (mean
    over replicates, band = its 95% t interval); a second panel with the
    benchmark accuracy when it was measured."""
    top = table["pool_fraction"].max()
    sub = table[table["pool_fraction"] == top]
    title = f"Score vs budget, pool of {int(sub['pool_size'].max())} candidates"
    _score_panels(sub, metric, reference, "budget", "budget (selected instructions)", title, png, pdf, dpi)


def plot_pool(table: pd.DataFrame, metric: str, reference: str, budget: int, png, pdf, dpi: int = 150) -> None:
    """Accelerated scaling: score against pool size at the fixed budget, one
    line per method (mean, 95% t interval); benchmark accuracy as a second
    panel when measured."""
    sub = table[table["budget"] == budget]
    if sub["pool_size"].nunique() < 1:
        raise ValueError(f"no runs at budget {budget}")
    title = f"Score vs pool size at budget {budget}"
    _score_panels(sub, metric, reference, "pool_size", "candidate pool size", title, png, pdf, dpi)


def _score_panels(sub, metric, reference, x, xlabel, title, png, pdf, dpi) -> None:
    """One panel of `metric` against `x` per method (the multiple-choice
    benchmark accuracy, else exact match, as a second panel when measured),
    saved as PNG + PDF."""
    from ila.figures import plt, save

    second = next((c for c in ("mc_accuracy", "accuracy") if c != metric and _measured(sub, c)), None)
    panels = [metric] + ([second] if second else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for ax, y in zip(axes[0], panels):
        _curves(ax, sub, x, y, reference)
        ax.set_xlabel(xlabel)
    axes[0][0].legend(fontsize=8, ncol=2)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, png, pdf, dpi)


def plot_selection(table: pd.DataFrame, reference: str, png, pdf, dpi: int = 150) -> None:
    """Coverage and mean RID of each method's selections against budget, at
    the largest pool."""
    from ila.figures import plt, save

    top = table["pool_fraction"].max()
    sub = table[table["pool_fraction"] == top]
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 4.2), squeeze=False)
    for ax, y in zip(axes[0], ("coverage_occupied", "mean_RID")):
        _curves(ax, sub, "budget", y, reference)
        ax.set_xlabel("budget (selected instructions)")
    axes[0][1].axhline(0.5, color="0.5", lw=0.8, ls="--", zorder=0)
    axes[0][0].legend(fontsize=8, ncol=2)
    fig.suptitle(f"What each method selects (pool of {int(sub['pool_size'].max())} candidates)", fontsize=10)
    fig.tight_layout()
    save(fig, png, pdf, dpi)

