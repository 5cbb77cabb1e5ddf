"""Reading the files: a DuckDB session, and each file reduced to its bins and counted.

DuckDB's memory is capped (``memory_limit``) and spills to a temporary folder if needed;
the folder goes when the session ends. :func:`scan_file` runs one file's statements
(:mod:`lilyvae.data.lily.sql`) and returns what the manifest records of it: rows read,
dropped (by reason) and used, non-numeric cells, bins, boreholes and, for GRA, tied
lithology votes.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from lilyvae.data.lily.progress import BuildLog, execute, first_line, human_size
from lilyvae.data.lily.release import DEPTH_COLUMN, MEASUREMENT_COLUMNS
from lilyvae.data.lily.rules import DROP_REASONS
from lilyvae.data.lily.sql import SQL_MACROS, VOTE_SQL, bins_sql, counts_sql, scan_sql
from lilyvae.errors import LilyVAEError


@contextlib.contextmanager
def duckdb_session(threads: int, memory_limit: str) -> Iterator:
    """An in-memory DuckDB connection with the builder's settings and SQL macros."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="lilyvae-build-") as spill:
        try:
            con = duckdb.connect(
                ":memory:",
                config={
                    "threads": threads,
                    "memory_limit": str(memory_limit),
                    "temp_directory": spill,
                    "preserve_insertion_order": False,
                },
            )
        except duckdb.Error as exc:
            raise LilyVAEError(f"cannot start DuckDB ({first_line(exc)})") from None
        try:
            con.execute("SET enable_progress_bar = true").fetchall()
            con.execute("SET enable_progress_bar_print = false").fetchall()
            for macro in SQL_MACROS:
                con.execute(macro).fetchall()
            yield con
        finally:
            con.close()


def table_counts(con, table: str, path: Path) -> dict:
    """Counts of one file from its aggregates; error if it has no usable rows."""
    meas = MEASUREMENT_COLUMNS[table]
    row = con.execute(counts_sql(table)).fetchall()
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


def scan_file(
    con, table: str, path: Path, header: list[str], bin_size: float, log: BuildLog, n: int
) -> dict:
    """Read file number ``n`` of four into ``bins_<table>`` (and GRA's ``vote_GRA``);
    return its counts, with the seconds it took under ``"seconds"``."""
    t0 = time.perf_counter()
    log(f"[{n}/4] {path.name} ({human_size(path.stat().st_size)}): reading")
    try:
        execute(con, scan_sql(table, path, header, bin_size), log, path.name)
    except LilyVAEError:
        raise
    except Exception as exc:
        import duckdb

        if isinstance(exc, duckdb.Error):
            raise LilyVAEError(f"{path}: cannot read the file ({first_line(exc)})") from None
        raise
    counts = table_counts(con, table, path)
    con.execute(bins_sql(table)).fetchall()
    if table == "GRA":
        con.execute(VOTE_SQL).fetchall()
        ties = con.execute("SELECT count(*) FROM vote_GRA WHERE n_top > 1").fetchone()[0]
        counts["lithology_ties"] = int(ties)
    counts["seconds"] = round(time.perf_counter() - t0, 3)
    log_counts(log, table, counts)
    return counts


def log_counts(log: BuildLog, table: str, counts: dict) -> None:
    """Two log lines: the rows read and dropped; the bins and boreholes found."""
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
