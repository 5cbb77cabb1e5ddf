"""The paper's zero-shot figure, from ``properties.csv``.

Left: R2 of one embedding against the other (the paper's semi-supervised against
unsupervised), one point per scored variable, the 95% intervals as error bars, point
size by the number of matched bins, colour by which R2 is higher, the counts in the
legend. Beside it: each embedding against the ``features`` baseline, drawn the same way.
R2 below :data:`R2_FLOOR` is drawn at the floor (a variable no predictor can predict
would otherwise squash the axes); the caption says how many were.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.errors import LilyVAEError
from lilyvae.properties.output import JSON_NAME, predictors_of, read_properties

R2_FLOOR = -1.0
BASELINE = "features"
COLOURS = {"second": "#c0392b", "first": "#2e6da4", "tie": "#888888"}


def _pairs(predictors: list[str]) -> list[tuple[str, str]]:
    """(x, y) of each panel: embedding against embedding, then each against the baseline."""
    models = [p for p in predictors if p != BASELINE]
    if len(models) >= 2:
        # The paper's orientation: a semi-supervised model (by name) on the y axis.
        x, y = sorted(models[:2], key=lambda m: "semi" in m.lower())
        pairs = [(x, y)]
    else:
        pairs = []
    if BASELINE in predictors:
        pairs += [(BASELINE, m) for m in models]
    if not pairs:
        raise LilyVAEError("properties.csv holds a single predictor: nothing to compare")
    return pairs


def _is_synthetic(source) -> bool:
    if not isinstance(source, (str, os.PathLike)):
        return False
    path = Path(source)
    info = (path if path.is_dir() else path.parent) / JSON_NAME
    try:
        return bool(json.loads(info.read_text(encoding="utf-8")).get("synthetic"))
    except (OSError, ValueError):
        return False


def _panel(ax, frame: pd.DataFrame, x: str, y: str) -> int:
    """One scatter of ``y`` R2 against ``x`` R2; returns how many points sit at the floor."""
    f = frame.dropna(subset=[f"{x}_r2", f"{y}_r2"])
    vals = {
        p: np.maximum(f[[f"{p}_r2", f"{p}_r2_low", f"{p}_r2_high"]].to_numpy(float), R2_FLOOR)
        for p in (x, y)
    }
    size = 8 + 60 * np.sqrt(f["n_rows"].to_numpy(float) / max(float(f["n_rows"].max()), 1.0))
    higher = np.sign(vals[y][:, 0] - vals[x][:, 0])
    for sign, key, label in ((1, "second", y), (-1, "first", x), (0, "tie", None)):
        sel = higher == sign
        if not sel.any():
            continue
        xs, ys = vals[x][sel], vals[y][sel]
        ax.errorbar(
            xs[:, 0],
            ys[:, 0],
            xerr=[xs[:, 0] - xs[:, 1], xs[:, 2] - xs[:, 0]],
            yerr=[ys[:, 0] - ys[:, 1], ys[:, 2] - ys[:, 0]],
            fmt="none",
            ecolor=COLOURS[key],
            alpha=0.25,
            linewidth=0.7,
        )
        name = f"{label} higher ({int(sel.sum())})" if label else f"equal ({int(sel.sum())})"
        ax.scatter(
            xs[:, 0],
            ys[:, 0],
            s=size[sel],
            c=COLOURS[key],
            alpha=0.75,
            edgecolors="white",
            linewidths=0.4,
            label=name,
        )
    ax.plot([R2_FLOOR, 1], [R2_FLOOR, 1], color="black", linewidth=0.8, linestyle="--")
    ax.set(xlim=(R2_FLOOR - 0.05, 1.02), ylim=(R2_FLOOR - 0.05, 1.02), aspect="equal")
    ax.set_xlabel(f"R2 from {x}")
    ax.set_ylabel(f"R2 from {y}")
    legend = ax.legend(loc="upper left", fontsize=8, title=f"{len(f)} variables", title_fontsize=8)
    for handle in legend.legend_handles:
        handle.set_sizes([30])
    ax.grid(alpha=0.3)
    floor = (f[[f"{x}_r2", f"{y}_r2"]].to_numpy(float) < R2_FLOOR).any(axis=1)
    return int(floor.sum())


def properties_figure(source, synthetic: bool | None = None):
    """The zero-shot figure from a ``properties.csv`` (its path, its folder, or the frame).

    ``synthetic``: label the figure SYNTHETIC (default: what ``properties.json`` beside
    the file says). Returns a matplotlib Figure (no pyplot state is touched).
    """
    from matplotlib.figure import Figure

    frame = source if isinstance(source, pd.DataFrame) else read_properties(source)
    if synthetic is None:
        synthetic = _is_synthetic(source)
    pairs = _pairs(predictors_of(frame))
    fig = Figure(figsize=(5.2 * len(pairs), 5.6), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    floored = [_panel(ax, frame, x, y) for ax, (x, y) in zip(axes, pairs, strict=True)]
    protocol = ", ".join(sorted(frame["protocol"].dropna().astype(str).unique()))
    tag = "SYNTHETIC data: " if synthetic else ""
    fig.suptitle(
        f"{tag}zero-shot prediction of LILY properties ({protocol} protocol); "
        "bars: 95% intervals, size: matched rows"
        + (
            f"; R2 below {R2_FLOOR:g} drawn at {R2_FLOOR:g} ({max(floored)})"
            if any(floored)
            else ""
        ),
        fontsize=10,
    )
    return fig
