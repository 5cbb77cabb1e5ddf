"""The zero-shot property figure: how well each embedding predicts LILY measurements it
never saw (from ``lilyvae properties``' ``properties.csv``).

A panel per pair of predictors: one embedding against the other (a semi-supervised one
on the y axis), then each embedding against the ``features`` baseline; a point per
scored variable, its colour saying which R2 is higher. The axes span the data: R2 has
no lower bound, so where a few variables sit far below the bulk the axes stop at a
floor chosen from the data, and those variables are drawn at the floor as open
triangles (the caption counts them). The 95% intervals are faint bars.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.errors import LilyVAEError
from lilyvae.properties.output import JSON_NAME, read_properties
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs

BASELINE = "features"
COLOURS = {"second": "#c0392b", "first": "#2e6da4", "tie": "#888888"}


def predictors(frame: pd.DataFrame) -> list[str]:
    """The predictors of a ``properties.csv`` frame (its ``<name>_r2`` columns), in order."""
    return [c[: -len("_r2")] for c in frame.columns if c.endswith("_r2")]


def predictor_pairs(names: list[str]) -> list[tuple[str, str]]:
    """(x, y) of each panel: embedding against embedding, then each against the baseline."""
    models = [p for p in names if p != BASELINE]
    pairs = []
    if len(models) >= 2:
        # A semi-supervised model (by name) on the y axis.
        pairs.append(tuple(sorted(models[:2], key=lambda m: "semi" in m.lower())))
    if BASELINE in names:
        pairs += [(BASELINE, m) for m in models]
    return pairs


def r2_floor(values: np.ndarray) -> float:
    """The lowest R2 the axes show: the data's minimum, unless it lies far (over one R2
    unit) below the bulk (the 5th percentile), in which case a quarter unit below the
    bulk; never above 0, so that 'worse than the mean' stays on the page."""
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0
    low, bulk = float(values.min()), float(np.quantile(values, 0.05))
    floor = bulk - 0.25 if low < bulk - 1.0 else low
    return min(floor, 0.0)


def _spread(values: np.ndarray) -> list[np.ndarray]:
    """Error bar lengths below and above each point (value, low, high); none below a
    point drawn at the floor with its interval above it."""
    return [np.maximum(values[:, 0] - values[:, 1], 0), np.maximum(values[:, 2] - values[:, 0], 0)]


def _panel(ax, frame: pd.DataFrame, x: str, y: str, floor: float) -> int:
    """One scatter of ``y``'s R2 against ``x``'s; returns how many points are clipped."""
    f = frame.dropna(subset=[f"{x}_r2", f"{y}_r2"])
    raw = {p: f[[f"{p}_r2", f"{p}_r2_low", f"{p}_r2_high"]].to_numpy(float) for p in (x, y)}
    vals = {p: np.maximum(v, floor) for p, v in raw.items()}
    clipped = (raw[x][:, 0] < floor) | (raw[y][:, 0] < floor)
    size = 6 + 34 * np.sqrt(f["n_rows"].to_numpy(float) / max(float(f["n_rows"].max()), 1.0))
    higher = np.sign(raw[y][:, 0] - raw[x][:, 0])
    for sign, key, label in ((1, "second", y), (-1, "first", x), (0, "tie", None)):
        sel = higher == sign
        if not sel.any():
            continue
        xs, ys = vals[x][sel], vals[y][sel]
        ax.errorbar(
            xs[:, 0],
            ys[:, 0],
            xerr=_spread(xs),
            yerr=_spread(ys),
            fmt="none",
            ecolor=COLOURS[key],
            alpha=0.15,
            linewidth=0.6,
        )
        inside = sel & ~clipped
        name = f"{label} higher ({int(sel.sum())})" if label else f"equal ({int(sel.sum())})"
        ax.scatter(
            vals[x][inside, 0],
            vals[y][inside, 0],
            s=size[inside],
            c=COLOURS[key],
            alpha=0.7,
            linewidths=0,
            label=name,
        )
        out = sel & clipped
        ax.scatter(
            vals[x][out, 0],
            vals[y][out, 0],
            s=28,
            marker="v",
            facecolors="none",
            edgecolors=COLOURS[key],
            linewidths=0.9,
        )
    ax.plot([floor, 1], [floor, 1], color="black", linewidth=0.7, linestyle="--")
    span = 1 - floor
    ax.set(xlim=(floor - 0.04 * span, 1.02), ylim=(floor - 0.04 * span, 1.02), aspect="equal")
    ax.set_xlabel(f"R2 from {x}", fontsize=8)
    ax.set_ylabel(f"R2 from {y}", fontsize=8)
    ax.tick_params(labelsize=7)
    if clipped.any():
        ax.scatter([], [], s=28, marker="v", facecolors="none", edgecolors="k", label="clipped")
    legend = ax.legend(loc="upper left", fontsize=7, title=f"{len(f)} variables", title_fontsize=7)
    for handle in legend.legend_handles:
        handle.set_sizes([24])
    ax.grid(alpha=0.3)
    return int(clipped.sum())


def fig_zero_shot_properties(frame: pd.DataFrame, title: str = ""):
    """The zero-shot property figure (see the module's docstring); the number of clipped
    points per panel is kept in ``fig.clipped`` for the caption. No pyplot state is
    touched."""
    from matplotlib.figure import Figure

    pairs = predictor_pairs(predictors(frame))
    if not pairs:
        raise LilyVAEError("properties.csv holds a single predictor: nothing to compare")
    columns = [f"{p}_r2" for pair in pairs for p in pair]
    floor = r2_floor(frame[columns].to_numpy(float).ravel())
    fig = Figure(figsize=(4.8 * len(pairs), 5.0), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    fig.clipped = [_panel(ax, frame, x, y, floor) for ax, (x, y) in zip(axes, pairs, strict=True)]
    fig.floor = floor
    protocol = ", ".join(sorted(frame["protocol"].dropna().astype(str).unique()))
    fig.suptitle(f"{title}\n{protocol} protocol; bars: 95% intervals", fontsize=9)
    return fig


def _draw(inputs: FigureInputs, title: str):
    fig = fig_zero_shot_properties(inputs.properties, title)
    inputs.memo["property_clipping"] = (fig.floor, sum(fig.clipped))
    return fig


def _caption(inputs: FigureInputs) -> str:
    frame = inputs.properties
    protocol = ", ".join(sorted(frame["protocol"].dropna().astype(str).unique()))
    floor, clipped = inputs.memo.get("property_clipping", (0.0, 0))
    where = (
        f" The axes start at R2 {floor:.2f}; {clipped} points with a lower R2 are drawn at "
        "that floor as open triangles."
        if clipped
        else " The axes span every point."
    )
    return (
        f"R2 of gradient-boosted trees predicting {len(frame):,} LILY variables from each "
        f"embedding and from the six scaled inputs ('features'), {protocol} protocol: a "
        "point per variable, sized by its matched rows, coloured by which predictor's R2 is "
        "higher; faint bars are 95% intervals (resampled held-out boreholes). Points below "
        "the dashed line favour the x axis's predictor. A win counts only where the "
        "intervals do not overlap." + where
    )


ZERO_SHOT_PROPERTIES = FigureSpec(
    name="zero_shot_properties",
    title="zero-shot property prediction",
    caption=_caption,
    needs=Needs(("properties",), "no properties.csv (run lilyvae properties first)"),
    draw=_draw,
)


# --- the figure from a properties.csv file (what a notebook user draws) ---


def _is_synthetic(source) -> bool:
    if not isinstance(source, (str, os.PathLike)):
        return False
    path = Path(source)
    info = (path if path.is_dir() else path.parent) / JSON_NAME
    try:
        return bool(json.loads(info.read_text(encoding="utf-8")).get("synthetic"))
    except (OSError, ValueError):
        return False


def properties_figure(source, synthetic: bool | None = None):
    """The zero-shot figure from a ``properties.csv`` (its path, its folder, or the frame).

    ``synthetic``: label the figure SYNTHETIC (default: what ``properties.json`` beside
    the file says). Returns a matplotlib Figure (no pyplot state is touched).
    """
    frame = source if isinstance(source, pd.DataFrame) else read_properties(source)
    if synthetic is None:
        synthetic = _is_synthetic(source)
    tag = "SYNTHETIC data: " if synthetic else ""
    return fig_zero_shot_properties(frame, f"{tag}zero-shot prediction of LILY properties")
