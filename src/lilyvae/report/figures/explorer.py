"""The report's embedding explorer: the UMAP layouts of the UMAP figure, one point per
row, to hover (borehole, depth, lithology and the six measurements) and to colour by
lithology, lithology group, borehole, GMM cluster or held-out status.

Two halves: :func:`explorer_points` gathers the rows (written by ``lilyvae figures`` as
``figures/explorer.parquet``, listed in ``figures.json``), and :func:`explorer_html`
turns them into a block of HTML for the report.

Why Plotly (not Bokeh, the other well-kept library that writes self-contained HTML):
its figures carry dropdown menus that restyle the traces (the colouring, the layout)
with no JavaScript of ours, where Bokeh switches colourings through CustomJS callbacks,
JavaScript we would write and maintain. The price is its library, about 4.8 MB inlined
in the report, which keeps the report offline-readable and well under 15 MB.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_SHORT
from lilyvae.evaluation.groups import group_of
from lilyvae.report.figures.figure_spec import FigureInputs
from lilyvae.report.figures.model_outputs import clusters_of
from lilyvae.report.figures.style import (
    CLUSTER_COLOURS,
    FEATURE_UNITS,
    HELD_OUT_COLOUR,
    OTHER_COLOUR,
    TRAIN_COLOUR,
    category_colours,
    group_colour,
)
from lilyvae.report.figures.umap_figure import umap_run

EXPLORER_FILE = "explorer.parquet"
#: The explorer's columns besides the layouts (``x:<name>``, ``y:<name>``) and the
#: clusters (``cluster:<model>``).
POINT_COLUMNS = ("borehole", "depth_m", "lithology", "group", "held_out", *FEATURE_SHORT)
HELD_OUT_NAMES = {True: "held-out borehole", False: "training borehole"}


def explorer_points(inputs: FigureInputs) -> pd.DataFrame:
    """The UMAP rows with what a point's hover shows and what it can be coloured by."""
    run = umap_run(inputs)
    frame = inputs.frame.iloc[run.rows]
    lithology = inputs.labels.iloc[run.rows].astype(object)
    out = pd.DataFrame(
        {
            "borehole": frame[BOREHOLE_COL].astype(str).to_numpy()
            if BOREHOLE_COL in frame.columns
            else "",
            "depth_m": pd.to_numeric(frame[DEPTH_COL]).to_numpy()
            if DEPTH_COL in frame.columns
            else np.nan,
            "lithology": lithology.where(lithology.notna(), None).to_numpy(),
            "group": [None if pd.isna(v) else group_of(v) for v in lithology],
            "held_out": run.held_out,
        }
    )
    for j, short in enumerate(FEATURE_SHORT):
        out[short] = inputs.features[run.rows, j]
    for m in inputs.models:
        out[f"cluster:{m.name}"] = clusters_of(inputs, m, run.rows)
    for name, layout in run.layouts.items():
        out[f"x:{name}"], out[f"y:{name}"] = layout[:, 0], layout[:, 1]
    return out


# --- the HTML ------------------------------------------------------------------------------


def _colourings(points: pd.DataFrame) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Per colouring: the colour of each point and the legend ({label: colour})."""
    lithology = points["lithology"].fillna("(no lithology)")
    colourings = {"lithology": category_colours(lithology)}
    groups = points["group"].where(points["group"].notna(), None)
    present = sorted(set(groups.dropna()), key=lambda g: (-int((groups == g).sum()), g))
    colourings["lithology group"] = (
        [group_colour(g) for g in groups],
        {g: group_colour(g) for g in present},
    )
    colourings["borehole"] = category_colours(points["borehole"])
    held = {True: HELD_OUT_COLOUR, False: TRAIN_COLOUR}
    colourings["held-out status"] = (
        [held[bool(v)] for v in points["held_out"]],
        {HELD_OUT_NAMES[k]: c for k, c in held.items() if (points["held_out"] == k).any()},
    )
    for column in (c for c in points.columns if c.startswith("cluster:")):
        k = points[column].to_numpy()
        colour = [CLUSTER_COLOURS[v % len(CLUSTER_COLOURS)] for v in k]
        legend = {
            f"cluster {v + 1}": CLUSTER_COLOURS[v % len(CLUSTER_COLOURS)] for v in sorted(set(k))
        }
        colourings[f"GMM cluster ({column.split(':', 1)[1]})"] = (colour, legend)
    return colourings


def _hover(points: pd.DataFrame) -> tuple[list[list], str]:
    """(customdata per point, hover template)."""
    data = [
        points["borehole"].tolist(),
        points["depth_m"].round(2).tolist(),
        points["lithology"].fillna("(no lithology)").tolist(),
        points["group"].fillna("-").tolist(),
        [HELD_OUT_NAMES[bool(v)] for v in points["held_out"]],
        *(points[short].round(4).tolist() for short in FEATURE_SHORT),
    ]
    lines = [
        "<b>%{customdata[0]}</b>, %{customdata[1]} m",
        "lithology: %{customdata[2]} (%{customdata[3]})",
        "%{customdata[4]}",
    ] + [
        f"{short}: %{{customdata[{5 + j}]}} {_hover_unit(short)}".rstrip()
        for j, short in enumerate(FEATURE_SHORT)
    ]
    return [list(row) for row in zip(*data, strict=True)], "<br>".join(lines) + "<extra></extra>"


def _hover_unit(short: str) -> str:
    unit = FEATURE_UNITS[short]
    return "" if unit == "0-255" else unit


def explorer_figure(points: pd.DataFrame, title: str = ""):
    """The Plotly figure: one trace of points (layout and colours switched by two
    dropdown menus) and, per colouring, empty traces that make its legend."""
    import plotly.graph_objects as go

    layouts = [c[2:] for c in points.columns if c.startswith("x:")]
    colourings = _colourings(points)
    customdata, template = _hover(points)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=points[f"x:{layouts[0]}"].round(3).tolist(),
            y=points[f"y:{layouts[0]}"].round(3).tolist(),
            mode="markers",
            marker={"size": 5, "color": next(iter(colourings.values()))[0], "opacity": 0.85},
            customdata=customdata,
            hovertemplate=template,
            showlegend=False,
            name="rows",
        )
    )
    legend_of = []  # (colouring, colour) of each legend trace
    for name, (colours, legend) in colourings.items():
        for label, colour in {**legend, **_other_entry(name, colours)}.items():
            shown = name == next(iter(colourings))
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    marker={"size": 9, "color": colour},
                    name=label,
                    visible=shown,
                    hoverinfo="skip",
                )
            )
            legend_of.append((name, colour))
    fig.update_layout(
        updatemenus=[
            _menu(_colour_buttons(colourings, legend_of), 0.0),
            _menu(_layout_buttons(points, layouts), 0.42),
        ],
        annotations=[_menu_label("colour by", 0.0), _menu_label("layout (UMAP of)", 0.42)],
        title={"text": title, "x": 0.0, "xanchor": "left", "y": 0.98, "font": {"size": 14}},
        template="simple_white",
        height=680,
        margin={"t": 130, "l": 30, "r": 20, "b": 30},
        xaxis={"showticklabels": False, "ticks": "", "title": "UMAP 1"},
        yaxis={"showticklabels": False, "ticks": "", "title": "UMAP 2"},
        legend={"itemsizing": "constant", "font": {"size": 11}},
        hoverlabel={"align": "left"},
    )
    return fig


def _colour_buttons(colourings: dict, legend_of: list[tuple[str, str]]) -> list[dict]:
    """A button per colouring: the points' colours, and only its legend traces shown
    (each trace's colour given again: restyle sets a value per trace)."""
    return [
        {
            "label": name,
            "method": "restyle",
            "args": [
                {
                    "marker.color": [colours] + [c for _, c in legend_of],
                    "visible": [True] + [n == name for n, _ in legend_of],
                }
            ],
        }
        for name, (colours, _) in colourings.items()
    ]


def _layout_buttons(points: pd.DataFrame, layouts: list[str]) -> list[dict]:
    """A button per representation: the points moved to its layout (trace 0 only)."""
    return [
        {
            "label": name,
            "method": "restyle",
            "args": [
                {
                    "x": [points[f"x:{name}"].round(3).tolist()],
                    "y": [points[f"y:{name}"].round(3).tolist()],
                },
                [0],
            ],
        }
        for name in layouts
    ]


def _other_entry(colouring: str, colours: list[str]) -> dict[str, str]:
    """The grey legend entry of a colouring that leaves values beyond its 15 largest
    grey, when some points are."""
    others = {"lithology": "other lithologies", "borehole": "other boreholes"}
    if colouring in others and OTHER_COLOUR in colours:
        return {others[colouring]: OTHER_COLOUR}
    return {}


def _menu(buttons: list[dict], x: float) -> dict:
    return {
        "buttons": buttons,
        "direction": "down",
        "x": x,
        "xanchor": "left",
        "y": 1.08,
        "yanchor": "bottom",
        "showactive": True,
    }


def _menu_label(text: str, x: float) -> dict:
    return {
        "text": text,
        "x": x,
        "xref": "paper",
        "y": 1.16,
        "yref": "paper",
        "yanchor": "bottom",
        "showarrow": False,
        "xanchor": "left",
    }


def explorer_html(points: pd.DataFrame, title: str = "", div_id: str = "embedding-explorer") -> str:
    """The explorer as one block of HTML, Plotly's library inlined (nothing is fetched
    when the page is opened, and no button sends the data anywhere)."""
    return explorer_figure(points, title).to_html(
        full_html=False,
        include_plotlyjs=True,
        div_id=div_id,
        config={
            "displaylogo": False,
            "responsive": True,
            "showSendToCloud": False,
            "modeBarButtonsToRemove": ["sendDataToCloud"],
        },
    )


def write_explorer_points(inputs: FigureInputs, out) -> dict | None:
    """Write ``explorer.parquet`` into the figures folder ``out`` when the UMAP layouts
    were made; return its entry of ``figures.json`` (None when they were not)."""
    import time

    from lilyvae.data.tables import write_table_atomic

    if "umap" not in inputs.memo:
        return None
    start = time.perf_counter()
    points = explorer_points(inputs)
    write_table_atomic(points, out / EXPLORER_FILE)
    return {
        "file": EXPLORER_FILE,
        "rows": int(len(points)),
        "rows_in_table": int(len(inputs.frame)),
        "held_out_rows": int(points["held_out"].sum()),
        "layouts": [c[2:] for c in points.columns if c.startswith("x:")],
        "seconds": round(time.perf_counter() - start, 2),
    }


def read_explorer_points(figures_dir, entry: dict) -> pd.DataFrame:
    """The explorer's rows that ``figures.json``'s entry names."""
    from lilyvae.data.tables import read_table

    return read_table(figures_dir / entry["file"])
