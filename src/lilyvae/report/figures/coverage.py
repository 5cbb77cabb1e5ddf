"""Coverage: the bins and boreholes of the table with and without colour, what each model
embeds of them, and where the boreholes without a colour scan lie (on the map).

A model trained with ``--missing drop`` (the reference's way) embeds only the bins with
all six inputs; one trained with ``--missing mask`` embeds every bin with an input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, COLOUR_INDEX
from lilyvae.data.tables import feature_values
from lilyvae.report.figures.borehole_map import land_fraction_grid
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.style import HELD_OUT_COLOUR, TRAIN_COLOUR, pyplot

WITHOUT_COLOUR = HELD_OUT_COLOUR
WITH_COLOUR = TRAIN_COLOUR
SOME_WITHOUT = "#8e5aa8"
NOT_EMBEDDED = "#d9d9d9"


def bin_coverage(table: pd.DataFrame) -> pd.DataFrame:
    """Per row of the table with an input: its borehole and whether it has colour."""
    values = feature_values(table)
    present = np.isfinite(values)
    usable = present.any(axis=1)
    colour = present[:, list(COLOUR_INDEX)].all(axis=1)
    boreholes = (
        table[BOREHOLE_COL].astype(str).to_numpy()
        if BOREHOLE_COL in table.columns
        else np.full(len(table), "all rows", dtype=object)
    )
    return pd.DataFrame(
        {
            "borehole": boreholes[usable],
            "colour": colour[usable],
            "complete": present.all(1)[usable],
        }
    )


def model_modes(inputs: FigureInputs) -> dict[str, str]:
    """Each model's name and ``missing`` mode."""
    return {m.name: m.model.missing for m in inputs.models}


def _bars(ax, rows: list[tuple[str, list[int]]], labels, colours, what: str) -> None:
    """Horizontal stacked bars, one per (name, counts)."""
    for y, (_, counts) in enumerate(rows):
        left = 0
        for k, (n, colour) in enumerate(zip(counts, colours, strict=True)):
            ax.barh(y, n, left=left, color=colour, label=labels[k] if y == 0 else None)
            left += n
        ax.text(left, y, f" {sum(counts[:-1]):,} of {left:,}", va="center", fontsize=7)
    ax.set_yticks(range(len(rows)), [name for name, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(what + " (label: embedded of all)", fontsize=8)
    ax.set_xlim(0, 1.3 * max(sum(counts) for _, counts in rows))
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)


def _bin_rows(bins: pd.DataFrame, modes: dict[str, str]) -> list[tuple[str, list[int]]]:
    with_colour, without = int(bins["colour"].sum()), int((~bins["colour"]).sum())
    rows = [("the table", [with_colour, without, 0])]
    for name, mode in modes.items():
        embeds = bins["complete"] if mode == "drop" else np.ones(len(bins), bool)
        rows.append(
            (
                f"{name} ({mode})",
                [
                    int((embeds & bins["colour"]).sum()),
                    int((embeds & ~bins["colour"]).sum()),
                    int((~embeds).sum()),
                ],
            )
        )
    return rows


def borehole_coverage(bins: pd.DataFrame) -> pd.DataFrame:
    """Per borehole: bins, bins with colour, and its kind: every bin with colour, some
    without, or no colour scan."""
    g = bins.groupby("borehole")
    out = pd.DataFrame({"bins": g.size(), "with_colour": g["colour"].sum()})
    out["kind"] = np.where(
        out["with_colour"] == out["bins"],
        "all",
        np.where(out["with_colour"] > 0, "some", "none"),
    )
    return out


def _borehole_rows(per: pd.DataFrame, modes: dict[str, str]) -> list[tuple[str, list[int]]]:
    scanned, unscanned = int((per["kind"] != "none").sum()), int((per["kind"] == "none").sum())
    rows = [("the table", [scanned, unscanned, 0])]
    for name, mode in modes.items():
        reached = unscanned if mode == "mask" else 0
        rows.append((f"{name} ({mode})", [scanned, reached, unscanned - reached]))
    return rows


KIND_STYLE = {
    "all": (WITH_COLOUR, "every bin with colour"),
    "some": (SOME_WITHOUT, "some bins without colour"),
    "none": (WITHOUT_COLOUR, "no colour scan: only a 'mask' model embeds it"),
}


def _map(ax, per: pd.DataFrame, positions: pd.DataFrame) -> None:
    lat, lon, land = land_fraction_grid()
    ax.set_facecolor("#eef4f9")
    ax.contourf(lon, lat, land, levels=[0.5, 1.01], colors=["#e4e0d3"])
    where = positions.set_index(BOREHOLE_COL)[["latitude", "longitude"]]
    placed = per.join(where, how="inner").dropna(subset=["latitude", "longitude"])
    for kind, (colour, text) in KIND_STYLE.items():
        pts = placed[placed["kind"] == kind]
        size = 8 + 50 * np.sqrt(pts["bins"] / max(float(placed["bins"].max()), 1.0))
        ax.scatter(
            pts["longitude"],
            pts["latitude"],
            s=size,
            c=colour,
            edgecolor="k",
            linewidths=0.3,
            alpha=0.85,
            label=f"{text} ({len(pts)})",
        )
    ax.set(xlim=(-180, 180), ylim=(-85, 85), aspect="equal")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower left", title="boreholes (marker area: bins)", title_fontsize=7)


def fig_coverage(inputs: FigureInputs, title: str = ""):
    """Bars of bins and boreholes with and without colour embedded by each model, and
    the boreholes on the map by their colour coverage."""
    plt = pyplot()
    bins = bin_coverage(inputs.table)
    per = borehole_coverage(bins)
    modes = model_modes(inputs)
    fig = plt.figure(figsize=(13, 9.5))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.6])
    labels = ("with colour", "without colour", "not embedded")
    colours = (WITH_COLOUR, WITHOUT_COLOUR, NOT_EMBEDDED)
    _bars(fig.add_subplot(grid[0, 0]), _bin_rows(bins, modes), labels, colours, "bins (20 cm rows)")
    _bars(fig.add_subplot(grid[0, 1]), _borehole_rows(per, modes), labels, colours, "boreholes")
    ax = fig.add_subplot(grid[1, :])
    if inputs.positions is not None:
        _map(ax, per, inputs.positions)
    else:
        ax.axis("off")
        ax.text(0.5, 0.5, "no borehole positions: no map", ha="center", fontsize=9)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _caption(inputs: FigureInputs) -> str:
    bins = bin_coverage(inputs.table)
    per = borehole_coverage(bins)
    without = int((~bins["colour"]).sum())
    unscanned = int((per["kind"] == "none").sum())
    return (
        f"Of the table's {len(bins):,} bins with an input, {without:,} have no colour; of its "
        f"{len(per):,} boreholes, {unscanned:,} have no colour scan at all. Bars: what each "
        "model embeds; a model trained with --missing drop (the reference's way) embeds only "
        "bins with all six inputs, one trained with --missing mask every bin. Map: the "
        "boreholes by their colour coverage (grey land from the mask shipped in "
        "global-land-mask)."
    )


COVERAGE = FigureSpec(
    name="coverage",
    title="bins and boreholes embedded with and without colour",
    caption=_caption,
    draw=fig_coverage,
    needs=Needs(("models",), "no models: nothing is embedded"),
)
