"""Down-core logs, the standard view of a borehole: depth increasing downward on one
axis shared by every track; the six measurements as log tracks; the core's colour; the
described lithology as a column of beds coloured by lithology group; and, from a model,
its predicted lithology beside the described one (semi-supervised models), the first
principal components of its embedding as tracks, and its GMM cluster as a column.

One figure per borehole (``downcore_<borehole>``): by default the few boreholes with
the most held-out rows, which the models never trained on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_SHORT
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation.groups import group_of
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.model_outputs import (
    cluster_settings,
    clusters_of,
    downcore_model,
    embedding_of,
    principal_axes,
)
from lilyvae.report.figures.style import (
    CLUSTER_COLOURS,
    FEATURE_UNITS,
    UNKNOWN_COLOUR,
    group_colour,
    pyplot,
)

#: Principal components of the embedding drawn as tracks, those after the first only
#: when they carry at least MIN_EXPLAINED of its variance.
DOWNCORE_COMPONENTS = 3
MIN_EXPLAINED = 0.01


def downcore_boreholes(inputs: FigureInputs) -> list[str]:
    """The boreholes asked for, else the ``downcore_count`` with the most scored rows
    (held-out rows where there are some; ties: the first in ID order)."""
    if inputs.options.boreholes:
        return list(inputs.options.boreholes)
    ids = inputs.frame[BOREHOLE_COL].astype(str)[inputs.scored]
    counts = ids.value_counts()
    ranked = sorted(counts.index, key=lambda b: (-counts[b], b))
    return ranked[: inputs.options.downcore_count]


def check_boreholes(inputs: FigureInputs, source) -> None:
    """Refuse boreholes asked for that the table lacks, before anything is drawn."""
    asked = inputs.options.boreholes
    if not asked:
        return
    if BOREHOLE_COL not in inputs.frame.columns or DEPTH_COL not in inputs.frame.columns:
        raise LilyVAEError(
            f"{source}: no {BOREHOLE_COL} and {DEPTH_COL} columns for down-core logs"
        )
    known = set(inputs.frame[BOREHOLE_COL].astype(str))
    missing = [b for b in asked if b not in known]
    if missing:
        raise LilyVAEError(
            f"{source}: no rows of borehole {missing[0]!r} (asked for with --boreholes)"
        )


def file_safe(name: str) -> str:
    """A borehole ID as part of a file name."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


class DepthGrid:
    """Rows of one borehole on a regular depth grid (its bin size), so a column of
    beds is one image and a gap in the core stays blank."""

    def __init__(self, depth: np.ndarray):
        steps = np.diff(np.unique(depth))
        self.step = float(np.median(steps)) if len(steps) else 0.2
        self.top, self.bottom = float(depth.min()), float(depth.max()) + self.step
        self.cell = np.rint((depth - self.top) / self.step).astype(np.int64)
        self.cells = int(self.cell.max()) + 1

    def column(self, ax, colours: list[str], label: str) -> None:
        """A column of beds: each row's cell filled with its colour."""
        from matplotlib.colors import to_rgba_array

        image = np.ones((self.cells, 1, 4))
        image[self.cell, 0, :] = to_rgba_array(colours)
        ax.imshow(
            image,
            aspect="auto",
            interpolation="nearest",
            extent=(0, 1, self.bottom, self.top),
        )
        ax.set_xticks([])
        ax.set_title(label, fontsize=7, rotation=90, va="bottom")

    def gapped(self, depth: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The track's line broken (NaN) where consecutive rows are more than a bin apart."""
        gap = np.flatnonzero(np.diff(depth) > 1.5 * self.step) + 1
        return np.insert(depth, gap, np.nan), np.insert(values.astype(float), gap, np.nan)


@dataclass(frozen=True)
class Track:
    """One track of a log: a "line" of values, a "column" of colours, or a
    "lithology" column of lithology names (coloured by group)."""

    kind: str
    label: str
    values: object
    log_like: bool = False  # a line on a log-like axis (MS: median near 10, tail to 1000s)


def _tracks(inputs: FigureInputs, rows: np.ndarray) -> list[Track]:
    """The tracks of a log, left to right."""
    features = inputs.features[rows]
    tracks = [
        Track("line", f"{short}\n({FEATURE_UNITS[short]})", features[:, j], short == "MS")
        for j, short in enumerate(FEATURE_SHORT)
    ]
    rgb = np.clip(features[:, 3:6] / 255.0, 0, 1)  # R, G, B are 0-255 values
    tracks.append(Track("column", "core colour\n(RGB)", [tuple(c) for c in rgb]))
    tracks.append(Track("column", "core colour\n(stretched)", [tuple(c) for c in stretched(rgb)]))
    tracks.append(Track("lithology", "described lithology", list(inputs.labels.iloc[rows])))
    if not inputs.models:
        return tracks
    m = downcore_model(inputs)
    if m.has_head:
        predicted = list(m.model.predict(features))
        tracks.append(Track("lithology", f"predicted lithology\n({m.name})", predicted))
    pca = principal_axes(inputs, m, DOWNCORE_COMPONENTS)
    scores = pca.project(embedding_of(inputs, m, rows))
    for k in range(scores.shape[1]):
        if k and pca.explained[k] < MIN_EXPLAINED:  # a collapsed direction: no signal
            continue
        label = f"PC{k + 1} of\n{m.name}\n({pca.explained[k]:.0%} of var.)"
        tracks.append(Track("line", label, scores[:, k]))
    clusters = clusters_of(inputs, m, rows)
    tracks.append(Track("cluster", f"GMM cluster\n({m.name})", clusters))
    return tracks


def cluster_colour(cluster: int) -> str:
    return CLUSTER_COLOURS[int(cluster) % len(CLUSTER_COLOURS)]


def stretched(rgb: np.ndarray) -> np.ndarray:
    """Core colours (0-1) with their lightness stretched so that the borehole's 2nd to
    98th percentile of brightness spans black to white, hues kept: cores are dark (a
    median near 55 of 255), and their true colour shows little of the change down
    core."""
    if not len(rgb):
        return rgb
    brightness = rgb.mean(axis=1)
    low, high = np.percentile(brightness, [2, 98])
    scale = 1.0 / max(high - low, 1e-6)
    return np.clip((rgb - low) * scale, 0, 1)


def _lithology_colour(name) -> str:
    return UNKNOWN_COLOUR if name is None or pd.isna(name) else group_colour(group_of(name))


def borehole_rows(inputs: FigureInputs, borehole: str) -> np.ndarray:
    """The valid rows of one borehole, by depth."""
    frame = inputs.frame
    rows = np.flatnonzero(frame[BOREHOLE_COL].astype(str).to_numpy() == borehole)
    depth = pd.to_numeric(frame[DEPTH_COL]).to_numpy()[rows]
    return rows[np.argsort(depth, kind="stable")]


def fig_downcore(inputs: FigureInputs, borehole: str, title: str = ""):
    """The down-core log of one borehole (see the module's docstring)."""
    plt = pyplot()
    rows = borehole_rows(inputs, borehole)
    depth = pd.to_numeric(inputs.frame[DEPTH_COL]).to_numpy()[rows]
    grid = DepthGrid(depth)
    tracks = _tracks(inputs, rows)
    widths = [1.0 if track.kind == "line" else 0.32 for track in tracks]
    fig, axes = plt.subplots(
        1,
        len(tracks),
        sharey=True,
        figsize=(0.95 * sum(widths) + 1.6, 9.0),
        gridspec_kw={"width_ratios": widths, "wspace": 0.12},
    )
    for ax, track in zip(axes, tracks, strict=True):
        if track.kind == "column":
            grid.column(ax, track.values, track.label)
        elif track.kind == "lithology":
            grid.column(ax, [_lithology_colour(v) for v in track.values], track.label)
        elif track.kind == "cluster":
            grid.column(ax, [cluster_colour(c) for c in track.values], track.label)
        else:
            _line_track(ax, grid, depth, track)
    axes[0].set_ylim(grid.bottom, grid.top)  # depth increases downward
    axes[0].set_ylabel("Depth CSF-A (m)", fontsize=8)
    axes[0].tick_params(axis="y", labelsize=7)
    _group_legend(fig, [t.values for t in tracks if t.kind == "lithology"])
    _cluster_legend(fig, [t for t in tracks if t.kind == "cluster"])
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.07, right=0.99, top=0.84, bottom=0.13)
    return fig


def _line_track(ax, grid: DepthGrid, depth: np.ndarray, track: Track) -> None:
    """A log track: the values against depth, at most three labelled ticks (tracks are
    narrow), the log-like one on decades."""
    from matplotlib.ticker import MaxNLocator

    y, x = grid.gapped(depth, np.asarray(track.values))
    ax.plot(x, y, lw=0.6, color="#333333")
    if track.log_like:
        ax.set_xscale("symlog", linthresh=10.0)
        lo, hi = ax.get_xlim()
        ticks = [t for t in (-100, 0, 10, 100, 1000, 10000) if lo <= t <= hi]
        ticks = ticks[:: max(1, -(-len(ticks) // 3))]  # every other decade when crowded
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=2, min_n_ticks=2))
    ax.set_title(track.label, fontsize=7)
    ax.tick_params(labelsize=6)
    ax.tick_params(axis="x", rotation=90)
    ax.grid(axis="y", lw=0.3, alpha=0.5)


def _swatch_legend(fig, swatches: list[tuple[str, str]], where: str, title: str, ncol: int):
    """A legend of colour swatches (label, colour) below the tracks."""
    plt = pyplot()
    handles = [
        plt.Rectangle((0, 0), 1, 1, facecolor=colour, edgecolor="#888888", label=label)
        for label, colour in swatches
    ]
    fig.legend(
        handles=handles,
        loc=where,
        ncol=max(1, min(len(handles), ncol)),
        fontsize=6.5,
        frameon=False,
        title=title,
        title_fontsize=7,
        handlelength=1.2,
        columnspacing=0.8,
    )


def _cluster_legend(fig, tracks: list[Track]) -> None:
    """The GMM clusters of the log's cluster column, numbered as in the explorer, at the
    bottom right (their colours are labels, not an order)."""
    if tracks:
        clusters = np.unique(np.asarray(tracks[0].values))
        swatches = [(f"{int(c) + 1}", cluster_colour(c)) for c in clusters]
        _swatch_legend(fig, swatches, "lower right", "GMM cluster (in this borehole)", 10)


def _group_legend(fig, columns: list[list]) -> None:
    """The lithology groups of the log's lithology columns, at the bottom left."""
    names = [v for column in columns for v in column]
    known = [v for v in names if v is not None and not pd.isna(v)]
    groups = list(pd.Series([group_of(v) for v in known], dtype=object).value_counts().index)
    swatches = [(g, group_colour(g)) for g in groups]
    if len(known) < len(names):
        swatches.append(("not described", UNKNOWN_COLOUR))
    _swatch_legend(fig, swatches, "lower left", "lithology group", 6)


def _draw(inputs: FigureInputs, title: str):
    return fig_downcore(inputs, inputs.borehole, title)


def _caption(inputs: FigureInputs) -> str:
    rows = borehole_rows(inputs, inputs.borehole)
    depth = pd.to_numeric(inputs.frame[DEPTH_COL]).to_numpy()[rows]
    held = inputs.held_out is not None and bool(inputs.held_out[rows].any())
    parts = [
        f"Borehole {inputs.borehole}: {len(rows):,} rows from {depth.min():.1f} to "
        f"{depth.max():.1f} m, "
        + (
            "held out of training (the models never saw it)."
            if held
            else "a training borehole (the models trained on its rows)."
        ),
        "Left to right: the six measurements (MS on a log-like axis, linear within 10 of "
        "zero); the core's colour as measured (R, G, B of 0-255) and with its lightness "
        "stretched over the borehole's range (cores are dark); the described "
        "lithology, coloured by lithology group (white: not described)",
    ]
    if inputs.models:
        m = downcore_model(inputs)
        components, fit_rows = cluster_settings(inputs)
        if m.has_head:
            parts[-1] += f"; the lithology predicted by {m.name}'s classification head, by group"
        parts[-1] += (
            f"; up to {DOWNCORE_COMPONENTS} principal components of {m.name}'s embedding (axes "
            f"fitted on up to {fit_rows:,} training-borehole rows; components with under "
            f"{MIN_EXPLAINED:.0%} of its variance left out); and its cluster in "
            f"a {components}-component Gaussian mixture fitted on the same rows (the colours "
            "are arbitrary cluster labels, numbered in the legend): the evaluation's "
            "mixture, whose clusters its ARI scores"
        )
    parts[-1] += "."
    if not inputs.options.boreholes:
        parts.append("Shown by default: the boreholes with the most held-out rows.")
    return " ".join(parts)


def _parts(inputs: FigureInputs) -> list[tuple[str, FigureInputs]]:
    boreholes = downcore_boreholes(inputs)
    return [
        (file_safe(b), part)
        for b, part in zip(boreholes, inputs.per_borehole(boreholes), strict=True)
    ]


DOWNCORE = FigureSpec(
    name="downcore",
    title="down-core log of borehole {borehole}",
    caption=_caption,
    needs=Needs(("depths",), f"no {BOREHOLE_COL} and {DEPTH_COL} columns"),
    draw=_draw,
    parts=_parts,
)
