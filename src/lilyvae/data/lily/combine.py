"""Combining the four files' bins: the join, the range filters, and the fetched tables.

Only (borehole, bin) pairs present in all four files survive the inner join (with
``keep_partial``, pairs of GRA, MS and NGR without RGB stay too, their colour empty);
bins with bulk density or a colour out of range are then dropped. Both steps run on the per-bin
aggregates in DuckDB; :func:`fetch_tables` brings the result into pandas, sorted by
``Borehole_ID`` then ``Depth_Bin``, with one row per borehole for the borehole table.
:func:`reduce_files` runs the whole DuckDB part: the four scans, then these steps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.lily.progress import BuildLog
from lilyvae.data.lily.rules import GRA_RANGE, RGB_RANGE, depth_bin_value
from lilyvae.data.lily.scan import scan_file
from lilyvae.data.lily.sql import (
    COLOUR_COUNTS_SQL,
    GRA_IN_RANGE,
    NO_COLOUR_SQL,
    RGB_IN_RANGE,
    boreholes_sql,
    final_sql,
    join_sql,
)
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, GRA, LABEL_COL, MS, NGR
from lilyvae.errors import LilyVAEError


@dataclass
class Reduction:
    """What DuckDB made of the four files: the tables to write and the counts to record."""

    counts: dict[str, dict]  # per file, as table_counts gives them
    join: dict
    filters: dict
    table: pd.DataFrame
    boreholes: pd.DataFrame
    seconds_read: dict[str, float]  # per file
    seconds_join: float  # join, filters and the sorted fetch
    colour: dict  # bins and boreholes with and without colour (colour_counts)


def reduce_files(
    con,
    lily_dir: Path,
    inputs: dict[str, Path],
    headers: dict[str, list[str]],
    bin_size: float,
    log: BuildLog,
    keep_partial: bool = False,
) -> Reduction:
    """Scan the four files, join and filter their bins, fetch the tables; an error naming
    ``lily_dir`` when no row is left."""
    counts = {}
    for n, (t, path) in enumerate(inputs.items(), start=1):
        counts[t] = scan_file(con, t, path, headers[t], bin_size, log, n)
    seconds_read = {t: c.pop("seconds") for t, c in counts.items()}
    t0 = time.perf_counter()
    join, filters = join_and_filter(con, log, keep_partial)
    if filters["rows_final"] == 0:
        tables = "GRA, MS and NGR" if keep_partial else "all four tables"
        raise LilyVAEError(
            f"{lily_dir}: no rows left: no (Borehole_ID, bin) is present in {tables} "
            "with GRA and colours in range"
        )
    colour = colour_counts(con, keep_partial, log)
    table, boreholes = fetch_tables(con, bin_size)
    seconds = time.perf_counter() - t0
    return Reduction(counts, join, filters, table, boreholes, seconds_read, seconds, colour)


def colour_counts(con, keep_partial: bool, log: BuildLog) -> dict:
    """The manifest's ``colour``: bins and boreholes of the table with colour, and the
    bins of GRA x MS x NGR without (kept with ``keep_partial``, else left out)."""
    con.execute(NO_COLOUR_SQL).fetchall()
    bins, boreholes, no_bins, no_boreholes = con.execute(COLOUR_COUNTS_SQL).fetchone()
    out = {
        "bins_without_colour_kept": keep_partial,
        "bins_with_colour": int(bins),
        "boreholes_with_colour": int(boreholes),
        "bins_without_colour": int(no_bins),
        "boreholes_without_any_colour": int(no_boreholes),
        "what": "bins of GRA x MS x NGR (bulk density in range) that no RGB bin matches, "
        + ("kept with R, G, B empty (--keep-partial)" if keep_partial else "left out"),
    }
    log(
        f"colour: {int(bins):,} bins of {int(boreholes):,} boreholes have it; {int(no_bins):,} "
        f"bins of GRA x MS x NGR have none ({int(no_boreholes):,} boreholes none at all): "
        + ("kept, R, G, B empty" if keep_partial else "left out (--keep-partial keeps them)")
    )
    return out


def join_and_filter(con, log: BuildLog, keep_partial: bool = False) -> tuple[dict, dict]:
    """Build ``joined`` and ``final``; return the manifest's ``join`` and ``filters``."""

    def count(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])

    gra = count("SELECT count(*) FROM bins_GRA")
    after_ms = count("SELECT count(*) FROM bins_GRA JOIN bins_MS USING (bh, idx)")
    after_ngr = count(
        "SELECT count(*) FROM bins_GRA JOIN bins_MS USING (bh, idx) JOIN bins_NGR USING (bh, idx)"
    )
    con.execute(join_sql(keep_partial)).fetchall()
    after_rgb = count("SELECT count(*) FROM joined WHERE r IS NOT NULL")
    joined = count("SELECT count(*) FROM joined")
    join = {
        "bins_GRA": gra,
        "rows_after_join_MS": after_ms,
        "rows_after_join_NGR": after_ngr,
        "rows_after_join_RGB": after_rgb,
    }
    log(
        f"join on (Borehole_ID, bin): GRA {gra:,} -> x MS {after_ms:,} -> x NGR {after_ngr:,} "
        f"-> x RGB {after_rgb:,} rows"
    )
    if keep_partial:
        join["rows_without_RGB_kept"] = joined - after_rgb
    gra_out = count(f"SELECT count(*) FROM joined WHERE NOT ({GRA_IN_RANGE})")
    rgb_out = count(f"SELECT count(*) FROM joined WHERE ({GRA_IN_RANGE}) AND NOT ({RGB_IN_RANGE})")
    con.execute(final_sql(keep_partial)).fetchall()
    filters = {
        "gra_outliers_removed": gra_out,
        "rgb_outliers_removed": rgb_out,
        "rows_final": joined - gra_out - rgb_out,
    }
    log(
        f"filters: {gra_out:,} bins with GRA outside [{GRA_RANGE[0]}, {GRA_RANGE[1]}] removed, "
        f"{rgb_out:,} with R, G or B outside [{RGB_RANGE[0]:g}, {RGB_RANGE[1]:g}] removed"
    )
    return join, filters


def fetch_tables(con, bin_size: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The training table and the borehole table, from ``final``.

    The borehole table's ``attrs`` say whether positions were found
    (``has_positions``) and in how many boreholes they vary (``positions_vary``).
    """
    df = con.execute("SELECT * FROM final ORDER BY bh, idx").df()
    table = pd.DataFrame(
        {
            BOREHOLE_COL: df["bh"].astype(str),
            DEPTH_COL: depth_bin_value(df["idx"].to_numpy(np.int64), bin_size),
            GRA: df["gra"].astype(np.float64),
            LABEL_COL: df["principal"].astype(str),
            MS: df["ms"].astype(np.float64),
            NGR: df["ngr"].astype(np.float64),
            "R": df["r"].astype(np.float64),
            "G": df["g"].astype(np.float64),
            "B": df["b"].astype(np.float64),
        }
    )
    has_positions = bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'agg_GRA' AND column_name = 'p0_min'"
        ).fetchone()[0]
    )
    bh = con.execute(boreholes_sql(has_positions)).df()
    boreholes = pd.DataFrame(
        {
            BOREHOLE_COL: bh["bh"].astype(str),
            "latitude": bh["latitude"].astype(np.float64),
            "longitude": bh["longitude"].astype(np.float64),
            "water_depth_m": bh["water_depth_m"].astype(np.float64),
            "rows": bh["rows"].astype(np.int64),
            "min_depth_m": depth_bin_value(bh["lo"].to_numpy(np.int64), bin_size),
            "max_depth_m": depth_bin_value(bh["hi"].to_numpy(np.int64), bin_size),
        }
    )
    boreholes.attrs["positions_vary"] = int(bh["varies"].fillna(False).astype(bool).sum())
    boreholes.attrs["has_positions"] = has_positions
    return table, boreholes
