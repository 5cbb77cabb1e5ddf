"""``properties.csv``, the comparison of predictors, and the printed summary.

``properties.csv`` has one row per (table, variable) target, scored or reported without
a score, with the columns ``table, variable, n_rows, n_boreholes, n_test_rows,
n_test_boreholes``, then ``P_r2, P_r2_low, P_r2_high`` for every predictor ``P`` (the
models in the order given, then ``features``), then ``protocol``. A variable reported
without a score has empty R2 cells; ``properties.json`` says why.

A predictor beats another on a variable only when its whole 95% interval lies above the
other's: overlapping intervals count as no difference.
"""

from __future__ import annotations

import os
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.errors import LilyVAEError

ID_COLUMNS = ("table", "variable", "n_rows", "n_boreholes", "n_test_rows", "n_test_boreholes")
CSV_NAME = "properties.csv"
JSON_NAME = "properties.json"
JSON_FORMAT = "lilyvae-properties"
SCORE_SUFFIXES = ("_r2", "_r2_low", "_r2_high")


def csv_columns(predictors) -> list[str]:
    cols = list(ID_COLUMNS)
    for name in predictors:
        cols += [name + s for s in SCORE_SUFFIXES]
    return cols + ["protocol"]


def results_frame(tasks, results, predictors, protocol: str) -> pd.DataFrame:
    """The rows of ``properties.csv`` (one per task, in task order)."""
    records = []
    for task, res in zip(tasks, results, strict=True):
        row = {"table": task.table, "variable": task.variable}
        for col in ID_COLUMNS[2:]:
            row[col] = res.get(col)
        for name in predictors:
            score = res["scores"].get(name, {})
            for suffix, key in zip(SCORE_SUFFIXES, ("r2", "low", "high"), strict=True):
                row[name + suffix] = score.get(key, np.nan)
        row["protocol"] = protocol
        records.append(row)
    frame = pd.DataFrame.from_records(records, columns=csv_columns(predictors))
    for col in ID_COLUMNS[2:]:
        frame[col] = frame[col].astype("Int64")
    return frame


def predictors_of(frame: pd.DataFrame) -> list[str]:
    """Predictor names of a ``properties.csv`` frame, in column order."""
    return [c[: -len("_r2")] for c in frame.columns if c.endswith("_r2")]


def compare(frame: pd.DataFrame, first: str, second: str) -> dict:
    """How often ``first`` beats ``second`` with intervals apart, and the reverse."""
    both = frame[[f"{first}_r2", f"{second}_r2"]].notna().all(axis=1)
    f = frame.loc[both]
    first_wins = int((f[f"{first}_r2_low"] > f[f"{second}_r2_high"]).sum())
    second_wins = int((f[f"{second}_r2_low"] > f[f"{first}_r2_high"]).sum())
    higher = int((f[f"{first}_r2"] > f[f"{second}_r2"]).sum())
    return {
        "first": first,
        "second": second,
        "scored": int(both.sum()),
        "first_better": first_wins,
        "second_better": second_wins,
        "overlapping": int(both.sum()) - first_wins - second_wins,
        "first_point_estimate_higher": higher,
    }


def comparisons(frame: pd.DataFrame, models: list[str], baseline: str) -> list[dict]:
    """Every pair of models, then every model against the baseline."""
    pairs = list(combinations(models, 2)) + [(m, baseline) for m in models]
    return [compare(frame, a, b) for a, b in pairs]


def summary_lines(frame: pd.DataFrame, info: dict) -> list[str]:
    """What ``lilyvae properties`` prints at the end."""
    tag = "SYNTHETIC data: " if info.get("synthetic") else ""
    protocol = info["settings"]["protocol"]
    scored = frame.filter(like="_r2").notna().any(axis=1)
    if protocol == "reference":
        how = f"{info['settings']['rounds']} bootstrap rounds of random 80/20 splits of rows"
        notes = ["LEAKY: neighbouring bins of a borehole sit on both sides of every split"]
    else:
        how, notes = info["split"]["description"], info["split"].get("warnings", [])
    lines = [f"{tag}{int(scored.sum())} of {len(frame)} targets scored ({protocol}: {how})"]
    lines += [f"  WARNING: {w}" for w in notes]
    for c in info["comparisons"]:
        lines.append(
            f"  {c['first']} vs {c['second']}: {c['first']} better on {c['first_better']}, "
            f"{c['second']} better on {c['second_better']}, intervals overlap on "
            f"{c['overlapping']} (of {c['scored']}; point estimate higher on "
            f"{c['first_point_estimate_higher']})"
        )
    medians = ", ".join(
        f"{p} {frame[p + '_r2'].median():.3f}" for p in predictors_of(frame) if scored.any()
    )
    if medians:
        lines.append(f"  median R2: {medians}")
    skipped = info.get("skipped_counts", {})
    if skipped:
        lines.append("  skipped columns: " + ", ".join(f"{k} {v}" for k, v in skipped.items()))
    for table, reason in info.get("tables_skipped", {}).items():
        lines.append(f"  table {table} skipped: {reason}")
    return lines


def read_properties(path: str | os.PathLike) -> pd.DataFrame:
    """A ``properties.csv`` (or the folder holding it), checked for its columns."""
    path = Path(path)
    if path.is_dir():
        path = path / CSV_NAME
    if not path.is_file():
        raise LilyVAEError(f"{path}: no such file (run lilyvae properties first)")
    frame = pd.read_csv(
        path, dtype={"table": str, "variable": str}, keep_default_na=False, na_values=[""]
    )
    missing = [c for c in (*ID_COLUMNS, "protocol") if c not in frame.columns]
    if missing or not predictors_of(frame):
        raise LilyVAEError(f"{path}: not a properties.csv (missing {missing or 'R2 columns'})")
    return frame
