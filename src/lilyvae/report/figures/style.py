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


def legend_slot_grid(n: int, max_cols: int, panel: tuple[float, float]):
    """A figure with ``n`` panels and, after them, one axis spanning the rest of the last
    row for a legend (so no panel is left empty): (figure, panel axes, legend axis)."""
    plt = pyplot()
    cols = min(max_cols, n + 1)
    rows = -(-(n + 1) // cols)
    fig = plt.figure(figsize=(panel[0] * cols, panel[1] * rows + 0.5))
    grid = fig.add_gridspec(rows, cols)
    axes = [fig.add_subplot(grid[k // cols, k % cols]) for k in range(n)]
    legend_ax = fig.add_subplot(grid[n // cols, n % cols :])
    legend_ax.axis("off")
    return fig, axes, legend_ax


def panel_note(ax, text: str, x: float, y: float, **style) -> None:
    """Small text in a panel's own coordinates (0-1), anchored at its corner nearest
    (x, y) so it stays inside."""
    options = {"fontsize": 6, "color": "#7b1d14"} | style
    ha = "right" if x > 0.6 else "left" if x < 0.4 else "center"
    va = "top" if y > 0.6 else "bottom" if y < 0.4 else "center"
    ax.text(x, y, text, ha=ha, va=va, transform=ax.transAxes, **options)


def signed_log_edges(lo: float, hi: float, n: int) -> np.ndarray:
    """Bin edges evenly spaced in sign(v) * log1p(|v|) from ``lo`` to ``hi``."""
    t = np.linspace(np.sign(lo) * np.log1p(abs(lo)), np.sign(hi) * np.log1p(abs(hi)), n)
    return np.sign(t) * np.expm1(np.abs(t))


#: Colours that can be told apart, for up to 15 categories beside grey "other" (Kelly's
#: colours of maximum contrast, less white, black and grey; tab20's pairs of light and
#: dark shades are too alike for 15 classes).
DISTINCT_COLOURS = (
    "#F3C300",  # yellow
    "#875692",  # purple
    "#F38400",  # orange
    "#A1CAF1",  # light blue
    "#BE0032",  # red
    "#C2B280",  # buff
    "#008856",  # green
    "#E68FAC",  # pink
    "#0067A5",  # blue
    "#F99379",  # salmon
    "#604E97",  # violet
    "#882D17",  # brown
    "#8DB600",  # yellow-green
    "#2B3D26",  # olive black
    "#17BECF",  # cyan (in place of Kelly's greenish yellow, too close to his yellow)
)
OTHER_COLOUR = "#c8c8c8"
#: GMM clusters (up to 20 by default): the 15 distinct colours, then five more.
CLUSTER_COLOURS = (*DISTINCT_COLOURS, "#1f77b4", "#B3446C", "#9467bd", "#7f7f7f", "#bcbd22")

#: A colour per lithology group, after the usual colours of lithology columns
#: (carbonates blue, clays green-grey, sands yellow, igneous rocks red, ...).
GROUP_COLOURS = {
    "Carbonate": "#6fa8dc",
    "Clay/Mud": "#7f9c6a",
    "Sand": "#f1d26b",
    "Silt": "#c9b27c",
    "Biogenic Silica": "#e8e4c9",
    "Volcaniclastic": "#b07aa1",
    "Mafic Igneous": "#c0392b",
    "Intermediate/Felsic Igneous": "#f08a7e",
    "Ultramafic": "#1e6b3a",
    "Metamorphic": "#8e5a3c",
    "Conglomerate/Breccia": "#e69b3a",
    "Evaporite": "#d64fc4",
    "Diamict": "#5a5a5a",
    "Other": "#9aa7b0",
}
UNKNOWN_COLOUR = "#ffffff"  # no described lithology

#: Units of the six inputs, for axis labels.
FEATURE_UNITS = {
    "GRA": "g/cm³",
    "MS": "instrument units",
    "NGR": "counts/s",
    "R": "0-255",
    "G": "0-255",
    "B": "0-255",
}


def group_colour(group: str | None) -> str:
    """The colour of a lithology group (white when unknown, grey when unlisted)."""
    if group is None:
        return UNKNOWN_COLOUR
    return GROUP_COLOURS.get(group, OTHER_COLOUR)


def category_colours(values, n: int = len(DISTINCT_COLOURS)) -> tuple[list[str], dict[str, str]]:
    """The ``n`` most frequent values (ties: first seen) a distinct colour each, the rest
    grey: (the colour of each value, {value: colour} of the coloured ones in order)."""
    import pandas as pd

    series = pd.Series(values, dtype="string").fillna("(none)")
    top = list(series.value_counts(sort=True).index[:n])
    palette = {v: DISTINCT_COLOURS[i % len(DISTINCT_COLOURS)] for i, v in enumerate(top)}
    return [palette.get(v, OTHER_COLOUR) for v in series], palette
