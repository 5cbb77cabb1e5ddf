"""What ``lilyvae predict`` writes: the table, LAS files, intervals and the summary JSON.

Every file of one prediction is written to a temporary name first and moved into place
only when all of them are written: a failure leaves none of them half-written or new.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL
from lilyvae.data.tables import table_format, write_table
from lilyvae.files import atomic_path, to_json
from lilyvae.predict.predictor import CorePrediction

#: The LAS null value the field's log viewers expect.
LAS_NULL = -999.25


def per_borehole_path(path: Path, borehole: str, several: bool) -> Path:
    """``FILE.las`` for one borehole; ``FILE.<borehole>.las`` for each of several."""
    if not several:
        return path
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", borehole)
    return path.with_name(f"{path.stem}.{safe}{path.suffix}")


def summary_path(output: Path) -> Path:
    return output.with_name(output.stem + ".predict.json")


def _mnemonic(group: str) -> str:
    return "P_" + re.sub(r"[^A-Z0-9]+", "_", group.upper()).strip("_")


def _las_curves(result: CorePrediction, rows: np.ndarray) -> list[tuple[str, np.ndarray, str, str]]:
    """(mnemonic, values, unit, description) of each curve, depth first."""
    table = result.table.iloc[rows]
    curves = [("DEPT", table[DEPTH_COL].to_numpy(np.float64), "M", "depth")]
    for j, group in enumerate(result.group_names):
        curves.append((_mnemonic(group), result.group_proba[rows, j].astype(np.float64), "", group))
    for column, mnemonic, descr in (
        ("set_size", "SETSIZE", f"classes in the {result.level:g} prediction set"),
        ("novelty", "NOVELTY", "novelty score (1 = 99th percentile of held-out bins)"),
        ("novel", "NOVEL", "1 = flagged as unlike the training bins"),
    ):
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce").to_numpy(np.float64)
            curves.append((mnemonic, values, "", descr))
    return curves


def las_text(result: CorePrediction, rows: np.ndarray, borehole: str) -> str:
    """A LAS 2.0 file of one borehole: depth, each group's probability, set size, novelty.

    lasio writes the header sections (from the first bin); the data section is formatted
    by NumPy, since lasio formats each value in Python (minutes for a million bins)."""
    import lasio

    curves = _las_curves(result, rows)
    las = lasio.LASFile()
    las.well["WELL"] = lasio.HeaderItem("WELL", value=borehole, descr="Borehole_ID")
    las.well["NULL"] = lasio.HeaderItem("NULL", value=LAS_NULL, descr="undefined")
    las.params.append(lasio.HeaderItem("PROB", value=result.label, descr="probabilities"))
    las.params.append(lasio.HeaderItem("MODEL", value=result.model, descr="lilyvae model"))
    if result.synthetic:
        las.params.append(
            lasio.HeaderItem("DATA", value="SYNTHETIC", descr="not real data; no real core")
        )
        las.other = "SYNTHETIC: predicted from synthetic data by lilyvae; not a real core."
    for mnemonic, values, unit, descr in curves:
        las.append_curve(mnemonic, values[:1], unit=unit, descr=descr)
    buffer = io.StringIO()
    las.write(buffer, version=2.0, fmt="%.5f")
    header, _, _ = buffer.getvalue().partition("\n~A")
    data = np.column_stack([values for _, values, _, _ in curves])
    data = np.where(np.isfinite(data), data, LAS_NULL)
    # lasio fills STRT/STOP from the one bin it was given: the whole borehole's range.
    depth = curves[0][1]
    header = re.sub(r"(STRT\.M\s+)\S+", lambda m: f"{m.group(1)}{depth[0]:.5f}", header)
    header = re.sub(r"(STOP\.M\s+)\S+", lambda m: f"{m.group(1)}{depth[-1]:.5f}", header)
    steps = np.diff(depth)
    step = float(steps[0]) if len(steps) and np.allclose(steps, steps[0]) else 0.0
    header = re.sub(r"(STEP\.M\s+)\S+", lambda m: f"{m.group(1)}{step:.5f}", header)
    body = io.StringIO()
    # pandas formats in C; numpy.savetxt formats row by row in Python.
    pd.DataFrame(data).to_csv(body, sep=" ", header=False, index=False, float_format="%.5f")
    names = " ".join(m for m, _, _, _ in curves)
    return f"{header}\n~A {names}\n{body.getvalue()}"


def intervals_frame(result: CorePrediction) -> pd.DataFrame:
    """Consecutive bins of one borehole with the same predicted lithology, merged.

    A bin spans from halfway to the bin above to halfway to the bin below (the first
    and last bins of a borehole: half the borehole's median spacing), so the intervals
    of a borehole tile its depths without gaps or overlaps.
    """
    t = result.table
    pieces = []
    for borehole, rows in t.groupby(BOREHOLE_COL, sort=False).indices.items():
        sub = t.iloc[rows]
        depth = sub[DEPTH_COL].to_numpy(np.float64)
        step = float(np.median(np.diff(depth))) if len(depth) > 1 else 0.2
        mids = (depth[1:] + depth[:-1]) / 2
        tops = np.r_[depth[0] - step / 2, mids]
        bases = np.r_[mids, depth[-1] + step / 2]
        lith = sub["lithology"].astype(object).fillna("(no prediction)").to_numpy(object)
        start = np.r_[True, lith[1:] != lith[:-1]]
        run = np.cumsum(start) - 1
        grouped = pd.DataFrame(
            {
                "run": run,
                "Top": tops,
                "Base": bases,
                "Lithology": lith,
                "Group": sub["group"].astype(object).fillna("").to_numpy(object),
                "Probability": sub["probability"].to_numpy(np.float64),
                "Novelty": sub["novelty"].to_numpy(np.float64) if "novelty" in sub else np.nan,
                "Novel_bins": sub["novel"].fillna(False).astype(int) if "novel" in sub else 0,
            }
        ).groupby("run", sort=True)
        merged = grouped.agg(
            Top=("Top", "first"),
            Base=("Base", "last"),
            Lithology=("Lithology", "first"),
            Group=("Group", "first"),
            Probability=("Probability", "mean"),
            Novelty=("Novelty", "max"),
            Novel_bins=("Novel_bins", "sum"),
            Bins=("Top", "size"),
        )
        merged.insert(0, BOREHOLE_COL, borehole)
        pieces.append(merged)
    out = pd.concat(pieces, ignore_index=True)
    out["Probabilities"] = "calibrated" if result.calibrated else "UNCALIBRATED"
    if result.synthetic:
        out["Data"] = "SYNTHETIC"
    return out


def summary(result: CorePrediction, files: dict[str, list[str]]) -> dict:
    out = {
        "format": "lilyvae-prediction",
        "model": result.model,
        "probabilities": result.label,
        "synthetic": result.synthetic,
        "level": result.level,
        "bins": int(len(result.table)),
        "boreholes": sorted(map(str, result.table[BOREHOLE_COL].unique())),
        "files": files,
        "notes": result.notes,
    }
    if result.synthetic:
        out["notice"] = "SYNTHETIC: predicted from synthetic data; no value describes a real core"
    if result.scores is not None:
        out["blind_well"] = result.scores
    return out


def write_prediction(
    result: CorePrediction,
    output: str | os.PathLike,
    las: str | os.PathLike | None = None,
    intervals: str | os.PathLike | None = None,
    figure: str | os.PathLike | None = None,
) -> dict[str, list[Path]]:
    """Write the table and whichever of the other outputs are asked, as one unit."""
    output = Path(output)
    fmt = table_format(output)
    writers: dict[Path, Callable[[Path], None]] = {
        output: lambda tmp: write_table(result.table, tmp, fmt)
    }
    names: dict[str, list[Path]] = {"table": [output]}
    by_borehole = result.table.groupby(BOREHOLE_COL, sort=False).indices
    several = len(by_borehole) > 1
    if las is not None:
        names["las"] = []
        for borehole, rows in by_borehole.items():
            path = per_borehole_path(Path(las), str(borehole), several)
            text = las_text(result, rows, str(borehole))
            writers[path] = lambda tmp, text=text: tmp.write_text(text, encoding="utf-8")
            names["las"].append(path)
    if intervals is not None:
        frame = intervals_frame(result)
        writers[Path(intervals)] = lambda tmp: write_table(frame, tmp, table_format(intervals))
        names["intervals"] = [Path(intervals)]
    if figure is not None:
        from lilyvae.predict.figure import draw_core

        names["figure"] = []
        for borehole, rows in by_borehole.items():
            path = per_borehole_path(Path(figure), str(borehole), several)
            writers[path] = lambda tmp, rows=rows, b=str(borehole): draw_core(result, rows, b, tmp)
            names["figure"].append(path)
    record = summary(result, {k: [str(p) for p in v] for k, v in names.items()})
    writers[summary_path(output)] = lambda tmp: tmp.write_text(to_json(record), encoding="utf-8")
    names["summary"] = [summary_path(output)]
    with contextlib.ExitStack() as stack:
        temporary = {path: stack.enter_context(atomic_path(path)) for path in writers}
        for path, writer in writers.items():
            writer(temporary[path])
    return names
