"""The down-core figure of a predicted borehole: the six measurements, the groups'
probabilities as a stacked track, the prediction set's size, the novelty score with its
flags, and the described lithology's group beside it when the core has one."""

from __future__ import annotations

import numpy as np

from lilyvae.data.lithology import class_groups
from lilyvae.data.schema import DEPTH_COL, FEATURE_COLS, FEATURE_SHORT, LABEL_COL

#: Most bins drawn per borehole (an even stride beyond): a page cannot show more.
MAX_DRAWN = 2000


def _palette(n: int):
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


class CorePages:
    """The figures of the boreholes of one prediction, drawn one after another on pages
    made once (the legend, its groups and colours, is made with the first figure).

    Making a page (a figure of ten tracks with their axes, ticks, titles and legend) was
    about a quarter of a figure's time in a profile (four figures: 0.52 s each on pages
    of their own, 0.45 s on one); a page is made once per number of tracks and each
    borehole's curves are drawn on it after the last borehole's are taken off. A
    borehole's PNG is the same, byte for byte, as on a page of its own (tested).
    """

    def __init__(self):
        self._pages: dict[int, _Page] = {}

    def page(self, n_tracks: int) -> _Page:
        if n_tracks not in self._pages:
            self._pages[n_tracks] = _Page(n_tracks)
        return self._pages[n_tracks]


class _Page:
    """One figure and its tracks side by side, on one depth axis (deepest at the bottom).

    Drawing time goes to tick marks and their labels, not to the curves: so no pyplot
    (its figure manager), one set of depth ticks (on the first track; the others are
    given the same limits instead of sharing the axis, which would draw every track's
    ticks), three ticks per measurement, and titles at a fixed height (matplotlib
    otherwise measures every tick label to place each title)."""

    def __init__(self, n_tracks: int):
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator, NullLocator

        self.fig = Figure(figsize=(2 + 1.3 * n_tracks, 9))
        self.axes = self.fig.subplots(1, n_tracks)
        for j, ax in enumerate(self.axes):
            ax.xaxis.set_major_locator(MaxNLocator(3))
            if j:
                ax.yaxis.set_major_locator(NullLocator())
        self.axes[0].set_ylabel("depth (m)")
        # Fixed margins: tight_layout measures every label and costs seconds per figure.
        self.fig.subplots_adjust(left=0.06, right=0.99, bottom=0.12, top=0.9, wspace=0.25)
        self.legend = None
        self.title = None
        self.drawn: list = []

    def start(self, depth: np.ndarray) -> None:
        """Take the last borehole's curves off, and set the depth range of this one."""
        for artist in self.drawn:
            artist.remove()
        self.drawn = []
        top, bottom = (depth.min(), depth.max()) if len(depth) else (0.0, 1.0)
        for ax in self.axes:
            # as a new axes: no data limits yet, the next curves set them
            ax.ignore_existing_data_limits = True
            ax.set_prop_cycle(None)  # and the colour cycle at its first colour
            ax.set_ylim(bottom, top)

    def keep(self, artist):
        self.drawn.append(artist)
        return artist


def _title(ax, text: str) -> None:
    ax.set_title(text, fontsize=9, y=1.0, pad=4)


def draw_core(result, rows: np.ndarray, borehole: str, path, pages: CorePages | None = None):
    """Draw one borehole's prediction as a PNG at ``path`` (on a page of ``pages``, kept
    for the next borehole; else on a page of its own)."""
    stride = max(1, int(np.ceil(len(rows) / MAX_DRAWN)))
    rows = np.asarray(rows)[::stride]
    core = result.core.iloc[rows]
    drawn = [c for c in ("set_size", "novelty", "novel") if c in result.table.columns]
    table = result.table[drawn].iloc[rows]
    depth = core[DEPTH_COL].to_numpy(np.float64)
    described = LABEL_COL in core.columns and core[LABEL_COL].notna().any()
    n_tracks = len(FEATURE_COLS) + 3 + int(described)
    page = (pages or CorePages()).page(n_tracks)
    page.start(depth)
    axes, keep = page.axes, page.keep
    for ax, column, short in zip(axes, FEATURE_COLS, FEATURE_SHORT, strict=False):
        keep(ax.plot(core[column].to_numpy(np.float64), depth, lw=0.6, color="0.2")[0])
        _title(ax, short)
    colours = _palette(len(result.group_names))
    ax = axes[len(FEATURE_COLS)]
    left = np.zeros(len(rows))
    proba = np.nan_to_num(result.group_proba[rows])
    for j, group in enumerate(result.group_names):
        right = left + proba[:, j]
        keep(ax.fill_betweenx(depth, left, right, color=colours[j], lw=0, label=group))
        left = right
    ax.set_xlim(0, 1)
    _title(ax, "group probability")
    ax = axes[len(FEATURE_COLS) + 1]
    if "set_size" in table.columns:
        size = table["set_size"].to_numpy(np.float64)
        keep(ax.step(size, depth, lw=0.7, where="mid")[0])
    _title(ax, f"set size ({result.level:g})")
    ax = axes[len(FEATURE_COLS) + 2]
    if "novelty" in table.columns:
        novelty = table["novelty"].to_numpy(np.float64)
        keep(ax.plot(novelty, depth, lw=0.6, color="0.3")[0])
        flagged = table["novel"].fillna(False).to_numpy(bool)
        keep(ax.scatter(novelty[flagged], depth[flagged], s=6, color="red"))
    _title(ax, "novelty (red: flagged)")
    if described:
        ax = axes[-1]
        group_index, names = class_groups(core[LABEL_COL].fillna("").astype(str).tolist())
        index = {g: i for i, g in enumerate(result.group_names)}
        rgba = np.array([colours[index[n]] if n in index else (0.8, 0.8, 0.8, 1.0) for n in names])
        # One image row per drawn bin: a strip of colours, not thousands of patches.
        strip = rgba[group_index][:, None, :] if len(group_index) else np.zeros((1, 1, 4))
        extent = (0, 1, depth.max(initial=0), depth.min(initial=0))
        keep(ax.imshow(strip, aspect="auto", interpolation="nearest", extent=extent))
        ax.set_xticks([])
        _title(ax, "described group")
    fig = page.fig
    if page.legend is None:  # the groups and their colours are the same on every page
        handles, labels = axes[len(FEATURE_COLS)].get_legend_handles_labels()
        page.legend = fig.legend(
            handles, labels, loc="lower center", ncol=7, fontsize=7, frameon=False
        )
    title = f"{borehole}: predicted lithology groups ({result.label})"
    if page.title is None:
        page.title = fig.suptitle(title, fontsize=11)
    page.title.set_text(title)
    # zlib level 1: a quarter less time than the default 6 for files 6% larger
    fig.savefig(path, format="png", dpi=90, pil_kwargs={"compress_level": 1})
