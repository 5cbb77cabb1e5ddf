"""Build the 20 cm training table from the raw LILY files, out of core.

The LILY release (IODP "LIMS with Lithology", Zenodo record 8408296) holds one CSV per
measurement, one row per instrument reading. :func:`build_dataset` reads the four the
training table needs (``GRA_DataLITH.csv``, ``MS_DataLITH.csv``, ``NGR_DataLITH.csv``,
``RGB_DataLITH.csv``) and writes the table with the reference's rules:

1. per file: ``Borehole_ID = Exp-Site-Hole``; rows missing the ID, the depth,
   ``Principal`` or a measurement are dropped (a measurement that is not a finite number
   counts as missing, and is counted);
2. depth bin index = round half to even of ``Depth CSF-A (m) / bin_size``, the quotient
   computed in float64 exactly as the reference's pandas code did;
3. per (Borehole_ID, bin): the mean of each measurement and, in the GRA file, the most
   frequent ``Principal`` (ties: the alphabetically first, by code point);
4. inner join GRA x MS x NGR x RGB on (Borehole_ID, bin), ``Principal`` from GRA;
5. drop bins whose GRA mean is outside [0.3, 4.0] g/cm3, then bins with an R, G or B
   mean outside [0, 255].

The output has the nine columns of :data:`lilyvae.data.schema.TABLE_COLUMNS`, sorted by
``Borehole_ID`` then ``Depth_Bin``. ``Depth_Bin`` is written as a clean decimal
(``round(index * bin_size, decimals of bin_size)``: 188.4, not the reference's
188.40000000000003), so joins on it are safe.

How it stays out of core
------------------------
Each file is read once by DuckDB's CSV reader (all columns declared as text: no type
sniffing, junk cannot abort the read) and reduced on the fly to one row per
(borehole, bin) (GRA: per (borehole, bin, lithology) as well, for the vote), holding
counts and compensated sums (``fsum``). Only these per-bin aggregates, about a tenth of
a file's rows, are ever held; DuckDB's memory is capped (``memory_limit``) and spills to
a temporary folder if needed. The joins, filters and the final sort run on the
aggregates. Input checksums are computed in a background thread while DuckDB reads.

Round half to even is written out in SQL (:data:`_SQL_MACROS`) because DuckDB's
``round()`` rounds half away from zero.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.schema import GRA, MS, NGR, TABLE_COLUMNS
from lilyvae.data.tables import table_format, write_table
from lilyvae.errors import LilyVAEError
from lilyvae.files import atomic_path, check_output_path, sha256_file, to_json

# -- the LILY files -------------------------------------------------------------------
LILY_TABLES: tuple[str, ...] = ("GRA", "MS", "NGR", "RGB")
LILY_FILES = {t: f"{t}_DataLITH.csv" for t in LILY_TABLES}
MEASUREMENT_COLUMNS: dict[str, tuple[str, ...]] = {
    "GRA": (GRA,),
    "MS": (MS,),
    "NGR": (NGR,),
    "RGB": ("R", "G", "B"),
}
DEPTH_COLUMN = "Depth CSF-A (m)"
LATITUDE_COLUMN = "Latitude (DD)"
LONGITUDE_COLUMN = "Longitude (DD)"
WATER_DEPTH_COLUMN = "Water Depth (mbsl)"
ID_COLUMNS = ("Exp", "Site", "Hole")
PRINCIPAL_COLUMN = "Principal"
#: The metadata columns shared by every LILY file, in the release's order.
METADATA_COLUMNS: tuple[str, ...] = (
    "Exp",
    "Site",
    "Hole",
    "Core",
    "Type",
    "Sect",
    "A/W",
    "Offset (cm)",
    DEPTH_COLUMN,
    "Depth CSF-B (m)",
    "Timestamp (UTC)",
    "Instrument",
    "Text ID",
    "Test No.",
    "Comments",
    "Prefix",
    PRINCIPAL_COLUMN,
    "Suffix",
    "Full Lithology",
    "Simplified Lithology",
    "Lithology Type",
    LATITUDE_COLUMN,
    LONGITUDE_COLUMN,
    WATER_DEPTH_COLUMN,
    "Expanded Core Type",
)
POSITION_COLUMNS = (LATITUDE_COLUMN, LONGITUDE_COLUMN, WATER_DEPTH_COLUMN)

GRA_RANGE = (0.3, 4.0)
RGB_RANGE = (0.0, 255.0)
DEFAULT_BIN_SIZE = 0.2
DEFAULT_MEMORY_LIMIT = "1GB"

#: Cells read as missing: pandas' default NA strings (the reference read the files with
#: pandas), matched exactly, quoted or not.
NA_TOKENS: tuple[str, ...] = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)

#: Why a row is dropped, in the order the reasons are checked (a row counts once).
DROP_REASONS = (
    "missing_borehole_id",
    "missing_or_bad_depth",
    "missing_principal",
    "missing_or_bad_measurement",
)

#: What the reference logged when it built the real table (reference/README.md).
REFERENCE_COUNTS = {
    "what": "the reference's own log of its build from the real LILY release, for comparison",
    "rows_read": {"GRA": 4_134_647, "MS": 4_081_560, "NGR": 822_161, "RGB": 10_789_797},
    "bins": {"GRA": 423_244, "MS": 422_925, "NGR": 405_474, "RGB": 253_916},
    "boreholes": {"GRA": 534, "MS": 534, "NGR": 524, "RGB": 304},
    "rows_after_join": {"MS": 422_834, "NGR": 403_391, "RGB": 238_767},
    "gra_outliers_removed": 261,
    "rows": 238_506,
    "boreholes_final": 296,
    "lithologies": 139,
    "wall_time_s": 404,
}


#: Round half to even in SQL (DuckDB's ``round()`` rounds half away from zero). For a
#: finite double q, ``q - floor(q)`` is exact, so the comparison with 0.5 is exact.
_SQL_MACROS = (
    "CREATE OR REPLACE TEMP MACRO lv_half_even(q) AS "
    "CAST(floor(q) AS BIGINT) + CASE "
    "WHEN q - floor(q) > 0.5 THEN 1 "
    "WHEN q - floor(q) < 0.5 THEN 0 "
    "WHEN CAST(floor(q) AS BIGINT) % 2 = 0 THEN 0 ELSE 1 END",
)


# -- small helpers --------------------------------------------------------------------
def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"


def check_bin_size(bin_size) -> float:
    """``bin_size`` as a float, or a clear error if it is not a positive finite number."""
    if isinstance(bin_size, bool) or not isinstance(bin_size, (int, float, np.number)):
        raise LilyVAEError(f"--bin-size must be a number, not {bin_size!r}")
    value = float(bin_size)
    if not math.isfinite(value) or value <= 0:
        raise LilyVAEError(f"--bin-size must be a positive number of metres, not {bin_size}")
    return value


def depth_decimals(bin_size: float) -> int:
    """Decimals of ``bin_size`` as written (0.2 -> 1, 0.25 -> 2, 1.0 -> 0; at most 12)."""
    exponent = Decimal(repr(float(bin_size))).normalize().as_tuple().exponent
    return min(max(0, -int(exponent)), 12)


def depth_bin_index(depth, bin_size: float = DEFAULT_BIN_SIZE) -> np.ndarray:
    """The reference's bin index in NumPy: round half to even of float64 depth / bin."""
    return np.rint(np.asarray(depth, dtype=np.float64) / float(bin_size)).astype(np.int64)


def depth_bin_value(index, bin_size: float = DEFAULT_BIN_SIZE) -> np.ndarray:
    """``Depth_Bin`` as written: index * bin_size rounded to the decimals of bin_size."""
    return np.round(np.asarray(index, dtype=np.int64) * float(bin_size), depth_decimals(bin_size))


def sidecar_paths(output: str | os.PathLike) -> tuple[Path, Path]:
    """``(<stem>.boreholes.csv, <stem>.manifest.json)`` beside the output table."""
    out = Path(output)
    return out.with_name(out.stem + ".boreholes.csv"), out.with_name(out.stem + ".manifest.json")


# -- progress -------------------------------------------------------------------------
class _Log:
    """Log lines to stderr (or a callback); a progress bar while a file is read."""

    def __init__(self, progress):
        if progress is True:
            self.emit = lambda msg: print(msg, file=sys.stderr, flush=True)
            self.bar = sys.stderr.isatty()
            self.periodic = not self.bar
        elif callable(progress):
            self.emit, self.bar, self.periodic = progress, False, False
        else:
            self.emit, self.bar, self.periodic = None, False, False

    def __call__(self, msg: str) -> None:
        if self.emit is not None:
            self.emit(msg)

    @property
    def watch(self) -> bool:
        return self.bar or self.periodic


def _execute(con, sql: str, log: _Log | None = None, label: str = "") -> None:
    """Run one statement; with a log that wants it, show DuckDB's progress meanwhile."""
    if log is None or not log.watch:
        con.execute(sql).fetchall()
        return
    outcome: dict[str, BaseException] = {}

    def work() -> None:
        try:
            con.execute(sql).fetchall()
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="lilyvae-duckdb", daemon=True)
    bar = None
    if log.bar:
        from tqdm import tqdm

        bar = tqdm(total=100, desc=label, unit="%", leave=False, file=sys.stderr)
    worker.start()
    last_line = time.monotonic()
    try:
        while worker.is_alive():
            worker.join(0.25)
            done = con.query_progress()
            if done < 0:
                continue
            if bar is not None:
                bar.n = int(done)
                bar.refresh()
            elif time.monotonic() - last_line > 10.0:
                log(f"      {label}: {done:.0f}% read")
                last_line = time.monotonic()
    except KeyboardInterrupt:
        con.interrupt()
        worker.join()
        raise
    finally:
        if bar is not None:
            bar.close()
    if "error" in outcome:
        raise outcome["error"]


# -- checking the inputs --------------------------------------------------------------
def _locate(lily_dir: Path) -> dict[str, Path]:
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


def _read_header(path: Path, table: str) -> list[str]:
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


def _csv_columns(header: list[str]) -> str:
    """DuckDB ``columns=`` struct: every column as text, odd names made unique."""
    seen: set[str] = set()
    names = []
    for i, name in enumerate(header):
        if not name or name in seen:
            name = f"lilyvae_column_{i}"
        seen.add(name)
        names.append(name)
    return "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in names) + "}"


class _Checksums:
    """sha256 of the inputs, in a background thread (hashlib releases the GIL).

    :meth:`cancel` stops it early (a failed build does not go on reading gigabytes).
    """

    def __init__(self, paths: dict[str, Path]):
        self.paths = paths
        self.result: dict[str, str] = {}
        self.error: BaseException | None = None
        self.seconds = 0.0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lilyvae-sha256", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        buffer = bytearray(8 << 20)
        view = memoryview(buffer)
        try:
            for table, path in self.paths.items():
                digest = hashlib.sha256()
                with open(path, "rb", buffering=0) as fh:
                    while not self._stop.is_set():
                        n = fh.readinto(buffer)
                        if not n:
                            break
                        digest.update(view[:n])
                if self._stop.is_set():
                    return
                self.result[table] = digest.hexdigest()
        except BaseException as exc:
            self.error = exc
        finally:
            self.seconds = time.perf_counter() - t0

    def cancel(self) -> None:
        self._stop.set()
        self.thread.join()

    def wait(self) -> dict[str, str]:
        self.thread.join()
        if self.error is not None:
            raise LilyVAEError(f"cannot checksum the inputs ({_first_line(self.error)})")
        return self.result


# -- one file -------------------------------------------------------------------------
def _scan_sql(table: str, path: Path, header: list[str], bin_size: float) -> str:
    """Reduce one file to per-bin aggregates (table ``agg_<table>``).

    One row per (reason, borehole, bin) -- for GRA also per lithology (a second
    grouping set, for the vote) -- with the row count, compensated sums (``fsum``) of
    the measurements and counts of non-numeric cells. ``reason`` is 0 for a usable row,
    else the first of DROP_REASONS that applies (dropped rows are only counted).
    """
    meas = MEASUREMENT_COLUMNS[table]
    k = range(len(meas))
    positions = table == "GRA" and all(c in header for c in POSITION_COLUMNS)
    pos = range(len(POSITION_COLUMNS)) if positions else range(0)
    src = [
        f"{_ident('Exp')} AS exp",
        f"{_ident('Site')} AS site",
        f"{_ident('Hole')} AS hole",
        f"{_ident(PRINCIPAL_COLUMN)} AS principal",
        f"{_ident(DEPTH_COLUMN)} AS depth_txt",
    ]
    src += [f"{_ident(m)} AS v{i}_txt" for i, m in zip(k, meas, strict=True)]
    src += [f"{_ident(POSITION_COLUMNS[i])} AS p{i}_txt" for i in pos]
    # The quotient in float64, exactly as the reference computed it.
    casts = [f"TRY_CAST(depth_txt AS DOUBLE) / CAST({float(bin_size)!r} AS DOUBLE) AS q"]
    casts += [f"TRY_CAST(v{i}_txt AS DOUBLE) AS c{i}" for i in k]
    casts += [f"TRY_CAST(p{i}_txt AS DOUBLE) AS pc{i}" for i in pos]
    # Usable numbers: finite (DuckDB orders NaN above every number, so NaN fails too);
    # the quotient also small enough for exact integers.
    num = ["CASE WHEN abs(q) < 4.0e15 THEN q END AS qq"]
    num += [f"CASE WHEN isfinite(c{i}) THEN c{i} END AS v{i}" for i in k]
    num += [f"CASE WHEN isfinite(pc{i}) THEN pc{i} END AS p{i}" for i in pos]
    missing_value = " OR ".join(f"v{i} IS NULL" for i in k)
    reader = (
        f"read_csv({_literal(str(path))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', columns = {_csv_columns(header)}, "
        f"nullstr = [{', '.join(_literal(t) for t in NA_TOKENS)}])"
    )
    # The text columns are referenced again in the aggregates (non-numeric counts); this
    # also keeps DuckDB from pushing TRY_CAST into the CSV reader, where a junk cell
    # would abort the read.
    aggs = ["count(*) AS n"]
    aggs += [f"fsum(v{i}) AS s{i}" for i in k]
    aggs += ["count(depth_txt) - count(qq) AS bad_depth"]
    aggs += [f"count(v{i}_txt) - count(v{i}) AS bad_v{i}" for i in k]
    for i in pos:
        aggs += [f"min(p{i}) AS p{i}_min", f"max(p{i}) AS p{i}_max"]
    if table == "GRA":
        lith = "CASE WHEN reason = 0 THEN principal END"
        keys = "reason, bh, idx, lith, GROUPING(lith) = 0 AS by_lith"
        group = "GROUPING SETS ((reason, bh, idx), (reason, bh, idx, lith))"
    else:
        lith = "NULL::VARCHAR"
        keys = "reason, bh, idx, NULL::VARCHAR AS lith, false AS by_lith"
        group = "reason, bh, idx"
    return f"""
CREATE OR REPLACE TEMP TABLE agg_{table} AS
WITH src AS (SELECT {", ".join(src)} FROM {reader}),
casts AS (SELECT *, {", ".join(casts)} FROM src),
num AS (SELECT *, {", ".join(num)} FROM casts),
keyed AS (
  SELECT *,
    CASE WHEN exp IS NULL OR site IS NULL OR hole IS NULL THEN 1
         WHEN qq IS NULL THEN 2
         WHEN principal IS NULL THEN 3
         WHEN {missing_value} THEN 4
         ELSE 0 END AS reason
  FROM num),
grouped AS (
  SELECT *,
    CASE WHEN reason = 0 THEN exp || '-' || site || '-' || hole END AS bh,
    CASE WHEN reason = 0 THEN lv_half_even(qq) END AS idx,
    {lith} AS lith
  FROM keyed)
SELECT {keys}, {", ".join(aggs)}
FROM grouped
GROUP BY {group}
"""


def _table_counts(con, table: str, path: Path) -> dict:
    """Counts of one file from its aggregates; error if it has no usable rows."""
    meas = MEASUREMENT_COLUMNS[table]
    bad = ", ".join(f"sum(bad_v{i})" for i in range(len(meas)))
    row = con.execute(
        f"SELECT reason, sum(n), sum(bad_depth), {bad} FROM agg_{table} "
        "WHERE NOT by_lith GROUP BY reason ORDER BY reason"
    ).fetchall()
    by_reason = {int(r[0]): int(r[1]) for r in row}
    bad_depth = sum(int(r[2]) for r in row)
    bad_values = [sum(int(r[3 + i]) for r in row) for i in range(len(meas))]
    bins, boreholes = con.execute(
        f"SELECT count(*), count(DISTINCT bh) FROM agg_{table} WHERE reason = 0 AND NOT by_lith"
    ).fetchone()
    rows_read = sum(by_reason.values())
    dropped = {name: by_reason.get(k + 1, 0) for k, name in enumerate(DROP_REASONS)}
    counts = {
        "rows_read": rows_read,
        "rows_dropped": sum(dropped.values()),
        "rows_dropped_by_reason": dropped,
        "rows_used": by_reason.get(0, 0),
        "non_numeric_values": {
            DEPTH_COLUMN: bad_depth,
            **{m: bad_values[i] for i, m in enumerate(meas)},
        },
        "bins": int(bins),
        "boreholes": int(boreholes),
    }
    if counts["rows_used"] == 0:
        why = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in dropped.items() if v)
        raise LilyVAEError(
            f"{path}: no usable rows ({rows_read:,} read" + (f"; dropped: {why})" if why else ")")
        )
    return counts


def _bins_sql(table: str) -> str:
    meas = MEASUREMENT_COLUMNS[table]
    means = ", ".join(f"s{i} / n AS v{i}" for i in range(len(meas)))
    return (
        f"CREATE OR REPLACE TEMP TABLE bins_{table} AS SELECT bh, idx, n, {means} "
        f"FROM agg_{table} WHERE reason = 0 AND NOT by_lith"
    )


_VOTE_SQL = """
CREATE OR REPLACE TEMP TABLE vote_GRA AS
SELECT bh, idx,
       min(lith) FILTER (WHERE n = top) AS principal,
       count(*) FILTER (WHERE n = top) AS n_top
FROM (SELECT bh, idx, lith, n, max(n) OVER (PARTITION BY bh, idx) AS top
      FROM agg_GRA WHERE reason = 0 AND by_lith)
GROUP BY bh, idx
"""


def _scan(con, table, path, header, bin_size, log, n, size) -> dict:
    t0 = time.perf_counter()
    log(f"[{n}/4] {path.name} ({_size(size)}): reading")
    try:
        _execute(con, _scan_sql(table, path, header, bin_size), log, path.name)
    except LilyVAEError:
        raise
    except Exception as exc:
        import duckdb

        if isinstance(exc, duckdb.Error):
            raise LilyVAEError(f"{path}: cannot read the file ({_first_line(exc)})") from None
        raise
    counts = _table_counts(con, table, path)
    con.execute(_bins_sql(table)).fetchall()
    if table == "GRA":
        con.execute(_VOTE_SQL).fetchall()
        ties = con.execute("SELECT count(*) FROM vote_GRA WHERE n_top > 1").fetchone()[0]
        counts["lithology_ties"] = int(ties)
    counts["seconds"] = round(time.perf_counter() - t0, 3)
    d = counts["rows_dropped_by_reason"]
    bad = sum(counts["non_numeric_values"].values())
    log(
        f"      {counts['rows_read']:,} rows read; {counts['rows_dropped']:,} dropped "
        f"(missing ID {d['missing_borehole_id']:,}, depth {d['missing_or_bad_depth']:,}, "
        f"Principal {d['missing_principal']:,}, measurement "
        f"{d['missing_or_bad_measurement']:,}); {bad:,} non-numeric value(s)"
    )
    tie = (
        f"; {counts['lithology_ties']:,} tied lithology votes (alphabetically first kept)"
        if table == "GRA"
        else ""
    )
    log(
        f"      {counts['bins']:,} bins in {counts['boreholes']:,} boreholes{tie} "
        f"[{counts['seconds']:.1f} s]"
    )
    return counts


# -- join, filter, fetch ----------------------------------------------------------------
def _join(con, log) -> tuple[dict, dict]:
    def count(sql: str) -> int:
        return int(con.execute(sql).fetchone()[0])

    gra = count("SELECT count(*) FROM bins_GRA")
    after_ms = count("SELECT count(*) FROM bins_GRA JOIN bins_MS USING (bh, idx)")
    after_ngr = count(
        "SELECT count(*) FROM bins_GRA JOIN bins_MS USING (bh, idx) JOIN bins_NGR USING (bh, idx)"
    )
    con.execute(
        """
CREATE OR REPLACE TEMP TABLE joined AS
SELECT g.bh, g.idx, g.v0 AS gra, vote.principal, ms.v0 AS ms, ngr.v0 AS ngr,
       rgb.v0 AS r, rgb.v1 AS g, rgb.v2 AS b
FROM bins_GRA AS g
JOIN vote_GRA AS vote USING (bh, idx)
JOIN bins_MS AS ms USING (bh, idx)
JOIN bins_NGR AS ngr USING (bh, idx)
JOIN bins_RGB AS rgb USING (bh, idx)
"""
    ).fetchall()
    after_rgb = count("SELECT count(*) FROM joined")
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
    lo, hi = GRA_RANGE
    clo, chi = RGB_RANGE
    gra_ok = f"gra BETWEEN {lo!r} AND {hi!r}"
    rgb_ok = " AND ".join(f"{c} BETWEEN {clo!r} AND {chi!r}" for c in ("r", "g", "b"))
    gra_out = count(f"SELECT count(*) FROM joined WHERE NOT ({gra_ok})")
    rgb_out = count(f"SELECT count(*) FROM joined WHERE ({gra_ok}) AND NOT ({rgb_ok})")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE final AS "
        f"SELECT * FROM joined WHERE ({gra_ok}) AND ({rgb_ok})"
    ).fetchall()
    filters = {
        "gra_outliers_removed": gra_out,
        "rgb_outliers_removed": rgb_out,
        "rows_final": after_rgb - gra_out - rgb_out,
    }
    log(
        f"filters: {gra_out:,} bins with GRA outside [{lo}, {hi}] removed, "
        f"{rgb_out:,} with R, G or B outside [{clo:g}, {chi:g}] removed"
    )
    return join, filters


def _fetch(con, bin_size: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = con.execute("SELECT * FROM final ORDER BY bh, idx").df()
    table = pd.DataFrame(
        {
            TABLE_COLUMNS[0]: df["bh"].astype(str),
            TABLE_COLUMNS[1]: depth_bin_value(df["idx"].to_numpy(np.int64), bin_size),
            TABLE_COLUMNS[2]: df["gra"].astype(np.float64),
            TABLE_COLUMNS[3]: df["principal"].astype(str),
            TABLE_COLUMNS[4]: df["ms"].astype(np.float64),
            TABLE_COLUMNS[5]: df["ngr"].astype(np.float64),
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
    if has_positions:
        pos = (
            "min(p0_min) AS latitude, min(p1_min) AS longitude, min(p2_min) AS water_depth_m, "
            "bool_or(p0_min <> p0_max OR p1_min <> p1_max OR p2_min <> p2_max) AS varies"
        )
    else:
        pos = (
            "NULL::DOUBLE AS latitude, NULL::DOUBLE AS longitude, "
            "NULL::DOUBLE AS water_depth_m, false AS varies"
        )
    bh = con.execute(
        f"""
WITH rows AS (SELECT bh, count(*) AS rows, min(idx) AS lo, max(idx) AS hi FROM final GROUP BY bh),
pos AS (SELECT bh, {pos} FROM agg_GRA WHERE reason = 0 AND NOT by_lith GROUP BY bh)
SELECT rows.bh, pos.latitude, pos.longitude, pos.water_depth_m, pos.varies,
       rows.rows, rows.lo, rows.hi
FROM rows LEFT JOIN pos USING (bh) ORDER BY rows.bh
"""
    ).df()
    boreholes = pd.DataFrame(
        {
            "Borehole_ID": bh["bh"].astype(str),
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


# -- writing --------------------------------------------------------------------------
def _write_frame(df: pd.DataFrame, tmp: Path, fmt: str) -> None:
    """Write the table to ``tmp`` as ``fmt`` ("csv" or "parquet").

    CSV through DuckDB's writer: the same text as ``DataFrame.to_csv(index=False)``
    (shortest round-trip floats, quotes only where needed) in a tenth of the time.
    """
    if fmt != "csv":
        write_table(df, tmp, fmt)
        return
    import duckdb

    with duckdb.connect(":memory:", config={"preserve_insertion_order": True}) as con:
        con.register("lilyvae_output", df)
        con.execute(
            f"COPY lilyvae_output TO {_literal(str(tmp))} "
            "(FORMAT CSV, HEADER, DELIMITER ',', QUOTE '\"', ESCAPE '\"')"
        )


def _check_output(output: Path, inputs: dict[str, Path]) -> str:
    fmt = table_format(output)
    check_output_path(output)
    resolved = output.resolve()
    names = {output.name, *(p.name for p in sidecar_paths(output))}
    for path in inputs.values():
        if path.resolve() == resolved or (
            path.parent.resolve() == resolved.parent and path.name in names
        ):
            raise LilyVAEError(f"{output}: would overwrite the input {path}")
    return fmt


# -- the entry point --------------------------------------------------------------------
def build_dataset(
    lily_dir: str | os.PathLike,
    output: str | os.PathLike,
    bin_size: float = DEFAULT_BIN_SIZE,
    progress: bool | Callable[[str], None] = True,
    *,
    threads: int | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> dict:
    """Build the training table from a folder holding the raw LILY CSV files.

    Writes ``output`` (CSV or Parquet by extension), ``<stem>.boreholes.csv`` and
    ``<stem>.manifest.json`` beside it, each atomically and only once everything has
    been computed (bad input writes nothing). Returns the manifest.

    ``progress``: True logs to stderr (with a progress bar on a terminal), a callable
    receives each log line, False is silent. ``threads`` (default: all cores) and
    ``memory_limit`` (a DuckDB size such as "1GB") bound DuckDB.
    """
    t_start = time.perf_counter()
    bin_size = check_bin_size(bin_size)
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise LilyVAEError(f"--threads must be a positive whole number, not {threads!r}")
    lily_dir = Path(lily_dir)
    output = Path(output)
    inputs = _locate(lily_dir)
    fmt = _check_output(output, inputs)
    headers = {t: _read_header(p, t) for t, p in inputs.items()}
    sizes = {t: p.stat().st_size for t, p in inputs.items()}
    log = _Log(progress)
    synthetic_note = lily_dir / "lily.synthetic.json"
    synthetic = synthetic_note.is_file()
    log(
        f"build-dataset: {len(inputs)} LILY tables in {lily_dir} ({_size(sum(sizes.values()))})"
        f", {bin_size:g} m bins" + ("  [SYNTHETIC inputs]" if synthetic else "")
    )
    checksums = _Checksums(inputs)

    import duckdb

    n_threads = int(threads) if threads else max(1, os.cpu_count() or 1)
    try:
        with tempfile.TemporaryDirectory(prefix="lilyvae-build-") as spill:
            try:
                con = duckdb.connect(
                    ":memory:",
                    config={
                        "threads": n_threads,
                        "memory_limit": str(memory_limit),
                        "temp_directory": spill,
                        "preserve_insertion_order": False,
                    },
                )
            except duckdb.Error as exc:
                raise LilyVAEError(f"cannot start DuckDB ({_first_line(exc)})") from None
            try:
                con.execute("SET enable_progress_bar = true").fetchall()
                con.execute("SET enable_progress_bar_print = false").fetchall()
                for macro in _SQL_MACROS:
                    con.execute(macro).fetchall()
                tables = {}
                for n, (t, path) in enumerate(inputs.items(), start=1):
                    tables[t] = _scan(con, t, path, headers[t], bin_size, log, n, sizes[t])
                t0 = time.perf_counter()
                join, filters = _join(con, log)
                if filters["rows_final"] == 0:
                    raise LilyVAEError(
                        f"{lily_dir}: no rows left: no (Borehole_ID, bin) is present in all four "
                        "tables with GRA and colours in range"
                    )
                table, boreholes = _fetch(con, bin_size)
                t_join = time.perf_counter() - t0
            finally:
                con.close()
    except BaseException:
        checksums.cancel()
        raise

    t0 = time.perf_counter()
    sha = checksums.wait()
    t_wait = time.perf_counter() - t0
    bh_path, manifest_path = sidecar_paths(output)
    decimals = depth_decimals(bin_size)
    from lilyvae import __version__

    manifest = {
        "what": "training table built from the raw LILY files by lilyvae build-dataset",
        "synthetic_inputs": synthetic,
        "lilyvae_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "output": {
            "table": str(output),
            "format": fmt,
            "sha256": None,
            "rows": int(len(table)),
            "boreholes": int(table["Borehole_ID"].nunique()),
            "lithologies": int(table["Principal"].nunique()),
            "columns": list(TABLE_COLUMNS),
            "sorted_by": ["Borehole_ID", "Depth_Bin"],
            "boreholes_table": str(bh_path),
        },
        "parameters": {
            "bin_size_m": bin_size,
            "depth_column": DEPTH_COLUMN,
            "depth_bin_rule": (
                "bin index = round half to even of float64 (depth / bin_size); "
                f"Depth_Bin = round(index * bin_size, {decimals})"
            ),
            "depth_decimals": decimals,
            "borehole_id": "Exp-Site-Hole",
            "drop_rows_missing": ["Exp", "Site", "Hole", DEPTH_COLUMN, PRINCIPAL_COLUMN]
            + ["the file's measurement column(s)"],
            "missing_value_strings": list(NA_TOKENS),
            "measurement_rule": "mean of the readings in the bin",
            "lithology_rule": (
                "most frequent Principal of the GRA readings in the bin; ties: the "
                "alphabetically first (Unicode code point order)"
            ),
            "principal_from": "GRA",
            "join": "inner on (Borehole_ID, bin index): GRA x MS x NGR x RGB",
            "gra_range": list(GRA_RANGE),
            "rgb_range": list(RGB_RANGE),
            "threads": n_threads,
            "memory_limit": str(memory_limit),
        },
        "inputs": {
            t: {
                "file": inputs[t].name,
                "path": str(inputs[t]),
                "bytes": sizes[t],
                "sha256": sha[t],
            }
            for t in inputs
        },
        "tables": tables,
        "join": join,
        "filters": filters,
        "boreholes_with_varying_position": boreholes.attrs["positions_vary"],
        "reference_counts": REFERENCE_COUNTS,
        "timings_s": {
            **{f"read_{t}": tables[t]["seconds"] for t in tables},
            "join_filter_sort": round(t_join, 3),
            "checksums": round(checksums.seconds, 3),
            "waiting_for_checksums": round(t_wait, 3),
        },
        "wall_time_s": None,
    }
    if synthetic:
        manifest["synthetic_notice"] = (
            f"built from SYNTHETIC LILY-like files (see {synthetic_note}): no value in this "
            "table is a measurement"
        )
    for t in tables:
        tables[t].pop("seconds", None)
    if not boreholes.attrs["has_positions"]:
        manifest["boreholes_positions"] = (
            "GRA_DataLITH.csv lacks latitude/longitude/water depth columns; left empty"
        )

    t0 = time.perf_counter()
    with contextlib.ExitStack() as stack:
        # Exits run in reverse: the table lands first, the manifest last.
        tmp_manifest = stack.enter_context(atomic_path(manifest_path))
        tmp_bh = stack.enter_context(atomic_path(bh_path))
        tmp_table = stack.enter_context(atomic_path(output))
        _write_frame(table, tmp_table, fmt)
        boreholes.to_csv(tmp_bh, index=False)
        manifest["output"]["sha256"] = sha256_file(tmp_table)
        manifest["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
        manifest["wall_time_s"] = round(time.perf_counter() - t_start, 3)
        tmp_manifest.write_text(to_json(manifest), encoding="utf-8")
    out = manifest["output"]
    log(
        f"final: {out['rows']:,} rows, {out['boreholes']:,} boreholes, "
        f"{out['lithologies']:,} lithologies; wrote {output}, {bh_path.name}, "
        f"{manifest_path.name} in {manifest['wall_time_s']:.1f} s"
    )
    return manifest
