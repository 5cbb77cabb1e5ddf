"""Checks of a table's file and rows, so that bad rows are errors, not silent drops.

The readers (:func:`lilyvae.data.tables.read_table`) parse with pandas' C parser, which
fills a short row with NaN, renames a second ``R`` column ``R.1`` and keeps text in a
measurement column as text. The checks here say what was wrong, per cause, with a count
and the first place, before any of it is mistaken for a missing measurement:

- the file's layout (CSV only, :func:`scan_csv`): a row with more or fewer fields than
  the header (a ragged row), a last line cut off mid-line, a column name given twice;
- the rows (:func:`check_rows`): text in a measurement column, an empty ``Borehole_ID``,
  and a (``Borehole_ID``, ``Depth_Bin``) key given twice.

Places are file line numbers (the header is line 1) for CSV, and data row numbers (the
first row is row 1) for Parquet. The scan is a few numpy passes over the file's bytes
(quoted fields are respected), so reading stays fast; no Python loop runs per row.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS
from lilyvae.errors import LilyVAEError

_COMMA, _QUOTE, _NEWLINE, _RETURN = 44, 34, 10, 13


@dataclass(frozen=True)
class CsvLayout:
    """The records of a CSV file: header fields, and per data record its file line
    number and field count."""

    header: list[str]
    lines: np.ndarray  # (n,) int64: the file line each data record starts on
    fields: np.ndarray  # (n,) int64: fields in each data record
    ends_with_newline: bool


def scan_csv(path: str | os.PathLike) -> CsvLayout | None:
    """The record layout of a CSV file (None for an empty file). Blank lines are
    skipped, as pandas skips them; a newline or comma inside quotes does not count."""
    data = Path(path).read_bytes()
    if not data:
        return None
    layout = _regular_layout(data)
    if layout is not None:
        return layout
    buf = np.frombuffer(data, dtype=np.uint8)
    quote = buf == _QUOTE
    if quote.any():
        # Inside a quoted field the running count of quote characters is odd.
        outside = np.bitwise_xor.accumulate(quote.view(np.uint8)) == 0
        newline = np.flatnonzero((buf == _NEWLINE) & outside)
        commas = np.flatnonzero((buf == _COMMA) & outside)
    else:
        newline = np.flatnonzero(buf == _NEWLINE)
        commas = np.flatnonzero(buf == _COMMA)
    ends_with_newline = bool(buf[-1] == _NEWLINE)
    starts = np.concatenate(([0], newline + 1))
    ends = np.concatenate((newline, [buf.size]))
    if ends_with_newline:
        starts, ends = starts[:-1], ends[:-1]
    length = ends - starts
    last = np.clip(ends - 1, 0, None)
    blank = (length == 0) | ((length == 1) & (buf[last] == _RETURN))
    starts, ends = starts[~blank], ends[~blank]
    if starts.size == 0:
        return None
    fields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    # Physical line numbers count every newline, quoted ones too, as an editor does.
    lines = np.searchsorted(np.flatnonzero(buf == _NEWLINE), starts) + 1
    head = bytes(buf[starts[0] : ends[0]]).decode("utf-8", errors="replace").rstrip("\r")
    header = next(csv.reader([head]), [])
    return CsvLayout(header, lines[1:], fields[1:], ends_with_newline)


def _regular_layout(data: bytes) -> CsvLayout | None:
    """The layout of the usual file, found by counting bytes (C speed, no array): no
    quotes, no blank lines, a line end at the end, and as many commas as rows with the
    header's field count hold. Then no row is short: a short row would need a long one
    to make the count up, and a long row is refused by the parser. None otherwise."""
    if b'"' in data or b"\n\n" in data or b"\n\r\n" in data or not data.endswith(b"\n"):
        return None
    if data.startswith((b"\n", b"\r\n")):
        return None
    first = data[: data.index(b"\n")].decode("utf-8", errors="replace").rstrip("\r")
    header = first.split(",")
    n_records = data.count(b"\n") - 1
    if data.count(b",") != (n_records + 1) * (len(header) - 1):
        return None
    lines = np.arange(2, n_records + 2, dtype=np.int64)
    fields = np.full(n_records, len(header), dtype=np.int64)
    return CsvLayout(header, lines, fields, True)


def check_csv_layout(layout: CsvLayout, path) -> None:
    """Refuse ragged rows, a cut-off last line and a column name given twice."""
    check_column_names(layout.header, path)
    expected = len(layout.header)
    ragged = layout.fields != expected
    cut_off = not layout.ends_with_newline and bool(ragged[-1:].any())
    if cut_off:
        ragged = ragged.copy()
        ragged[-1] = False
    if ragged.any():
        first = int(np.flatnonzero(ragged)[0])
        raise LilyVAEError(
            f"{path}: {int(ragged.sum()):,} ragged row(s) whose field count differs from the "
            f"header's {expected} (first: line {layout.lines[first]}, "
            f"{layout.fields[first]} fields)"
        )
    if cut_off:
        raise LilyVAEError(
            f"{path}: cut off mid-line: its last line ({layout.lines[-1]}) has "
            f"{layout.fields[-1]} of {expected} fields and no line end (an interrupted "
            "copy or download?)"
        )


def check_column_names(names, path) -> None:
    """Refuse a column name given twice (pandas would rename the second ``R.1``)."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise LilyVAEError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)


def place_names(n_rows: int, lines: np.ndarray | None) -> np.ndarray:
    """Per row, how a message names its place: ``line N`` of a CSV (when the scan's
    records match the rows read), else ``row N``."""
    if lines is not None and len(lines) == n_rows:
        return np.char.add("line ", lines.astype(str))
    return np.char.add("row ", np.arange(1, n_rows + 1).astype(str))


def _first_place(mask: np.ndarray, lines: np.ndarray | None) -> str:
    first = int(np.flatnonzero(mask)[0])
    return str(place_names(len(mask), lines)[first])


def text_cells(df: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """(n, k) bool of cells in the measurement columns present that hold text that is
    not a number (an empty or blank cell is missing, not text), and those columns."""
    columns = [c for c in FEATURE_COLS if c in df.columns]
    bad = np.zeros((len(df), len(columns)), dtype=bool)
    for j, col in enumerate(columns):
        values = df[col]
        if pd.api.types.is_numeric_dtype(values):
            continue
        text = values.astype("string").str.strip()
        numbers = pd.to_numeric(text.mask(text == ""), errors="coerce")
        bad[:, j] = (numbers.isna() & text.notna() & (text != "")).to_numpy(bool)
    return bad, columns


def check_rows(df: pd.DataFrame, path, lines: np.ndarray | None = None) -> None:
    """Refuse text in a measurement column, an empty Borehole_ID and a repeated
    (Borehole_ID, Depth_Bin) key, each with a count and the first place."""
    bad, columns = text_cells(df)
    if bad.any():
        rows = bad.any(axis=1)
        first = int(np.flatnonzero(rows)[0])
        col = columns[int(np.flatnonzero(bad[first])[0])]
        raise LilyVAEError(
            f"{path}: {int(bad.sum()):,} cell(s) of measurement columns hold text, not a "
            f"number (first: {_first_place(rows, lines)}, {col!r} = {df[col].iloc[first]!r})"
        )
    if BOREHOLE_COL in df.columns:
        ids = df[BOREHOLE_COL].astype("string").str.strip()
        empty = (ids.isna() | (ids == "")).to_numpy(bool)
        if empty.any():
            raise LilyVAEError(
                f"{path}: {int(empty.sum()):,} row(s) with an empty {BOREHOLE_COL} (first: "
                f"{_first_place(empty, lines)}); every row needs the borehole it comes from"
            )
        if DEPTH_COL in df.columns:
            _check_unique_keys(df, path, lines)


def _check_unique_keys(df: pd.DataFrame, path, lines) -> None:
    keys = [BOREHOLE_COL, DEPTH_COL]
    repeated = df.duplicated(keys, keep="first").to_numpy(bool)
    if not repeated.any():
        return
    first = int(np.flatnonzero(repeated)[0])
    key = (df[BOREHOLE_COL].iloc[first], df[DEPTH_COL].iloc[first])
    earlier = (df[BOREHOLE_COL] == key[0]) & (df[DEPTH_COL] == key[1])
    places = place_names(len(df), lines)
    raise LilyVAEError(
        f"{path}: {int(repeated.sum()):,} row(s) repeat a ({BOREHOLE_COL}, {DEPTH_COL}) key "
        f"(first: {places[first]} repeats {places[int(np.flatnonzero(earlier)[0])]}, "
        f"{key[0]!r} at {key[1]})"
    )
