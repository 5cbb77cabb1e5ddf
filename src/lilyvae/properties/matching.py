"""Matching LILY property tables to the bins of the training table, and choosing targets.

The rule is the reference's, on the integer bin index of ``lilyvae build-dataset``:

1. ``Borehole_ID = Exp-Site-Hole`` (cells stripped); rows missing any of the three are
   dropped and counted;
2. bin index = round half to even of the table's own depth column / 0.2, in float64
   (:func:`lilyvae.data.lily.depth_bin_index`), the same index as the training table's
   ``Depth_Bin``; rows with a missing or non-numeric depth are dropped and counted;
3. inner join with the training table on (borehole, bin index): every sample of the
   table in a bin of the training table is a row, with that bin's embedding (samples
   of one bin -- replicates, demagnetisation steps -- share it); non-numeric cells are
   counted and dropped.

With ``bin_means`` (``--bin-means``), a bin's samples are averaged into one row instead:
under ``--protocol reference`` the copies of one bin otherwise sit on both sides of a
random split, a second leak beside that of neighbouring bins.

Targets are the numeric variables with at least ``min_rows`` matched rows. Metadata
columns (the LILY columns every table shares), columns whose name holds "depth" or
"offset", columns without a single numeric value, and variables that are constant over
their matched bins are skipped, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.lily import ID_COLUMNS, METADATA_COLUMNS, depth_bin_index
from lilyvae.data.lily.property_tables import (
    DEPTH_CANDIDATES,
    PROPERTY_TABLES,
    property_file,
    reference_variables,
)
from lilyvae.data.lily.release import NA_TOKENS
from lilyvae.errors import LilyVAEError, first_line

#: The training table's own depth, scored as one more target (as the reference did).
DEPTH_TARGET = ("TABLE", "Depth (m)")
#: Why a column is not a target.
SKIP_REASONS = {
    "metadata": "a LILY metadata column",
    "depth_or_offset": "a depth or offset column",
    "not_numeric": "no numeric value",
    "too_few_rows": "fewer matched rows than --min-rows",
    "constant": "one value over all its matched bins",
}
#: Why rows of a table are dropped before matching.
DROP_REASONS = ("missing_borehole_id", "missing_or_bad_depth")


def table_depth_column(table: str, columns) -> str | None:
    """The table's own depth column (the reference's), else the first candidate present."""
    known = reference_variables()
    own = known.loc[known["table"] == table, "depth_column"]
    choices = (own.iat[0],) if len(own) else DEPTH_CANDIDATES
    return next((c for c in choices if c in columns), None)


#: Where the property tables come from, for the error that finds none.
WHERE_TABLES_COME_FROM = (
    "`lilyvae synth-lily --output-dir DIR` writes SYNTHETIC ones into DIR; the real ones are "
    "the LILY release's (Zenodo record 8408296) "
    + ", ".join(property_file(t) for t in PROPERTY_TABLES)
)


def find_tables(lily_dir, tables=None) -> dict[str, Path]:
    """``{table: path}`` of the property tables to score; one-line errors when none."""
    lily_dir = Path(lily_dir)
    if not lily_dir.exists():
        raise LilyVAEError(f"{lily_dir}: no such directory (--lily-dir: the LILY tables' folder)")
    if not lily_dir.is_dir():
        raise LilyVAEError(f"{lily_dir}: is not a directory (--lily-dir)")
    if tables is None:
        found = {t: lily_dir / property_file(t) for t in PROPERTY_TABLES}
        found = {t: p for t, p in found.items() if p.is_file()}
        if not found:
            raise LilyVAEError(
                f"{lily_dir}: holds no LILY property table; {WHERE_TABLES_COME_FROM}"
            )
        return found
    out = {}
    for table in tables:
        path = lily_dir / property_file(table)
        if not path.is_file():
            raise LilyVAEError(
                f"{path}: no such property table (named by --tables); "
                "`lilyvae synth-lily` writes SYNTHETIC ones"
            )
        out[table] = path
    if not out:
        raise LilyVAEError("--tables names no table")
    return out


def read_property_table(path: Path) -> pd.DataFrame:
    """Every cell as text (LILY's NA tokens as missing), so junk can be counted."""
    try:
        return pd.read_csv(
            path, dtype=str, keep_default_na=False, na_values=list(NA_TOKENS), low_memory=False
        )
    except pd.errors.EmptyDataError:
        raise LilyVAEError(f"{path}: the file is empty") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        first = first_line(exc)
        raise LilyVAEError(f"{path}: cannot read the table ({first})") from None


class TrainingBins:
    """The (borehole, bin index) of every usable row of the training table."""

    def __init__(self, boreholes: np.ndarray, depth_bins: np.ndarray, source: str, bin_size=0.2):
        self.names, codes = np.unique(np.asarray(boreholes, dtype=str), return_inverse=True)
        self.code_of = {name: i for i, name in enumerate(self.names)}
        self.bins = depth_bin_index(depth_bins, bin_size)
        self.bin_size = bin_size
        self.index = pd.MultiIndex.from_arrays([codes, self.bins])
        if not self.index.is_unique:
            n = int(self.index.duplicated().sum())
            raise LilyVAEError(f"{source}: {n} rows repeat a (Borehole_ID, Depth_Bin) of another")
        self.codes = codes

    def locate(self, borehole_ids: pd.Series, bins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Training-table row of each (borehole, bin), -1 where none; and whether the
        borehole is in the table at all."""
        codes = borehole_ids.map(self.code_of).to_numpy(dtype=np.float64)
        known = np.isfinite(codes)
        rows = np.full(bins.size, -1, dtype=np.int64)
        if known.any():
            probe = pd.MultiIndex.from_arrays([codes[known].astype(np.int64), bins[known]])
            rows[known] = self.index.get_indexer(probe)
        return rows, known


@dataclass
class MatchedTable:
    """One property table matched to the training table.

    ``rows``: the training-table row of each matched sample (of each matched bin with
    ``bin_means``); ``targets``: per target variable, its values on those rows (NaN where
    missing); ``counts``: rows read and dropped, bins, matched rows and bins, boreholes;
    ``variables``: per candidate column, numeric and non-numeric cells, matched rows and
    bins; ``skipped``: column -> reason key (:data:`SKIP_REASONS`).
    """

    table: str
    path: Path
    depth_column: str
    rows: np.ndarray
    targets: dict[str, np.ndarray]
    counts: dict
    variables: dict[str, dict] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def _classify_columns(columns, depth_column: str) -> tuple[list[str], dict[str, str]]:
    candidates, skipped = [], {}
    for col in columns:
        lower = str(col).lower()
        if col == depth_column or "depth" in lower or "offset" in lower:
            skipped[col] = "depth_or_offset"
        elif col in METADATA_COLUMNS:
            skipped[col] = "metadata"
        else:
            candidates.append(col)
    return candidates, skipped


def _numeric(text: pd.Series) -> tuple[np.ndarray, int]:
    """Finite numbers of a text column (NaN elsewhere) and how many cells were junk."""
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, copy=True)
    bad = ~np.isfinite(values)
    junk = int((text.notna().to_numpy() & bad).sum())
    values[bad] = np.nan
    return values, junk


def _keys(df: pd.DataFrame, depth_column: str, bin_size: float, counts: dict):
    """Borehole IDs and bin indices of the usable rows, and which rows they are."""
    ids = [df[c].str.strip() for c in ID_COLUMNS]
    has_id = np.logical_and.reduce([(s.notna() & (s != "")).to_numpy() for s in ids])
    depth, _ = _numeric(df[depth_column])
    has_depth = np.isfinite(depth) & (np.abs(depth) < 1e9)
    counts["dropped"] = {
        "missing_borehole_id": int((~has_id).sum()),
        "missing_or_bad_depth": int((has_id & ~has_depth).sum()),
    }
    keep = has_id & has_depth
    borehole = ids[0][keep] + "-" + ids[1][keep] + "-" + ids[2][keep]
    return borehole.reset_index(drop=True), depth_bin_index(depth[keep], bin_size), keep


def _table_counts(borehole: pd.Series, bins: np.ndarray, row_of, known, counts: dict) -> None:
    outside = row_of < 0
    counts["bins"] = int(pd.MultiIndex.from_arrays([borehole, bins]).nunique())
    counts["boreholes"] = int(borehole.nunique())
    counts["boreholes_not_in_table"] = int(borehole[~known].nunique())
    counts["rows_matched"] = int((~outside).sum())
    counts["bins_matched"] = int(np.unique(row_of[~outside]).size)
    counts["bins_not_in_table"] = int(
        pd.MultiIndex.from_arrays([borehole[outside], bins[outside]]).nunique()
    )


def match_table(
    table: str,
    path: Path,
    df: pd.DataFrame,
    training: TrainingBins,
    min_rows: int,
    bin_means: bool = False,
) -> MatchedTable:
    """Match one table read by :func:`read_property_table` (see the module's rule).

    Every matched sample is a row (the reference's inner join: samples of one bin share
    its embedding); with ``bin_means`` each bin is one row holding its samples' mean.
    """
    depth_column = table_depth_column(table, df.columns)
    missing = [c for c in ID_COLUMNS if c not in df.columns]
    if depth_column is None or missing:
        names = [repr(c) for c in missing]
        names += [] if depth_column else [f"a depth column ({DEPTH_CANDIDATES[0]!r})"]
        raise LilyVAEError(f"{path}: lacks {', '.join(names)}; table skipped")
    counts: dict = {"rows_read": len(df)}
    borehole, bins, keep = _keys(df, depth_column, training.bin_size, counts)
    row_of, known = training.locate(borehole, bins)
    _table_counts(borehole, bins, row_of, known, counts)
    matched = np.flatnonzero(row_of >= 0)
    matched = matched[np.argsort(row_of[matched], kind="stable")]  # in the table's order
    rows, inverse = np.unique(row_of[matched], return_inverse=True)
    candidates, skipped = _classify_columns(df.columns, depth_column)
    out = MatchedTable(
        table, path, depth_column, rows if bin_means else row_of[matched], {}, counts, {}, skipped
    )
    for col in candidates:
        every, junk = _numeric(df[col])
        values = every[keep][matched]
        have = np.isfinite(values)
        n = np.bincount(inverse[have], minlength=rows.size)
        if bin_means:
            total = np.bincount(inverse[have], weights=values[have], minlength=rows.size)
            values = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        numeric = int(np.isfinite(every).sum())
        n_rows = int(np.isfinite(values).sum())
        out.variables[col] = {
            "numeric_cells": numeric,
            "non_numeric_cells": junk,
            "matched_rows": int(have.sum()),
            "matched_bins": int((n > 0).sum()),
        }
        if numeric == 0:
            skipped[col] = "not_numeric"
        elif n_rows < min_rows:
            skipped[col] = "too_few_rows"
        elif np.nanmin(values) == np.nanmax(values):
            skipped[col] = "constant"
        else:
            out.targets[col] = values
    return out
