"""What ``lilyvae predict`` writes: the table, LAS files, intervals and the summary JSON.

Every file of one prediction is written to a temporary name first and moved into place
only when all of them are written: a failure leaves none of them half-written or new.
"""

from __future__ import annotations

import contextlib
import os
import re
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.lithology import class_groups
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL
from lilyvae.data.tables import table_format, write_table
from lilyvae.files import atomic_path, to_json
from lilyvae.predict.las import las_text
from lilyvae.predict.predictor import CorePrediction
from lilyvae.predict.sharing import SharedJobs


def per_borehole_path(path: Path, borehole: str, several: bool) -> Path:
    """``FILE.las`` for one borehole; ``FILE.<borehole>.las`` for each of several."""
    if not several:
        return path
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", borehole)
    return path.with_name(f"{path.stem}.{safe}{path.suffix}")


def summary_path(output: Path) -> Path:
    return output.with_name(output.stem + ".predict.json")


#: Decimals of the intervals' Top and Base (metres): 0.1 mm.
DEPTH_DECIMALS = 4
#: The lithology of an interval of bins that could not be predicted (an input missing).
NO_PREDICTION = "(no prediction)"


def intervals_frame(result: CorePrediction) -> pd.DataFrame:
    """Consecutive bins of one borehole with the same predicted lithology, merged.

    A bin spans from halfway to the bin above to halfway to the bin below (the first
    and last bins of a borehole: half the borehole's median spacing, but never above
    the sea floor, depth 0), so the intervals of a borehole tile its depths without gaps
    or overlaps. Top and Base are rounded to 0.1 mm (:data:`DEPTH_DECIMALS`): the float
    noise of depth arithmetic (0.30000000000000004) is not a depth. ``Group`` is the
    group of the interval's lithology (the table's ``group`` column, the most likely
    group summed over its classes, can differ).
    """
    # Only the columns used: taking a borehole's rows of the whole table costs seconds.
    used = [BOREHOLE_COL, DEPTH_COL, "lithology", "probability", "novelty", "novel"]
    t = result.table[[c for c in used if c in result.table.columns]]
    pieces = []
    for borehole, rows in t.groupby(BOREHOLE_COL, sort=False).indices.items():
        sub = t.iloc[rows]
        depth = sub[DEPTH_COL].to_numpy(np.float64)
        step = float(np.median(np.diff(depth))) if len(depth) > 1 else 0.2
        mids = np.round((depth[1:] + depth[:-1]) / 2, DEPTH_DECIMALS)
        first = depth[0] - step / 2
        first = max(first, 0.0) if depth[0] >= 0 else first
        tops = np.r_[np.round(first, DEPTH_DECIMALS), mids]
        bases = np.r_[mids, np.round(depth[-1] + step / 2, DEPTH_DECIMALS)]
        lith = sub["lithology"].astype(object).fillna(NO_PREDICTION).to_numpy(object)
        # Each run of one lithology by its first and last bin; its sums by np.*.reduceat
        # (a pandas groupby of the runs took ten times as long).
        starts = np.flatnonzero(np.r_[True, lith[1:] != lith[:-1]])
        ends = np.r_[starts[1:], len(lith)] - 1
        bins = ends - starts + 1
        novelty = (
            sub["novelty"].to_numpy(np.float64) if "novelty" in sub else np.full(len(sub), np.nan)
        )
        novel = (
            sub["novel"].fillna(False).to_numpy(bool)
            if "novel" in sub
            else np.zeros(len(sub), bool)
        )
        probability = sub["probability"].to_numpy(np.float64)
        merged = pd.DataFrame(
            {
                "Top": tops[starts],
                "Base": bases[ends],
                "Lithology": lith[starts],
                # A run's bins are all predicted or none (NaN): no NaN to skip. A plain
                # sum (pandas' groupby had summed with compensation: the same means on
                # the 186,680 runs of the benchmark's core).
                "Probability": np.add.reduceat(probability, starts) / bins,
                "Novelty": np.fmax.reduceat(novelty, starts),  # fmax: NaN only if all are
                "Novel_bins": np.add.reduceat(novel.astype(np.int64), starts),
                "Bins": bins,
            }
        )
        merged.insert(0, BOREHOLE_COL, borehole)
        pieces.append(merged)
    out = pd.concat(pieces, ignore_index=True)
    names = [n for n in out["Lithology"].unique() if n != NO_PREDICTION]
    codes, groups = class_groups(names)
    group = {NO_PREDICTION: ""} | {n: groups[c] for n, c in zip(names, codes, strict=True)}
    out.insert(out.columns.get_loc("Lithology") + 1, "Group", out["Lithology"].map(group))
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
    """Write the table and whichever of the other outputs are asked, as one unit: by
    this process and a forked one at once (:class:`~lilyvae.predict.sharing.SharedJobs`),
    each file to a temporary name, moved into place when all are written.

    The seconds each kind of output took are added to ``result.seconds``."""
    output = Path(output)
    watch = result.seconds
    fmt = table_format(output)
    by_borehole = result.table.groupby(BOREHOLE_COL, sort=False).indices
    several = len(by_borehole) > 1

    def each_borehole(path) -> dict[Path, tuple]:
        return {
            per_borehole_path(Path(path), str(b), several): (rows, str(b))
            for b, rows in by_borehole.items()
        }

    # path -> (stage, writer of the file at a temporary path)
    table = {output: ("write table", lambda tmp: write_table(result.table, tmp, fmt))}
    las_files, interval_file, figures = {}, {}, {}
    for path, (rows, borehole) in each_borehole(las).items() if las is not None else ():
        # Made when written: ten boreholes of text held at once would be 200 MB.
        las_files[path] = (
            "LAS",
            lambda tmp, rows=rows, b=borehole: tmp.write_text(
                las_text(result, rows, b), encoding="utf-8"
            ),
        )
    if intervals is not None:
        interval_file[Path(intervals)] = (
            "intervals",
            lambda tmp: write_table(intervals_frame(result), tmp, table_format(intervals)),
        )
    if figure is not None:
        from lilyvae.predict.figure import CorePages, draw_core

        pages = CorePages()  # one page for every borehole, in the process drawing them
        for path, (rows, borehole) in each_borehole(figure).items():
            # called with the temporary path, draw_core's fourth argument
            figures[path] = ("figures", partial(draw_core, result, rows, borehole, pages=pages))
    names = {"table": [output]}
    for kind, written, asked in (
        ("las", las_files, las),
        ("intervals", interval_file, intervals),
        ("figure", figures, figure),
    ):
        if asked is not None:
            names[kind] = list(written)
    listed = {k: [str(p) for p in v] for k, v in names.items()}
    names["summary"] = [summary_path(output)]
    # The order the process beside this one takes them in (see SharedJobs): the figures
    # first, the table last.
    files = figures | las_files | interval_file | table
    with contextlib.ExitStack() as stack:
        temporary = {
            path: stack.enter_context(atomic_path(path)) for path in [*files, *names["summary"]]
        }
        shared = SharedJobs(
            [(stage, partial(write, temporary[path])) for path, (stage, write) in files.items()]
        )
        stack.callback(shared.stop)  # on a failure here, before the files are cleaned up
        record = summary(result, listed)  # the blind-well test, here, as the figures start
        shared.run_here(watch)
        with watch("waiting for the process beside"):
            shared.wait(watch)
        with watch("summary"):
            temporary[summary_path(output)].write_text(to_json(record), encoding="utf-8")
    return names
