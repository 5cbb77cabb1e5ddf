"""Figures of the table itself: its overview, the six inputs, the lithologies."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, FEATURE_SHORT, LABEL_COL
from lilyvae.report.figures.figure_spec import FigureSpec, Needs
from lilyvae.report.figures.style import (
    HELD_OUT_COLOUR,
    TRAIN_COLOUR,
    pyplot,
    signed_log_edges,
)


def fig_lithology_counts(
    labels: pd.Series, held_out: np.ndarray | None, top: int = 40, title: str = ""
):
    """Rows per lithology (the most frequent ``top``), split by training/held-out."""
    plt = pyplot()
    labels = pd.Series(labels).reset_index(drop=True)
    counts = labels.value_counts()
    shown = list(counts.index[:top])
    fig, ax = plt.subplots(figsize=(9, 0.26 * len(shown) + 1.5))
    y = np.arange(len(shown))[::-1]
    if held_out is not None:
        # Side by side, not stacked: on a log axis a stacked bar's second part has no
        # readable length.
        tr = labels[~held_out].value_counts().reindex(shown, fill_value=0).to_numpy()
        te = labels[held_out].value_counts().reindex(shown, fill_value=0).to_numpy()
        ax.barh(y + 0.2, tr, height=0.4, color=TRAIN_COLOUR, label="training boreholes")
        ax.barh(y - 0.2, te, height=0.4, color=HELD_OUT_COLOUR, label="held-out boreholes")
        ax.legend(fontsize=8, loc="lower right")
    else:
        ax.barh(y, counts[shown].to_numpy(), color=TRAIN_COLOUR)
    ax.set_yticks(y, shown, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("rows (log scale)", fontsize=8)
    ax.set_title(
        f"{title}\n{len(counts)} lithologies, {int(counts.sum()):,} labelled rows; "
        f"the {len(shown)} most frequent shown",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def fig_input_distributions(features: np.ndarray, title: str = ""):
    """Histograms of the six inputs in raw units (log counts)."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    for j, (ax, name) in enumerate(zip(axes.flat, FEATURE_COLS, strict=True)):
        col = features[:, j]
        if FEATURE_SHORT[j] in ("MS", "NGR"):
            ax.hist(col, bins=signed_log_edges(col.min(), col.max(), 81), color=TRAIN_COLOUR)
            ax.set_xscale("symlog", linthresh=1.0)
        else:
            ax.hist(col, bins=80, color=TRAIN_COLOUR)
        ax.set_yscale("log")
        q = np.percentile(col, [25, 50, 75])
        ax.set_title(
            f"{name}\nmean {col.mean():.3g}, sd {col.std():.3g}, quartiles "
            f"{q[0]:.3g} / {q[1]:.3g} / {q[2]:.3g}",
            fontsize=8,
        )
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_dataset_overview(df: pd.DataFrame, held_out: np.ndarray | None, title: str = ""):
    """Rows per borehole, depths, lithologies per borehole, and the numbers."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0, 0]
    if BOREHOLE_COL in df.columns:
        per = df.groupby(BOREHOLE_COL).size().sort_values(ascending=False)
        colours = TRAIN_COLOUR
        if held_out is not None:
            ho_ids = set(df.loc[held_out, BOREHOLE_COL])
            colours = [HELD_OUT_COLOUR if b in ho_ids else TRAIN_COLOUR for b in per.index]
        ax.bar(np.arange(len(per)), per.to_numpy(), color=colours, width=1.0)
        ax.set_yscale("log")
        ax.set_xlabel("boreholes, by rows", fontsize=8)
        ax.set_ylabel("rows", fontsize=8)
        ax.set_title(f"rows per borehole ({len(per)} boreholes; orange: held out)", fontsize=9)
    else:
        ax.axis("off")
    ax = axes[0, 1]
    if DEPTH_COL in df.columns:
        depth = pd.to_numeric(df[DEPTH_COL], errors="coerce").dropna()
        ax.hist(depth, bins=80, color=TRAIN_COLOUR)
        ax.set_yscale("log")
        ax.set_xlabel("depth (m CSF-A)", fontsize=8)
        ax.set_title(f"depth of rows (max {depth.max():,.0f} m)", fontsize=9)
    else:
        ax.axis("off")
    ax = axes[1, 0]
    if BOREHOLE_COL in df.columns and LABEL_COL in df.columns:
        nlith = df.groupby(BOREHOLE_COL)[LABEL_COL].nunique()
        ax.hist(nlith, bins=np.arange(0.5, nlith.max() + 1.5), color=TRAIN_COLOUR)
        ax.set_xlabel("lithologies per borehole", fontsize=8)
        ax.set_title(f"lithologies per borehole (median {nlith.median():.0f})", fontsize=9)
    else:
        ax.axis("off")
    ax = axes[1, 1]
    ax.axis("off")
    lines = [f"rows: {len(df):,}"]
    if BOREHOLE_COL in df.columns:
        lines.append(f"boreholes: {df[BOREHOLE_COL].nunique():,}")
    if LABEL_COL in df.columns:
        lines.append(f"lithologies: {df[LABEL_COL].nunique():,}")
        lines.append(f"unlabelled rows: {int(df[LABEL_COL].isna().sum()):,}")
    if held_out is not None and BOREHOLE_COL in df.columns:
        lines.append(
            f"held out: {df.loc[held_out, BOREHOLE_COL].nunique():,} boreholes, "
            f"{int(held_out.sum()):,} rows"
        )
    if DEPTH_COL in df.columns:
        lines.append(f"depth bins: {df[DEPTH_COL].min():.1f} to {df[DEPTH_COL].max():.1f} m")
    lines.append(f"inputs: {', '.join(FEATURE_SHORT)}")
    ax.text(0.02, 0.95, "\n".join(lines), va="top", fontsize=10, family="monospace")
    for a in axes.flat:
        a.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


DATASET_OVERVIEW = FigureSpec(
    name="dataset_overview",
    title="dataset overview",
    caption="Rows per borehole (held-out boreholes in orange), depth of rows, lithologies "
    "per borehole, and the table's numbers.",
    draw=lambda inputs, title: fig_dataset_overview(inputs.frame, inputs.held_out, title),
)
INPUT_DISTRIBUTIONS = FigureSpec(
    name="input_distributions",
    title="distributions of the six inputs (raw units)",
    caption="Histograms of the six model inputs in raw units, counts on a log scale "
    "(MS and NGR on symmetric log axes).",
    draw=lambda inputs, title: fig_input_distributions(inputs.features, title),
)
LITHOLOGY_COUNTS = FigureSpec(
    name="lithology_counts",
    title="lithology counts",
    caption="Rows per lithology (Principal), most frequent first: a bar for the rows of "
    "training boreholes and one beside it for the held-out boreholes' rows; log scale.",
    needs=Needs(("labels",), "the table has no lithology labels"),
    draw=lambda inputs, title: fig_lithology_counts(
        inputs.labels.astype(object), inputs.held_out, title=title
    ),
)
