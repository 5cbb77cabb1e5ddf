"""Finding the four LILY files in a folder and checking their headers, before any work.

A missing folder or file, an empty or binary file, a header without a column the build
needs, or one that names it twice: each is a one-line error naming the file, raised
before DuckDB reads anything.
"""

from __future__ import annotations

import csv
from pathlib import Path

from lilyvae.data.lily.release import (
    DEPTH_COLUMN,
    ID_COLUMNS,
    LILY_FILES,
    MEASUREMENT_COLUMNS,
    PRINCIPAL_COLUMN,
)
from lilyvae.errors import LilyVAEError


def locate_inputs(lily_dir: Path) -> dict[str, Path]:
    """The path of each LILY table in ``lily_dir``, by table name (GRA, MS, NGR, RGB)."""
    if not lily_dir.exists():
        raise LilyVAEError(f"{lily_dir}: no such directory (the LILY release's folder)")
    if not lily_dir.is_dir():
        raise LilyVAEError(f"{lily_dir}: is not a directory (give the LILY release's folder)")
    paths = {t: lily_dir / name for t, name in LILY_FILES.items()}
    missing = [p.name for p in paths.values() if not p.exists()]
    if missing:
        raise LilyVAEError(f"{lily_dir}: missing LILY table(s) {', '.join(missing)}")
    for path in paths.values():
        if not path.is_file():
            raise LilyVAEError(f"{path}: is not a file")
    return paths


def read_header(path: Path, table: str) -> list[str]:
    """The file's column names; errors for an empty, unreadable or incomplete file."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            first = fh.readline(1 << 20)
    except OSError as exc:
        raise LilyVAEError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if size == 0:
        raise LilyVAEError(f"{path}: the file is empty")
    if not first.strip():
        raise LilyVAEError(f"{path}: the first line is blank; expected the column names")
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise LilyVAEError(f"{path}: cannot read the header (not UTF-8 text)") from None
    try:
        header = next(csv.reader([text]))
    except (csv.Error, StopIteration):
        raise LilyVAEError(f"{path}: cannot parse the header line as CSV") from None
    required = (*ID_COLUMNS, DEPTH_COLUMN, PRINCIPAL_COLUMN, *MEASUREMENT_COLUMNS[table])
    missing = [c for c in required if c not in header]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise LilyVAEError(f"{path}: missing required column(s) {names}")
    twice = [c for c in required if header.count(c) > 1]
    if twice:
        raise LilyVAEError(f"{path}: column {twice[0]!r} appears more than once")
    return header
