"""The borehole table ``<table stem>.boreholes.csv``: one row per borehole of a table.

Its columns (``BOREHOLE_TABLE_COLUMNS``): Borehole_ID, latitude, longitude,
water_depth_m, rows, min_depth_m, max_depth_m. ``build-dataset`` writes one beside the
table it builds from LILY; the demo writes one beside its synthetic table. The map
figure reads the positions from it when the table itself has no latitude/longitude
columns.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, BOREHOLE_TABLE_COLUMNS, DEPTH_COL
from lilyvae.data.tables import read_table
from lilyvae.errors import LilyVAEError
from lilyvae.files import write_atomic

#: Column names a table may use for a row's position (the first present is used).
LATITUDE_NAMES = ("latitude", "Latitude (DD)", "lat", "Latitude")
LONGITUDE_NAMES = ("longitude", "Longitude (DD)", "lon", "Longitude")
POSITION_COLUMNS = ("latitude", "longitude")


def borehole_table_path(table: str | os.PathLike) -> Path:
    """``<table stem>.boreholes.csv`` beside a table."""
    p = Path(table)
    return p.with_name(p.stem + ".boreholes.csv")


def read_borehole_table(path: str | os.PathLike) -> pd.DataFrame:
    """A borehole table with at least Borehole_ID, latitude and longitude."""
    try:
        df = pd.read_csv(path, dtype={BOREHOLE_COL: str})
    except (OSError, ValueError) as exc:
        raise LilyVAEError(f"{path}: not a readable borehole table ({exc})") from None
    missing = [c for c in (BOREHOLE_COL, *POSITION_COLUMNS) if c not in df.columns]
    if missing:
        raise LilyVAEError(f"{path}: missing column(s) {', '.join(map(repr, missing))}")
    return df


def position_columns(df: pd.DataFrame) -> tuple[str, str] | None:
    """The table's own (latitude, longitude) column names, or None."""
    lat = next((c for c in LATITUDE_NAMES if c in df.columns), None)
    lon = next((c for c in LONGITUDE_NAMES if c in df.columns), None)
    return (lat, lon) if lat and lon else None


def borehole_positions(
    df: pd.DataFrame, table_path: str | os.PathLike | None
) -> pd.DataFrame | None:
    """Borehole positions from the table's own lat/lon columns, else from
    ``<stem>.boreholes.csv`` beside it; None when neither exists."""
    columns = position_columns(df)
    if columns and BOREHOLE_COL in df.columns:
        lat, lon = columns
        g = df.groupby(BOREHOLE_COL, sort=True)
        out = pd.DataFrame({"latitude": g[lat].mean(), "longitude": g[lon].mean()})
        out["rows"] = g.size()
        return out.reset_index()
    if table_path is not None and borehole_table_path(table_path).is_file():
        return read_borehole_table(borehole_table_path(table_path))
    return None


def borehole_depths(table: str | os.PathLike | pd.DataFrame) -> pd.DataFrame:
    """Per borehole of a table (a file or its rows; index Borehole_ID, in the table's
    order): rows, min_depth_m and max_depth_m."""
    if isinstance(table, pd.DataFrame):
        df = table
    else:
        df = read_table(table, columns=[BOREHOLE_COL, DEPTH_COL])
    g = df.groupby(BOREHOLE_COL, sort=False)[DEPTH_COL]
    return pd.DataFrame({"rows": g.size(), "min_depth_m": g.min(), "max_depth_m": g.max()})


def borehole_table(table: str | os.PathLike | pd.DataFrame, positions: pd.DataFrame):
    """The rows of ``<stem>.boreholes.csv``: ``positions`` (Borehole_ID, latitude,
    longitude, water_depth_m) joined with each borehole's rows and depth range in the
    table (a file or its rows); boreholes absent from either side are left out."""
    pos = positions.set_index(BOREHOLE_COL)[["latitude", "longitude", "water_depth_m"]]
    out = pos.join(borehole_depths(table), how="inner").reset_index()
    return out.rename(columns={"index": BOREHOLE_COL})[list(BOREHOLE_TABLE_COLUMNS)]


def write_borehole_table(table: str | os.PathLike, positions: pd.DataFrame) -> Path:
    """Write ``<stem>.boreholes.csv`` beside ``table`` (see :func:`borehole_table`)."""
    out = borehole_table(table, positions)
    path = borehole_table_path(table)
    write_atomic(path, lambda tmp: out.to_csv(tmp, index=False))
    return path
