"""The study's figures: score vs budget, score vs pool size, what the selections reached."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from .summary import _num


_LABELS = {
    "dev_loss": "dev loss (nats / response token)",
    "dev_loss_domain_mean": "dev loss, mean of domains",
    "dev_loss_example_mean": "dev loss, mean of examples",
    "dev_loss_clipped": "dev loss, clipped example mean",
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
        g = table[table["method"] == m].groupby(x)[y]
        mean, lo, hi = g.mean(), g.min(), g.max()
        if mean.dropna().empty:
            continue
        st = styles[m]
        ax.plot(mean.index, mean.to_numpy(), label=m, **st)
        if (hi - lo).fillna(0).max() > 0:
            ax.fill_between(mean.index, lo.to_numpy(), hi.to_numpy(), color=st["color"], alpha=0.12, lw=0)
    if logx:
        ax.set_xscale("log", base=2)
        xs = sorted(table[x].unique())
        ax.set_xticks(xs)
        ax.set_xticklabels([str(int(v)) for v in xs], fontsize=8)
        ax.minorticks_off()
    ax.set_ylabel(_LABELS.get(y, y))
    ax.grid(alpha=0.3, lw=0.5)
    if y == "accuracy":
        top = table[y].map(_num).max()
        ax.set_ylim(-0.02, max(0.1, 1.15 * top) if pd.notna(top) else 0.1)


def _has_accuracy(table: pd.DataFrame) -> bool:
    return "accuracy" in table.columns and table["accuracy"].map(_num).notna().any()


def plot_budget(table: pd.DataFrame, metric: str, reference: str, png, pdf, dpi: int = 150) -> None:
    """Score against budget at the largest pool, one line per method (mean
    over seeds, band = min..max); a second panel with task accuracy when it
    was measured."""
    top = table["pool_fraction"].max()
    sub = table[table["pool_fraction"] == top]
    title = f"Score vs budget, pool of {int(sub['pool_size'].max())} candidates"
    _score_panels(sub, metric, reference, "budget", "budget (selected instructions)", title, png, pdf, dpi)


def plot_pool(table: pd.DataFrame, metric: str, reference: str, budget: int, png, pdf, dpi: int = 150) -> None:
    """Accelerated scaling: score against pool size at the fixed budget, one
    line per method; accuracy as a second panel when measured."""
    sub = table[table["budget"] == budget]
    if sub["pool_size"].nunique() < 1:
        raise ValueError(f"no runs at budget {budget}")
    title = f"Score vs pool size at budget {budget}"
    _score_panels(sub, metric, reference, "pool_size", "candidate pool size", title, png, pdf, dpi)


def _score_panels(sub, metric, reference, x, xlabel, title, png, pdf, dpi) -> None:
    """One panel of `metric` against `x` per method (accuracy as a second
    panel when measured), saved as PNG + PDF."""
    from ila.figures import plt, save

    panels = [metric] + (["accuracy"] if _has_accuracy(sub) else [])
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

