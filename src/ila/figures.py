"""Figures of the landscape (matplotlib, PNG + PDF, byte-stable).

`save` strips the timestamps and software tags that matplotlib embeds, so
the same data gives the same bytes.
"""

from __future__ import annotations

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .io import atomic_path  # noqa: E402

PNG_META = {"Software": None}
PDF_META = {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}


def save(fig, png: str | os.PathLike, pdf: str | os.PathLike, dpi: int = 150) -> None:
    """Write a figure as PNG and PDF atomically, without embedded dates."""
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata=PNG_META, bbox_inches="tight")
    with atomic_path(pdf) as tmp:
        fig.savefig(tmp, format="pdf", metadata=PDF_META, bbox_inches="tight")
    plt.close(fig)


def landscape_map(
    examples: pd.DataFrame,
    geometry: dict,
    warmup_map: pd.DataFrame | None,
    png,
    pdf,
    dpi: int = 150,
    title: str = "Information landscape",
):
    """2-D map of the candidate pool coloured by RID, with the grid drawn
    (grid cells) and the warm-up set I0 marked."""
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    sc = ax.scatter(examples["x"], examples["y"], c=examples["RID"], cmap="viridis", s=4, linewidths=0, vmin=0, vmax=1)
    if warmup_map is not None and len(warmup_map):
        ax.scatter(warmup_map["x"], warmup_map["y"], marker="x", s=10, c="red", linewidths=0.6, label=f"I0 (warm-up, n={len(warmup_map)})")
        ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    if geometry.get("method") == "grid":
        g = geometry["grid_size"]
        xs = np.linspace(geometry["x_min"], geometry["x_max"], g + 1)
        ys = np.linspace(geometry["y_min"], geometry["y_max"], g + 1)
        for x in xs:
            ax.axvline(x, color="0.7", lw=0.4, zorder=0)
        for y in ys:
            ax.axhline(y, color="0.7", lw=0.4, zorder=0)
        sub = f"{g}x{g} grid, {geometry['occupied_cells']} occupied cells"
    else:
        sub = f"{geometry.get('total_cells')} k-means cells"
    fig.colorbar(sc, ax=ax, label="RID (relative information depth)")
    ax.set_title(f"{title}\n{len(examples)} candidates, {sub}", fontsize=10)
    ax.set_xlabel("map dimension 1")
    ax.set_ylabel("map dimension 2")
    save(fig, png, pdf, dpi)


def depth_by_domain(examples: pd.DataFrame, png, pdf, dpi: int = 150):
    """ID and RID distributions per domain (box plots, with counts)."""
    domains = sorted(examples["domain"].replace("", "(none)").unique())
    dom = examples["domain"].replace("", "(none)")
    fig, axes = plt.subplots(1, 2, figsize=(max(8, 1.1 * len(domains) * 2), 4.5))
    for ax, col, label in ((axes[0], "info_depth", "ID (information depth, nats x labels / token)"), (axes[1], "RID", "RID (percentile within domain)")):
        data = [examples.loc[dom == d, col].to_numpy() for d in domains]
        ax.boxplot(data, showfliers=False)
        ax.set_xticks(range(1, len(domains) + 1))
        ax.set_xticklabels([f"{d}\n(n={len(x)})" for d, x in zip(domains, data)], rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(label)
    axes[0].axhline(0, color="0.6", lw=0.6)
    fig.suptitle("Depth by domain")
    fig.tight_layout()
    save(fig, png, pdf, dpi)
