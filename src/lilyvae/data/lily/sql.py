"""The SQL the builder runs in DuckDB: scanning a file, binning, the lithology vote, the join.

Each file is read once by DuckDB's CSV reader (all columns declared as text: no type
sniffing, junk cannot abort the read) and reduced on the fly to one row per (borehole,
bin) -- for GRA also per (borehole, bin, lithology), for the vote -- holding counts and
compensated sums (``fsum``). Only these per-bin aggregates, about a tenth of a file's
rows, are ever held. The tables the statements create, in order:

``agg_<table>`` (:func:`scan_sql`), ``bins_<table>`` (:func:`bins_sql`), ``vote_GRA``
(:data:`VOTE_SQL`), ``joined`` (:data:`JOIN_SQL`) and ``final`` (:func:`final_sql`).

Round half to even is written out in SQL (:data:`SQL_MACROS`) because DuckDB's
``round()`` rounds half away from zero.
"""

from __future__ import annotations

from pathlib import Path

from lilyvae.data.lily.release import (
    DEPTH_COLUMN,
    MEASUREMENT_COLUMNS,
    NA_TOKENS,
    POSITION_COLUMNS,
    PRINCIPAL_COLUMN,
)
from lilyvae.data.lily.rules import GRA_RANGE, RGB_RANGE

#: Round half to even in SQL (DuckDB's ``round()`` rounds half away from zero). For a
#: finite double q, ``q - floor(q)`` is exact, so the comparison with 0.5 is exact.
SQL_MACROS = (
    "CREATE OR REPLACE TEMP MACRO lv_half_even(q) AS "
    "CAST(floor(q) AS BIGINT) + CASE "
    "WHEN q - floor(q) > 0.5 THEN 1 "
    "WHEN q - floor(q) < 0.5 THEN 0 "
    "WHEN CAST(floor(q) AS BIGINT) % 2 = 0 THEN 0 ELSE 1 END",
)


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string."""
    return "'" + text.replace("'", "''") + "'"


def csv_columns(header: list[str]) -> str:
    """DuckDB ``columns=`` struct: every column as text, odd names made unique."""
    seen: set[str] = set()
    names = []
    for i, name in enumerate(header):
        if not name or name in seen:
            name = f"lilyvae_column_{i}"
        seen.add(name)
        names.append(name)
    return "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"


def has_positions(table: str, header: list[str]) -> bool:
    """Whether the file's borehole positions are kept: the GRA file's, when it has them."""
    return table == "GRA" and all(c in header for c in POSITION_COLUMNS)


# -- one file -------------------------------------------------------------------------
def _row_columns(table: str, header: list[str], bin_size: float) -> tuple[list, list, list]:
    """Select lists of the scan's first three steps: the text columns it needs, their
    numbers, and the numbers it can use."""
    k = range(len(MEASUREMENT_COLUMNS[table]))
    pos = range(len(POSITION_COLUMNS)) if has_positions(table, header) else range(0)
    src = [
        f"{ident('Exp')} AS exp",
        f"{ident('Site')} AS site",
        f"{ident('Hole')} AS hole",
        f"{ident(PRINCIPAL_COLUMN)} AS principal",
        f"{ident(DEPTH_COLUMN)} AS depth_txt",
    ]
    src += [f"{ident(m)} AS v{i}_txt" for i, m in zip(k, MEASUREMENT_COLUMNS[table], strict=True)]
    src += [f"{ident(POSITION_COLUMNS[i])} AS p{i}_txt" for i in pos]
    # The quotient in float64, exactly as the reference computed it.
    casts = [f"TRY_CAST(depth_txt AS DOUBLE) / CAST({float(bin_size)!r} AS DOUBLE) AS q"]
    casts += [f"TRY_CAST(v{i}_txt AS DOUBLE) AS c{i}" for i in k]
    casts += [f"TRY_CAST(p{i}_txt AS DOUBLE) AS pc{i}" for i in pos]
    # Usable numbers: finite (DuckDB orders NaN above every number, so NaN fails too);
    # the quotient also small enough for exact integers.
    num = ["CASE WHEN abs(q) < 4.0e15 THEN q END AS qq"]
    num += [f"CASE WHEN isfinite(c{i}) THEN c{i} END AS v{i}" for i in k]
    num += [f"CASE WHEN isfinite(pc{i}) THEN pc{i} END AS p{i}" for i in pos]
    return src, casts, num


def _aggregates(table: str, header: list[str]) -> list[str]:
    """What each (reason, borehole, bin) group keeps: counts, sums, position ranges."""
    k = range(len(MEASUREMENT_COLUMNS[table]))
    # The text columns are referenced again here (non-numeric counts); this also keeps
    # DuckDB from pushing TRY_CAST into the CSV reader, where a junk cell would abort the
    # read.
    aggs = ["count(*) AS n"]
    aggs += [f"fsum(v{i}) AS s{i}" for i in k]
    aggs += ["count(depth_txt) - count(qq) AS bad_depth"]
    aggs += [f"count(v{i}_txt) - count(v{i}) AS bad_v{i}" for i in k]
    if has_positions(table, header):
        for i in range(len(POSITION_COLUMNS)):
            aggs += [f"min(p{i}) AS p{i}_min", f"max(p{i}) AS p{i}_max"]
    return aggs


def _grouping(table: str) -> tuple[str, str, str]:
    """``(lithology expression, group keys, GROUP BY)``: GRA adds a grouping set per
    lithology, for the vote; the other files group by (reason, borehole, bin) only."""
    if table == "GRA":
        lith = "CASE WHEN reason = 0 THEN principal END"
        keys = "reason, bh, idx, lith, GROUPING(lith) = 0 AS by_lith"
        group = "GROUPING SETS ((reason, bh, idx), (reason, bh, idx, lith))"
    else:
        lith = "NULL::VARCHAR"
        keys = "reason, bh, idx, NULL::VARCHAR AS lith, false AS by_lith"
        group = "reason, bh, idx"
    return lith, keys, group


def scan_sql(table: str, path: Path, header: list[str], bin_size: float) -> str:
    """Reduce one file to per-bin aggregates (table ``agg_<table>``).

    One row per (reason, borehole, bin) -- for GRA also per lithology (a second
    grouping set, for the vote) -- with the row count, compensated sums (``fsum``) of
    the measurements and counts of non-numeric cells. ``reason`` is 0 for a usable row,
    else the first of DROP_REASONS that applies (dropped rows are only counted).
    """
    src, casts, num = _row_columns(table, header, bin_size)
    aggs = _aggregates(table, header)
    lith, keys, group = _grouping(table)
    k = range(len(MEASUREMENT_COLUMNS[table]))
    missing_value = " OR ".join(f"v{i} IS NULL" for i in k)
    reader = (
        f"read_csv({literal(str(path))}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', columns = {csv_columns(header)}, "
        f"nullstr = [{', '.join(literal(t) for t in NA_TOKENS)}])"
    )
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


def counts_sql(table: str) -> str:
    """Rows, bad depths and bad measurements of one file, per drop reason."""
    bad = ", ".join(f"sum(bad_v{i})" for i in range(len(MEASUREMENT_COLUMNS[table])))
    return (
        f"SELECT reason, sum(n), sum(bad_depth), {bad} FROM agg_{table} "
        "WHERE NOT by_lith GROUP BY reason ORDER BY reason"
    )


def bins_sql(table: str) -> str:
    """The mean of each measurement per (borehole, bin) of usable rows (``bins_<table>``)."""
    meas = MEASUREMENT_COLUMNS[table]
    means = ", ".join(f"s{i} / n AS v{i}" for i in range(len(meas)))
    return (
        f"CREATE OR REPLACE TEMP TABLE bins_{table} AS SELECT bh, idx, n, {means} "
        f"FROM agg_{table} WHERE reason = 0 AND NOT by_lith"
    )


#: The most frequent lithology of each GRA bin; ties go to the alphabetically first
#: (``min``, code point order), and ``n_top`` counts the tied lithologies.
VOTE_SQL = """
CREATE OR REPLACE TEMP TABLE vote_GRA AS
SELECT bh, idx,
       min(lith) FILTER (WHERE n = top) AS principal,
       count(*) FILTER (WHERE n = top) AS n_top
FROM (SELECT bh, idx, lith, n, max(n) OVER (PARTITION BY bh, idx) AS top
      FROM agg_GRA WHERE reason = 0 AND by_lith)
GROUP BY bh, idx
"""


# -- all four files ---------------------------------------------------------------------
#: The inner join of the four files' bins, ``Principal`` from the GRA vote.
JOIN_SQL = """
CREATE OR REPLACE TEMP TABLE joined AS
SELECT g.bh, g.idx, g.v0 AS gra, vote.principal, ms.v0 AS ms, ngr.v0 AS ngr,
       rgb.v0 AS r, rgb.v1 AS g, rgb.v2 AS b
FROM bins_GRA AS g
JOIN vote_GRA AS vote USING (bh, idx)
JOIN bins_MS AS ms USING (bh, idx)
JOIN bins_NGR AS ngr USING (bh, idx)
JOIN bins_RGB AS rgb USING (bh, idx)
"""


def join_sql(keep_partial: bool) -> str:
    """The join of the four files' bins (table ``joined``): inner, or with
    ``keep_partial`` a left join of RGB, so that bins of GRA x MS x NGR without colour
    stay, their R, G and B NULL (RGB bins always hold all three)."""
    return JOIN_SQL.replace("JOIN bins_RGB", "LEFT JOIN bins_RGB") if keep_partial else JOIN_SQL


#: Conditions on a row of ``joined``: bulk density in range; all three colours in range.
GRA_IN_RANGE = f"gra BETWEEN {GRA_RANGE[0]!r} AND {GRA_RANGE[1]!r}"
RGB_IN_RANGE = " AND ".join(f"{c} BETWEEN {RGB_RANGE[0]!r} AND {RGB_RANGE[1]!r}" for c in "rgb")


def final_sql(keep_partial: bool = False) -> str:
    """The rows of ``joined`` that pass both range filters (table ``final``); with
    ``keep_partial`` a bin without colour passes the colour filter (a bin whose colour
    is out of range is still dropped, so the complete rows are the default table's)."""
    colour = f"r IS NULL OR ({RGB_IN_RANGE})" if keep_partial else RGB_IN_RANGE
    return (
        "CREATE OR REPLACE TEMP TABLE final AS "
        f"SELECT * FROM joined WHERE ({GRA_IN_RANGE}) AND ({colour})"
    )


#: The bins of GRA x MS x NGR (bulk density in range) that no RGB bin matches, whether
#: the table keeps them or not (table ``no_colour``): what the manifest counts.
NO_COLOUR_SQL = f"""
CREATE OR REPLACE TEMP TABLE no_colour AS
SELECT g.bh, g.idx
FROM bins_GRA AS g
JOIN bins_MS AS ms USING (bh, idx)
JOIN bins_NGR AS ngr USING (bh, idx)
ANTI JOIN bins_RGB AS rgb USING (bh, idx)
WHERE g.v0 BETWEEN {GRA_RANGE[0]!r} AND {GRA_RANGE[1]!r}
"""

#: Bins and boreholes with colour (in ``final``) and without (``no_colour``; boreholes
#: none of whose bins has colour).
COLOUR_COUNTS_SQL = """
WITH coloured AS (SELECT bh FROM final WHERE r IS NOT NULL)
SELECT (SELECT count(*) FROM coloured),
       (SELECT count(DISTINCT bh) FROM coloured),
       (SELECT count(*) FROM no_colour),
       (SELECT count(DISTINCT bh) FROM no_colour WHERE bh NOT IN (SELECT bh FROM coloured))
"""


def boreholes_sql(positions: bool) -> str:
    """One row per borehole of ``final``: its position (from GRA, when the file has the
    columns; ``varies`` when readings of one borehole disagree), rows and bin range."""
    if positions:
        pos = (
            "min(p0_min) AS latitude, min(p1_min) AS longitude, min(p2_min) AS water_depth_m, "
            "bool_or(p0_min <> p0_max OR p1_min <> p1_max OR p2_min <> p2_max) AS varies"
        )
    else:
        pos = (
            "NULL::DOUBLE AS latitude, NULL::DOUBLE AS longitude, "
            "NULL::DOUBLE AS water_depth_m, false AS varies"
        )
    return f"""
WITH rows AS (SELECT bh, count(*) AS rows, min(idx) AS lo, max(idx) AS hi FROM final GROUP BY bh),
pos AS (SELECT bh, {pos} FROM agg_GRA WHERE reason = 0 AND NOT by_lith GROUP BY bh)
SELECT rows.bh, pos.latitude, pos.longitude, pos.water_depth_m, pos.varies,
       rows.rows, rows.lo, rows.hi
FROM rows LEFT JOIN pos USING (bh) ORDER BY rows.bh
"""
