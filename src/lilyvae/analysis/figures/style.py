"""What every figure shares: the backend, resolution, colours and panel grids."""

from __future__ import annotations

import numpy as np

DPI = 150
TRAIN_COLOUR = "#3b6ea5"
HELD_OUT_COLOUR = "#e07b1a"


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed), imported on first use."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def title_tag(synthetic: bool) -> str:
    """The start of a figure's title on synthetic data."""
    return "SYNTHETIC data: " if synthetic else ""


def caption_tag(synthetic: bool) -> str:
    """The start of a figure's caption on synthetic data."""
    return "SYNTHETIC data (not LILY). " if synthetic else ""


def panel_grid(n: int, max_cols: int, panel: tuple[float, float], extra_height: float = 0.0):
    """A figure of ``n`` panels, at most ``max_cols`` a row, each ``panel`` inches;
    returns (figure, axes array); panels beyond ``n`` are blank."""
    plt = pyplot()
    cols = min(n, max_cols)
    nrows = int(np.ceil(n / cols))
    width, height = panel
    fig, axes = plt.subplots(
        nrows, cols, figsize=(width * cols, height * nrows + extra_height), squeeze=False
    )
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return fig, axes


def signed_log_edges(lo: float, hi: float, n: int) -> np.ndarray:
    """Bin edges evenly spaced in sign(v) * log1p(|v|) from ``lo`` to ``hi``."""
    t = np.linspace(np.sign(lo) * np.log1p(abs(lo)), np.sign(hi) * np.log1p(abs(hi)), n)
    return np.sign(t) * np.expm1(np.abs(t))
