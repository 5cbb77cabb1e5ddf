"""Figures of an ensemble run: a bootstrap's metric distributions over its members, and
a sweep's metrics against each grid axis, every value with its 95% interval.

The inputs are the run's own files (:mod:`lilyvae.report.ensemble_run`): the members'
values from ``members.csv``, the means and intervals from ``summary.json`` (so a figure
shows exactly the numbers the summary states). :func:`make_ensemble_figures` draws them
into a folder with the same ``figures.json`` manifest a single run's figures have.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.files import write_json_atomic
from lilyvae.report.ensemble_run import EnsembleFiles, read_ensemble
from lilyvae.report.figures.saving import FigureInfo, FigureSet, save_figure
from lilyvae.report.figures.style import (
    DPI,
    HELD_OUT_COLOUR,
    TRAIN_COLOUR,
    caption_tag,
    panel_grid,
    title_tag,
)
from lilyvae.run_folder import MANIFEST

NO_INTERVAL_NOTE = "a hollow marker: fewer than 3 values, no interval"


def fig_member_metrics(members: pd.DataFrame, summary: dict, title: str = ""):
    """One panel per metric: each member's value (dots), their mean (line), the range
    of 95% of the members (band), the 95% interval of the mean (bar) and the scaled
    inputs' value (dashed), where the summary has it."""
    metrics = summary["metrics"]
    baseline = (summary.get("baseline") or {}).get("metrics") or {}
    ok = members[members["status"] == "ok"]
    fig, axes = panel_grid(len(metrics), 4, (3.4, 2.8), extra_height=0.4)
    rng = np.random.default_rng(0)  # the dots' sideways jitter only
    for ax, (name, m) in zip(axes.flat, metrics.items(), strict=False):
        values = pd.to_numeric(ok.get(name), errors="coerce").dropna().to_numpy()
        x = rng.uniform(-0.25, 0.25, len(values))
        ax.scatter(x, values, s=10, color=TRAIN_COLOUR, label="members")
        if m.get("mean") is not None:
            ax.axhline(m["mean"], color="k", lw=1, label="mean")
        if m.get("low") is not None:
            ax.axhspan(
                m["low"], m["high"], color=TRAIN_COLOUR, alpha=0.15, lw=0, label="95% of members"
            )
        if m.get("mean_low") is not None:
            yerr = [[m["mean"] - m["mean_low"]], [m["mean_high"] - m["mean"]]]
            ax.errorbar(
                [0.4],
                [m["mean"]],
                yerr=yerr,
                color="k",
                capsize=3,
                lw=1,
                label="95% interval of the mean",
            )
        if baseline.get(name) is not None:
            ax.axhline(baseline[name], color=HELD_OUT_COLOUR, ls="--", lw=1, label="scaled inputs")
        note = "" if m.get("low") is not None else " (no interval)"
        ax.set_title(f"{name} (n={m['n']}){note}", fontsize=8)
        ax.set_xlim(-0.6, 0.6)
        ax.set_xticks([])
        ax.tick_params(labelsize=7)
    legend: dict = {}  # label -> handle, over every panel (not all have a baseline)
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(list(legend.values()), list(legend), loc="lower center", ncol=5, fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _value_text(value) -> str:
    """A grid value as the axis labels it (``hidden_dims`` as ``64/32``)."""
    if isinstance(value, list):
        return "/".join(map(str, value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:g}"
    return str(value)


def _series(cells: list[dict], axis: str) -> dict[str, list[dict]]:
    """The cells grouped by the values of the other axes (one line each)."""
    out: dict[str, list[dict]] = {}
    for cell in cells:
        others = {k: v for k, v in cell["params"].items() if k != axis}
        label = ", ".join(f"{k}={_value_text(v)}" for k, v in others.items()) or axis
        out.setdefault(label, []).append(cell)
    return out


def fig_sweep_axis(summary: dict, grid: dict[str, list], axis: str, title: str = ""):
    """One panel per metric: each cell's mean over its seeds against the values of
    ``axis`` (one line per setting of the other axes), with the 95% interval of the
    mean as a bar; a hollow marker where the cell has no interval."""
    cells = summary["cells"]
    names = list(next((c["metrics"] for c in cells if c["metrics"]), {}))
    positions = {_value_text(v): i for i, v in enumerate(grid[axis])}
    fig, axes = panel_grid(max(len(names), 1), 4, (3.4, 2.8), extra_height=0.6)
    series = _series(cells, axis)
    colours = [TRAIN_COLOUR, HELD_OUT_COLOUR, "#4d9a4d", "#8e5ea2", "#7f7f7f", "#c0392b"]
    for ax, name in zip(axes.flat, names, strict=False):
        for k, (label, group) in enumerate(series.items()):
            colour = colours[k % len(colours)]
            x = [positions[_value_text(c["params"][axis])] + 0.06 * k for c in group]
            stats = [c["metrics"].get(name, {}) for c in group]
            means = [np.nan if s.get("mean") is None else s["mean"] for s in stats]
            ax.plot(x, means, color=colour, lw=1, label=label)
            for xi, s, cell in zip(x, stats, group, strict=True):
                if s.get("low") is not None:
                    yerr = [[s["mean"] - s["low"]], [s["high"] - s["mean"]]]
                    ax.errorbar([xi], [s["mean"]], yerr=yerr, color=colour, capsize=3, fmt="o")
                elif s.get("mean") is not None:
                    ax.plot([xi], [s["mean"]], "o", mfc="none", color=colour)
                elif not cell["ok"]:
                    ax.text(
                        xi,
                        0.03,
                        "all failed",
                        transform=ax.get_xaxis_transform(),
                        color=colour,
                        fontsize=6,
                        rotation=90,
                        ha="center",
                    )
        ax.set_xticks(list(positions.values()), list(positions), fontsize=7)
        ax.set_xlim(-0.5, len(positions) - 0.5)
        ax.set_xlabel(axis, fontsize=8)
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=7)
    if len(series) > 1:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.06 if len(series) > 1 else 0, 1, 1))
    return fig


def _bootstrap_figures(run: EnsembleFiles):
    """(name, title, caption, draw) of a bootstrap's figure."""
    s = run.summary
    caption = (
        f"Each of the {s['ok']} finished members' value of every metric (dots), their mean "
        "(line), the central 95% of the members' values (band) and Student's t 95% interval "
        "of the mean (bar); dashed: the six scaled inputs scored the same way. "
        f"{run.status}. Metrics on held-out boreholes where the run held some out."
    )
    title = f"bootstrap: every metric over its {s['ok']} members"
    yield "member_metrics", title, caption, lambda t: fig_member_metrics(run.members, s, t)


def _sweep_figures(run: EnsembleFiles):
    """(name, title, caption, draw) of each grid axis's figure."""
    grid = run.grid
    for axis in grid:
        others = [a for a in grid if a != axis]
        caption = (
            f"Each cell's mean over its seeds against {axis}"
            + (f", one line per setting of {', '.join(others)}" if others else "")
            + ", with Student's t 95% interval of the mean (bars, cut at the metric's range); "
            f"{NO_INTERVAL_NOTE}; 'all failed': no seed of the cell finished. {run.status}; "
            "failed members count in no mean."
        )
        yield (
            f"sweep_{axis}",
            f"sweep: every metric against {axis}",
            caption,
            lambda t, a=axis: fig_sweep_axis(run.summary, grid, a, t),
        )


def make_ensemble_figures(
    run_dir: str | os.PathLike, output_dir: str | os.PathLike | None = None, *, pdf: bool = False
) -> FigureSet:
    """Draw an ensemble run's figures into ``output_dir`` (default ``<run>/figures``)
    and write ``figures.json``."""
    start = time.perf_counter()
    run = read_ensemble(run_dir)
    out = Path(output_dir) if output_dir is not None else run.root / "figures"
    out.mkdir(parents=True, exist_ok=True)
    tag, cap_tag = title_tag(run.synthetic), caption_tag(run.synthetic)
    figures, skipped = [], {}
    specs = _bootstrap_figures(run) if run.kind == "bootstrap" else _sweep_figures(run)
    for name, title, caption, draw in specs:
        if not run.summary["ok"]:
            skipped[name] = "no member finished"
            continue
        png, pdf_name = save_figure(draw(tag + title), out, name, pdf)
        figures.append(FigureInfo(name, png, tag + title, cap_tag + caption, pdf_name))
    manifest = write_json_atomic(
        out / MANIFEST,
        {
            "synthetic": run.synthetic,
            "kind": run.kind,
            "run_id": run.summary.get("run_id"),
            "figures": [asdict(f) for f in figures],
            "skipped": skipped,
            "parameters": {"dpi": DPI},
            "wall_time_s": round(time.perf_counter() - start, 2),
        },
    )
    return FigureSet(out, figures, skipped, manifest)
