"""A new core to predict, read from one of three forms, into one frame.

- the nine-column training table (CSV or Parquet), ``Principal`` optional;
- a folder of raw LIMS-format files (``GRA_DataLITH.csv``, ``MS_DataLITH.csv``,
  ``NGR_DataLITH.csv``, ``RGB_DataLITH.csv``) of one or more boreholes, with or without
  lithology: binned with the same rules as ``build-dataset`` (bin index = round half to
  even of depth / 0.2 m, mean per bin, the four joined on borehole and bin, bins with a
  GRA or colour mean out of range dropped), the most frequent ``Principal`` per bin when
  there is one;
- a LAS file with the six curves (mnemonics :data:`LAS_CURVES`), its depth index as depth
  and its ``WELL`` as the borehole.

The frame has ``Borehole_ID``, ``Depth_Bin``, the six inputs and ``Principal`` when the
input has one, rows in input order. Depths must increase within each borehole.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.lily.release import (
    DEPTH_COLUMN,
    ID_COLUMNS,
    LILY_FILES,
    MEASUREMENT_COLUMNS,
    NA_TOKENS,
    PRINCIPAL_COLUMN,
)
from lilyvae.data.lily.rules import GRA_RANGE, RGB_RANGE, depth_bin_index, depth_bin_value
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, GRA, LABEL_COL, MS, NGR
from lilyvae.data.tables import read_table, require_columns
from lilyvae.errors import LilyVAEError, first_line

#: LAS curve mnemonics of the six inputs (case-insensitive).
LAS_CURVES = {"GRA": GRA, "MS": MS, "NGR": NGR, "R": "R", "G": "G", "B": "B"}


def read_core(path: str | os.PathLike) -> pd.DataFrame:
    """The new core at ``path`` (a table, a folder of LIMS files, or a .las file)."""
    path = Path(path)
    if path.is_dir():
        frame = read_lims_folder(path)
    elif path.suffix.lower() == ".las":
        frame = read_las(path)
    else:
        frame = read_table(path)
        require_columns(frame, (BOREHOLE_COL, DEPTH_COL, *FEATURE_COLS), path)
        keep = [BOREHOLE_COL, DEPTH_COL, *FEATURE_COLS]
        if LABEL_COL in frame.columns:
            keep.append(LABEL_COL)
        frame = frame[keep].reset_index(drop=True)
        frame[BOREHOLE_COL] = frame[BOREHOLE_COL].astype(str)
    check_core(frame, path)
    return frame


def check_core(frame: pd.DataFrame, path) -> None:
    """Refuse an empty core and depths that are missing or do not increase."""
    if len(frame) == 0:
        raise LilyVAEError(f"{path}: the core is empty (no bins)")
    depth = pd.to_numeric(frame[DEPTH_COL], errors="coerce").to_numpy(np.float64)
    if not np.isfinite(depth).all():
        row = int(np.flatnonzero(~np.isfinite(depth))[0])
        raise LilyVAEError(f"{path}: row {row + 1} has no numeric depth in {DEPTH_COL!r}")
    frame[DEPTH_COL] = depth
    boreholes = frame[BOREHOLE_COL].to_numpy()
    same = boreholes[1:] == boreholes[:-1]
    bad = np.flatnonzero(same & (np.diff(depth) <= 0))
    if len(bad):
        i = int(bad[0]) + 1
        raise LilyVAEError(
            f"{path}: depths do not increase within borehole {boreholes[i]} (row {i + 1}: "
            f"{depth[i]:g} m after {depth[i - 1]:g} m)"
        )
    seen = pd.Series(boreholes[np.r_[True, ~same]])
    if seen.duplicated().any():
        name = seen[seen.duplicated()].iloc[0]
        raise LilyVAEError(f"{path}: the rows of borehole {name} are not together")


def _read_lims(path: Path, table: str) -> pd.DataFrame:
    if not path.is_file():
        raise LilyVAEError(f"{path}: missing LIMS file")
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LilyVAEError(f"{path}: cannot read the header ({first_line(exc)})") from None
    wanted = [*ID_COLUMNS, DEPTH_COLUMN, *MEASUREMENT_COLUMNS[table]]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise LilyVAEError(f"{path}: missing required column(s) {', '.join(map(repr, missing))}")
    # A new core need not have been described: the lithology is read when it is there.
    if table == "GRA" and PRINCIPAL_COLUMN in header:
        wanted.append(PRINCIPAL_COLUMN)
    try:
        return pd.read_csv(
            path,
            usecols=wanted,
            dtype={c: str for c in (*ID_COLUMNS, PRINCIPAL_COLUMN) if c in wanted},
            na_values=list(NA_TOKENS),
            keep_default_na=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise LilyVAEError(f"{path}: cannot read the file ({first_line(exc)})") from None


def _bin_lims(df: pd.DataFrame, table: str) -> pd.DataFrame:
    cols = list(MEASUREMENT_COLUMNS[table])
    for c in [DEPTH_COLUMN, *cols]:
        df[c] = pd.to_numeric(df[c], errors="coerce")
    df = df.dropna(subset=[*ID_COLUMNS, DEPTH_COLUMN, *cols])
    df = df[np.isfinite(df[[DEPTH_COLUMN, *cols]].to_numpy(np.float64)).all(axis=1)]
    ids = df["Exp"].str.strip() + "-" + df["Site"].str.strip() + "-" + df["Hole"].str.strip()
    keyed = pd.DataFrame({BOREHOLE_COL: ids, "bin": depth_bin_index(df[DEPTH_COLUMN])})
    keyed[cols] = df[cols].to_numpy(np.float64)
    means = keyed.groupby([BOREHOLE_COL, "bin"], sort=True)[cols].mean()
    if PRINCIPAL_COLUMN in df.columns:
        names = df[PRINCIPAL_COLUMN].str.strip()
        named = keyed.assign(**{LABEL_COL: names})[names.notna() & (names != "")]
        # The most frequent name per bin; ties: the alphabetically first.
        counts = named.groupby([BOREHOLE_COL, "bin", LABEL_COL]).size().rename("n").reset_index()
        counts = counts.sort_values([BOREHOLE_COL, "bin", "n", LABEL_COL], ascending=[1, 1, 0, 1])
        mode = counts.drop_duplicates([BOREHOLE_COL, "bin"]).set_index([BOREHOLE_COL, "bin"])
        means = means.join(mode[[LABEL_COL]], how="left")
    return means


def read_lims_folder(folder: Path) -> pd.DataFrame:
    """Bin the four LIMS files of ``folder`` into the table's rows (lithology optional)."""
    binned = [_bin_lims(_read_lims(folder / LILY_FILES[t], t), t) for t in LILY_FILES]
    joined = binned[0]
    for other in binned[1:]:
        joined = joined.join(other, how="inner")
    gra_ok = joined[GRA].between(*GRA_RANGE)
    rgb_ok = joined[["R", "G", "B"]].apply(lambda c: c.between(*RGB_RANGE)).all(axis=1)
    joined = joined[gra_ok & rgb_ok].reset_index()
    if len(joined) == 0:
        raise LilyVAEError(f"{folder}: no bin has all four measurements (the core is empty)")
    frame = pd.DataFrame(
        {BOREHOLE_COL: joined[BOREHOLE_COL], DEPTH_COL: depth_bin_value(joined["bin"])}
    )
    for c in FEATURE_COLS:
        frame[c] = joined[c].to_numpy(np.float64)
    if LABEL_COL in joined.columns and joined[LABEL_COL].notna().any():
        frame[LABEL_COL] = joined[LABEL_COL].to_numpy(object)
    return frame


def read_las(path: Path) -> pd.DataFrame:
    """A LAS file's six curves by mnemonic, its index as depth, WELL as the borehole."""
    import lasio

    try:
        las = lasio.read(str(path))
    except Exception as exc:  # lasio raises many kinds for a malformed file
        raise LilyVAEError(f"{path}: not a readable LAS file ({first_line(exc)})") from None
    by_name = {c.mnemonic.upper(): c for c in las.curves}
    missing = [m for m in LAS_CURVES if m not in by_name]
    if missing:
        raise LilyVAEError(f"{path}: missing LAS curve(s) {', '.join(missing)}")
    well = las.well["WELL"].value if "WELL" in las.well else ""
    frame = pd.DataFrame(
        {
            BOREHOLE_COL: str(well).strip() or path.stem,
            DEPTH_COL: np.asarray(las.index, dtype=np.float64),
        }
    )
    for mnemonic, column in LAS_CURVES.items():
        frame[column] = np.asarray(by_name[mnemonic].data, dtype=np.float64)
    return frame
