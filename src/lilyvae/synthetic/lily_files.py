"""SYNTHETIC raw LILY tables (``*_DataLITH.csv``), for building the training table.

The real LILY release (Zenodo record 8408296) holds one CSV per measurement, one row
per instrument reading, about 11 GB in all. It cannot ship with this project, so this
module writes look-alikes of the four files the training table is built from
(``GRA_DataLITH.csv``, ``MS_DataLITH.csv``, ``NGR_DataLITH.csv``, ``RGB_DataLITH.csv``)
with the real column names, so that ``lilyvae build-dataset`` can be exercised, tested
and timed. Everything written here is SYNTHETIC: a sidecar ``lily.synthetic.json`` in
the directory says so.

How the readings are made
-------------------------
The readings come from the same generator as ``lilyvae synth``
(:class:`lilyvae.synthetic.generator.SyntheticLily`): its boreholes, beds and
noiseless values (its ``true_values`` and ``lithology_at``). Each instrument samples
every borehole at its own spacing (GRA and MS every 2.5 cm, NGR every 10 cm, the RGB
line scan every 0.5 cm: 8, 8, 2 and 40 readings
per 20 cm bin), each reading being the true value at its depth plus instrument noise
scaled so that the mean of a bin has about the noise of a row of the synthetic table
(:data:`lilyvae.synthetic.generator.MEASUREMENT_NOISE`). Building these files
therefore gives a table like the one ``lilyvae synth`` writes for the same seed and size.

What real files contain, on purpose
-----------------------------------
Missing cells (measurements, ``Principal``, depths, holes); GRA readings and whole bins
outside [0.3, 4.0] g/cm3 (empty liner, disturbed core); colours and whole bins outside
[0, 255]; non-numeric junk in the MS and G columns; boreholes present in only some of
the tables (extra holes of real sites); bins missing from one table (gaps); readings
exactly on 20 cm bin edges (the 2.5 cm and 0.5 cm grids start on an edge); lithology
votes that tie inside a bin; ``Principal`` that disagrees between tables; the 25
shared metadata columns plus extra columns, in a different order in every file;
plausible ocean latitudes, longitudes and water depths. The sidecar counts each of
these, so tests can check the builder against them.

``scale`` is the number of 20 cm bins relative to the real training table: scale 1 gives
238,506 bins of the 296 real boreholes (about 14 M readings, 2.7 GB), scale 0.01 about
150 k readings (the smallest scale is 296 / 238,506, one bin per borehole).
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lilyvae.data.lily.release import (
    DEPTH_COLUMN,
    LATITUDE_COLUMN,
    LILY_FILES,
    LILY_TABLES,
    LONGITUDE_COLUMN,
    MEASUREMENT_COLUMNS,
    METADATA_COLUMNS,
    WATER_DEPTH_COLUMN,
)
from lilyvae.errors import LilyVAEError
from lilyvae.files import write_atomic, write_json_atomic
from lilyvae.synthetic.generator import (
    BIN_M,
    DEFAULT_ROWS,
    MEASUREMENT_NOISE,
    SYNTHETIC_NOTICE,
    SyntheticLily,
    minimum_rows,
)

#: Bumped whenever the same scale and seed would give different files.
GENERATOR_VERSION = "1.1"

SIDECAR_NAME = "lily.synthetic.json"

DEFAULT_SCALE = 0.1

#: Spacing of readings (m) and offset of the first reading below a borehole's top bin
#: edge: GRA and MS every 2.5 cm, NGR every 10 cm (between edges), RGB every 0.5 cm.
SPACING_M = {"GRA": 0.025, "MS": 0.025, "NGR": 0.1, "RGB": 0.005}
FIRST_OFFSET_M = {"GRA": 0.0, "MS": 0.0, "NGR": 0.05, "RGB": 0.0}
#: Decimals written per column.
DEPTH_DECIMALS = 3
VALUE_DECIMALS = {"GRA": 3, "MS": 2, "NGR": 3, "RGB": 2}
INSTRUMENT = {"GRA": "GRA", "MS": "WRMSL", "NGR": "NGR", "RGB": "SHIL"}
#: Columns that are not needed to build the table, one set per file (they get in the way).
EXTRA_COLUMNS = {
    "GRA": ("Gamma counts (cps)", "Core diameter (cm)"),
    "MS": ("Magnetic susceptibility (SI)", "Loop sensor"),
    "NGR": ("NGR total counts error (cps)",),
    "RGB": ("Image ID", "L*"),
}

#: Extra holes (not in the training table) per real borehole, their length as a fraction
#: of their source hole, and how likely each table is to hold one.
EXTRA_HOLE_FRACTION = 0.3
EXTRA_LENGTH = (0.1, 0.5)
EXTRA_TABLE_PROB = {"GRA": 0.9, "MS": 0.9, "NGR": 0.75, "RGB": 0.3}

#: Per-reading noise (multiplier of the per-bin scales of MEASUREMENT_NOISE is
#: sqrt(readings per bin), so a bin mean has the table's noise).
RGB_READING_SD = {"shared": 0.1, "channel": 0.04}

#: Artefact rates: per bin ("..._bins") or per cell/reading. Each artefact occurs at
#: least once in every file that can hold it, whatever the scale.
RATES = {
    "gap_bins": {"GRA": 0.002, "MS": 0.002, "NGR": 0.01, "RGB": 0.02},
    "tie_bins": 0.01,
    "relabelled_bins": 0.02,  # MS, NGR, RGB: Principal disagrees with GRA
    "gra_void_bins": 0.001,  # GRA about 0.02-0.25 (empty liner)
    "gra_dense_bins": 0.0003,  # GRA above 4.0
    "gra_spike_readings": 0.002,
    "rgb_bright_bins": 0.0005,  # a channel above 255
    "rgb_negative_bins": 0.0005,  # a channel below 0
    "missing_value_cells": 0.002,
    "missing_principal_cells": 0.003,
    "missing_depth_cells": 0.0002,
    "missing_hole_cells": 0.0001,
    "junk_cells": {"MS": 0.0005, "RGB": 0.0002},
}
JUNK_TOKENS = ("OVER", "ERR", "--", "1.2.3", "#VALUE!", "n.d.")
#: Column that gets junk in each file that has any.
JUNK_COLUMN = {"MS": MEASUREMENT_COLUMNS["MS"][0], "RGB": "G"}

#: Rows written per CSV batch.
BATCH_ROWS = 400_000

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check_scale(scale) -> int:
    """Bins of the synthetic table for ``scale``; a clear error when it is not usable."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise LilyVAEError(f"--scale must be a number, got {scale!r}")
    scale = float(scale)
    if not math.isfinite(scale) or scale <= 0:
        raise LilyVAEError(f"--scale must be a positive number, not {scale}")
    rows = int(round(DEFAULT_ROWS * scale))
    low = minimum_rows()
    if rows < low:
        raise LilyVAEError(
            f"--scale {scale} is too small: it gives {rows} bins, and every one of the "
            f"{low} boreholes needs one (smallest scale {low / DEFAULT_ROWS:.5f})"
        )
    return rows


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise LilyVAEError(f"--seed must be a non-negative whole number, got {seed!r}")
    return int(seed)


def _pick(rng: np.random.Generator, n: int, rate: float, force: bool = False) -> np.ndarray:
    """Sorted positions of a Binomial(n, rate) draw of ``n`` items (at least one if force)."""
    if n <= 0 or rate <= 0:
        return np.empty(0, dtype=np.int64)
    k = int(rng.binomial(n, min(rate, 1.0)))
    if force:
        k = max(k, 1)
    return np.sort(rng.choice(n, size=k, replace=False))


# -- boreholes -------------------------------------------------------------------------
def _holes(lily: SyntheticLily, rng: np.random.Generator) -> list[dict]:
    """The real boreholes (in every table) and extra holes of real sites (in some)."""
    bh = lily.boreholes
    holes = []
    used: dict[str, set[str]] = {}
    for row in bh.itertuples(index=False):
        site = f"{row.Exp}-{row.Site}"
        used.setdefault(site, set()).add(row.Hole)
        first = int(round(row.top_depth / BIN_M))
        holes.append(
            {
                "id": row.Borehole_ID,
                "exp": row.Exp,
                "site": row.Site,
                "hole": row.Hole,
                "source": row.Borehole_ID,
                "first_bin": first,
                "n_bins": int(row.n_rows),
                "lat": float(row.latitude),
                "lon": float(row.longitude),
                "water_depth": float(row.water_depth_m),
                "tables": tuple(LILY_TABLES),
                "extra": False,
            }
        )
    n_extra = max(2, int(round(EXTRA_HOLE_FRACTION * len(holes))))
    sources = rng.choice(len(holes), size=n_extra, replace=True)
    for k, s in enumerate(sources):
        src = holes[s]
        site = f"{src['exp']}-{src['site']}"
        letter = next((c for c in _LETTERS if c not in used[site]), None)
        if letter is None:
            continue
        used[site].add(letter)
        frac = rng.uniform(*EXTRA_LENGTH)
        n = max(1, int(round(frac * src["n_bins"])))
        start = src["first_bin"] + int(rng.integers(0, src["n_bins"] - n + 1))
        if k == 0:  # one extra hole in GRA, MS and NGR but not RGB, as in the real data
            tables = ("GRA", "MS", "NGR")
        elif k == 1:  # and one that GRA lacks
            tables = ("MS", "RGB")
        else:
            while True:
                keep = [t for t in LILY_TABLES if rng.random() < EXTRA_TABLE_PROB[t]]
                if 0 < len(keep) < len(LILY_TABLES):
                    break
            tables = tuple(keep)
        holes.append(
            dict(
                src,
                id=f"{site}-{letter}",
                hole=letter,
                first_bin=start,
                n_bins=n,
                tables=tables,
                extra=True,
            )
        )
    return holes


# -- readings of one hole in one table ----------------------------------------------------
def _bin_of(depth: np.ndarray) -> np.ndarray:
    """The builder's rule: round half to even of the float64 quotient depth / 0.2."""
    return np.rint(depth / BIN_M).astype(np.int64)


def _readings(lily: SyntheticLily, hole: dict, table: str) -> dict:
    """Noiseless readings of one hole at the instrument's spacing (before artefacts)."""
    spacing = SPACING_M[table]
    per_bin = int(round(BIN_M / spacing))
    top_edge = (hole["first_bin"] - 0.5) * BIN_M + FIRST_OFFSET_M[table]
    k = np.arange(hole["n_bins"] * per_bin)
    depth = np.round(top_edge + k * spacing, DEPTH_DECIMALS)
    depth = depth[depth >= 0.0]
    values = lily.true_values(hole["source"], depth)
    classes = lily._class_at(lily._borehole(hole["source"]), depth)
    return {"depth": depth, "values": values, "cls": classes.astype(np.int64)}


def _noise(table: str, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Instrument noise of single readings: a bin's mean has about the table's noise."""
    p = MEASUREMENT_NOISE
    root = math.sqrt(BIN_M / SPACING_M[table])
    n = values.shape[0]
    if table == "GRA":
        return values[:, 0] + p["gra_sd"] * root * rng.standard_normal(n)
    if table == "MS":
        ms = values[:, 1]
        scale = (p["ms_scale_abs"] + p["ms_scale_rel"] * np.abs(ms)) * root
        return ms + scale * rng.standard_t(p["ms_t_df"], n)
    if table == "NGR":
        ngr = values[:, 2]
        sd = (p["ngr_sd_abs"] + p["ngr_sd_sqrt"] * np.sqrt(ngr)) * root
        return ngr + sd * rng.standard_normal(n)
    rgb = values[:, 3:]
    factor = (
        1.0
        + RGB_READING_SD["shared"] * rng.standard_normal((n, 1))
        + RGB_READING_SD["channel"] * rng.standard_normal((n, 3))
    )
    return rgb * factor


class _Stats:
    """Counts of every artefact written, per file, for the sidecar."""

    def __init__(self):
        self.data: dict[str, dict[str, int]] = {t: {} for t in LILY_TABLES}

    def add(self, table: str, key: str, n: int) -> None:
        d = self.data[table]
        d[key] = d.get(key, 0) + int(n)


def _hole_rows(
    lily: SyntheticLily,
    hole: dict,
    table: str,
    rng: np.random.Generator,
    stats: _Stats,
    force: bool = False,
) -> dict:
    """One hole's readings in one table, with the table's artefacts.

    With ``force`` every artefact occurs at least once (the longest hole of every file
    is forced, so every file holds every artefact it can, whatever the scale).
    """
    r = _readings(lily, hole, table)
    depth, cls = r["depth"], r["cls"]
    vals = _noise(table, r["values"], rng)
    if vals.ndim == 1:
        vals = vals[:, None]
    n_classes = len(lily.classes)

    # Gaps: whole bins this instrument did not measure.
    bin_ids, bin_of_row = np.unique(_bin_of(depth), return_inverse=True)
    gap = _pick(rng, bin_ids.size, RATES["gap_bins"][table], force)
    keep = ~np.isin(bin_of_row, gap)
    stats.add(table, "gap_bins", gap.size)
    depth, cls, vals = depth[keep], cls[keep], vals[keep]
    bin_ids, bin_of_row = np.unique(_bin_of(depth), return_inverse=True)
    n_bins, n = bin_ids.size, depth.size

    def bins_with(rate, exclude=()):
        chosen = _pick(rng, n_bins, rate, force)
        chosen = chosen[~np.isin(chosen, exclude)]
        return chosen, np.isin(bin_of_row, chosen)

    if table == "GRA":
        # Disturbed core (as in the synthetic table), empty liner, dense junk, spikes.
        disturbed = rng.random(n_bins) < MEASUREMENT_NOISE["gra_disturbed_prob"]
        factor = np.where(disturbed, rng.uniform(0.2, 0.9, n_bins), 1.0)
        vals[:, 0] *= factor[bin_of_row]
        void, sel = bins_with(RATES["gra_void_bins"])
        vals[sel, 0] = rng.uniform(0.02, 0.25, int(sel.sum()))
        dense, sel = bins_with(RATES["gra_dense_bins"], void)
        vals[sel, 0] = rng.uniform(4.05, 4.8, int(sel.sum()))
        spikes = _pick(rng, n, RATES["gra_spike_readings"], force)
        up = rng.random(spikes.size) < 0.5
        vals[spikes, 0] = np.where(
            up, vals[spikes, 0] + rng.uniform(1.5, 3.0, spikes.size), 0.05 + 0.2 * vals[spikes, 0]
        )
        stats.add(table, "gra_void_bins", void.size)
        stats.add(table, "gra_dense_bins", dense.size)
        stats.add(table, "gra_spike_readings", spikes.size)
    if table == "MS":
        drift = rng.random(n_bins) < MEASUREMENT_NOISE["ms_drift_prob"]
        shift = np.minimum(rng.exponential(MEASUREMENT_NOISE["ms_drift_scale"], n_bins), 500.0)
        vals[:, 0] -= np.where(drift, shift, 0.0)[bin_of_row]
    if table == "RGB":
        bright, sel = bins_with(RATES["rgb_bright_bins"])
        vals[sel, int(rng.integers(0, 3))] = rng.uniform(256.0, 280.0, int(sel.sum()))
        negative, sel = bins_with(RATES["rgb_negative_bins"], bright)
        vals[sel, 2] = rng.uniform(-8.0, -0.5, int(sel.sum()))
        stats.add(table, "rgb_bright_bins", bright.size)
        stats.add(table, "rgb_negative_bins", negative.size)
    if table != "GRA":
        # Principal that disagrees with GRA's (the builder keeps GRA's).
        relabel, sel = bins_with(RATES["relabelled_bins"])
        new_cls = rng.integers(0, n_classes, n_bins)
        cls[sel] = new_cls[bin_of_row[sel]]
        stats.add(table, "relabelled_bins", relabel.size)

    # Tied lithology votes: half of a bin's readings get another lithology (one reading
    # loses its label when the count is odd), so the alphabetical rule decides.
    principal_blank = np.zeros(n, dtype=bool)
    counts = np.bincount(bin_of_row, minlength=n_bins)
    candidates = np.flatnonzero(counts >= 2)
    ties = candidates[_pick(rng, candidates.size, RATES["tie_bins"], force)]
    order = np.argsort(bin_of_row, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    for b in ties:
        rows = order[starts[b] : starts[b + 1]]
        half = rows.size // 2
        first = cls[rows[half]]
        other = (first + 1 + int(rng.integers(0, n_classes - 1))) % n_classes
        cls[rows] = first
        cls[rows[rows.size - half :]] = other
        if rows.size % 2:
            principal_blank[rows[0]] = True
    stats.add(table, "tie_bins", ties.size)

    # Missing cells and junk.
    vals = np.round(vals, VALUE_DECIMALS[table])
    for j in range(vals.shape[1]):
        miss = _pick(rng, n, RATES["missing_value_cells"], force)
        vals[miss, j] = np.nan
        stats.add(table, "missing_value_cells", miss.size)
    principal_blank[_pick(rng, n, RATES["missing_principal_cells"], force)] = True
    stats.add(table, "missing_principal_cells", int(principal_blank.sum()))
    depth_out = depth.copy()
    miss = _pick(rng, n, RATES["missing_depth_cells"], force)
    depth_out[miss] = np.nan
    stats.add(table, "missing_depth_cells", miss.size)
    hole_blank = np.zeros(n, dtype=bool)
    hole_blank[_pick(rng, n, RATES["missing_hole_cells"], force)] = True
    stats.add(table, "missing_hole_cells", int(hole_blank.sum()))
    junk = np.zeros(n, dtype=bool)
    if table in JUNK_COLUMN:
        junk[_pick(rng, n, RATES["junk_cells"][table], force)] = True
        stats.add(table, "junk_cells", int(junk.sum()))
    return {
        "depth": depth,
        "depth_out": depth_out,
        "cls": np.where(principal_blank, -1, cls),
        "values": vals,
        "hole_blank": hole_blank,
        "junk": junk,
    }


# -- writing --------------------------------------------------------------------------
def _arrow_batch(parts: list[tuple[int, dict]], holes, lily, table, columns, rng) -> pa.Table:
    """Arrow table of the kept rows of several holes, columns in file order."""
    sizes = [p["depth"].size for _, p in parts]
    idx = np.repeat(np.array([h for h, _ in parts], dtype=np.int64), sizes)

    def cat(key):
        return np.concatenate([p[key] for _, p in parts])

    depth = cat("depth")
    depth_out = cat("depth_out")
    cls = cat("cls")
    vals = cat("values")
    hole_blank = cat("hole_blank")
    junk_mask = cat("junk")
    n = depth.size
    hole_rows = [holes[h] for h, _ in parts]
    local = np.repeat(np.arange(len(parts)), sizes)

    def per_hole(values, dtype=None):
        return pa.array(np.asarray(values)[local], type=dtype)

    tops = np.array([(h["first_bin"] - 0.5) * BIN_M for h in hole_rows])
    rel = np.maximum(depth - np.maximum(tops[local], 0.0), 0.0)
    core = (rel // 9.5).astype(np.int64) + 1
    rel_core = rel - (core - 1) * 9.5
    sect = np.minimum((rel_core // 1.5).astype(np.int64) + 1, 7)
    offset = np.round((rel_core - (sect - 1) * 1.5) * 100.0, 1)
    kind = np.where(depth < 250.0, 0, np.where(depth < 600.0, 1, 2))
    names = pa.array(lily.classes["Principal"].tolist(), pa.string())
    groups = lily.classes["Group"].to_numpy()
    cls_idx = pa.array(cls, mask=cls < 0)
    hard = np.isin(groups, ["Mafic Igneous", "Intermediate/Felsic Igneous", "Ultramafic"])
    litho_type = np.where(
        hard, "igneous", np.where(groups == "Metamorphic", "metamorphic", "sedimentary")
    )
    seconds = 1_356_998_400 + idx * 86_400 + np.arange(n) % 86_400
    section_id = idx * 100_000 + core * 10 + sect
    data = {
        "Exp": per_hole([h["exp"] for h in hole_rows], pa.string()),
        "Site": per_hole([h["site"] for h in hole_rows], pa.string()),
        "Hole": pa.array(
            np.array([h["hole"] for h in hole_rows], dtype=object)[local], pa.string(), hole_blank
        ),
        "Core": pa.array(core),
        "Type": pa.array(np.array(["H", "X", "R"])[kind]),
        "Sect": pa.array(sect),
        "A/W": pa.array(np.full(n, "A" if table == "RGB" else "W")),
        "Offset (cm)": pa.array(offset),
        DEPTH_COLUMN: pa.array(depth_out, mask=np.isnan(depth_out)),
        "Depth CSF-B (m)": pa.array(np.round(depth * 0.985, DEPTH_DECIMALS)),
        "Timestamp (UTC)": pc.cast(pa.array(seconds, pa.timestamp("s")), pa.string()),
        "Instrument": pa.array(np.full(n, INSTRUMENT[table])),
        "Text ID": pc.binary_join_element_wise(
            "SECT", pc.cast(pa.array(section_id), pa.string()), ""
        ),
        "Test No.": pa.array(np.int64(50_000_000) + idx * 1_000_000 + np.arange(n)),
        "Comments": pa.nulls(n, pa.string()),
        "Prefix": pa.nulls(n, pa.string()),
        "Principal": names.take(cls_idx),
        "Suffix": pa.nulls(n, pa.string()),
        "Full Lithology": names.take(cls_idx),
        "Simplified Lithology": pa.array(groups.astype(object), pa.string()).take(cls_idx),
        "Lithology Type": pa.array(litho_type.astype(object), pa.string()).take(cls_idx),
        LATITUDE_COLUMN: per_hole([round(h["lat"], 5) for h in hole_rows]),
        LONGITUDE_COLUMN: per_hole([round(h["lon"], 5) for h in hole_rows]),
        WATER_DEPTH_COLUMN: per_hole([round(h["water_depth"], 1) for h in hole_rows]),
        "Expanded Core Type": pa.array(np.array(["APC", "XCB", "RCB"])[kind]),
    }
    for j, col in enumerate(MEASUREMENT_COLUMNS[table]):
        v = vals[:, j]
        arr = pa.array(v, mask=np.isnan(v))
        if JUNK_COLUMN.get(table) == col:
            text = pc.cast(arr, pa.string())
            tokens = np.array(JUNK_TOKENS, dtype=object)[rng.integers(0, len(JUNK_TOKENS), n)]
            arr = pc.if_else(pa.array(junk_mask), pa.array(tokens, pa.string()), text)
        data[col] = arr
    extras = EXTRA_COLUMNS[table]
    for k, col in enumerate(extras):
        if k == 0:
            data[col] = pa.array(np.round(rng.uniform(0, 100, n), 2))
        else:
            data[col] = pa.array(np.full(n, f"{table.lower()}-{k}"))
    return pa.table({c: data[c] for c in columns})


def _file_columns(table: str, rng: np.random.Generator) -> list[str]:
    cols = list(METADATA_COLUMNS) + list(MEASUREMENT_COLUMNS[table]) + list(EXTRA_COLUMNS[table])
    return [cols[i] for i in rng.permutation(len(cols))]


def _write_file(
    path: Path,
    lily: SyntheticLily,
    holes: list[dict],
    table: str,
    columns: list[str],
    rng: np.random.Generator,
    stats: _Stats,
) -> int:
    """Write one raw table (every hole that has it), in batches; returns its rows.

    Unquoted, as pandas writes these values (Arrow's "needed" style would quote every
    text cell); a value that needed quotes would be an error.
    """
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(columns)
    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
    n_rows = 0
    with open(path, "wb") as fh:
        fh.write(header.getvalue().encode("utf-8"))
        with pacsv.CSVWriter(fh, _schema(table, columns), write_options=options) as w:
            parts: list[tuple[int, dict]] = []
            pending = 0
            mine = [h for h, hole in enumerate(holes) if table in hole["tables"]]
            longest = max(mine, key=lambda h: holes[h]["n_bins"])
            for h in mine:
                part = _hole_rows(lily, holes[h], table, rng, stats, force=h == longest)
                parts.append((h, part))
                pending += part["depth"].size
                if pending >= BATCH_ROWS:
                    w.write_table(_arrow_batch(parts, holes, lily, table, columns, rng))
                    n_rows += pending
                    parts, pending = [], 0
            if parts:
                w.write_table(_arrow_batch(parts, holes, lily, table, columns, rng))
                n_rows += pending
    return n_rows


def write_synthetic_lily(
    output_dir: str | os.PathLike,
    scale: float = DEFAULT_SCALE,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the four SYNTHETIC raw LILY tables and ``lily.synthetic.json`` into a folder.

    Returns the sidecar (also written): the notice, parameters, and per file its name,
    rows, bytes and the counts of every deliberate artefact. Each file is written
    atomically; arguments are checked before anything is written.
    """
    bins = check_scale(scale)
    seed = _check_seed(seed)
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: exists and is not a directory")
    say = progress or (lambda _msg: None)
    lily = SyntheticLily(rows=bins, seed=seed)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, 1]).spawn(5)]
    holes = _holes(lily, streams[0])
    stats = _Stats()
    files = {}
    out.mkdir(parents=True, exist_ok=True)
    for t, table in enumerate(LILY_TABLES):
        rng = streams[t + 1]
        columns = _file_columns(table, rng)
        path = out / LILY_FILES[table]
        rows = {"n": 0}

        def writer(tmp: Path, table=table, rng=rng, columns=columns, rows=rows) -> None:
            rows["n"] = _write_file(tmp, lily, holes, table, columns, rng, stats)

        write_atomic(path, writer)
        n_holes = sum(table in h["tables"] for h in holes)
        files[table] = {
            "file": path.name,
            "rows": rows["n"],
            "bytes": path.stat().st_size,
            "boreholes": n_holes,
            "readings_per_bin": int(round(BIN_M / SPACING_M[table])),
            "artefacts": stats.data[table],
        }
        say(
            f"wrote {path} ({rows['n']:,} rows, {path.stat().st_size / 1e6:,.1f} MB, "
            f"{n_holes} boreholes)"
        )
    from lilyvae import __version__

    extra = [h for h in holes if h["extra"]]
    sidecar = {
        "synthetic": True,
        "notice": SYNTHETIC_NOTICE.replace(
            "lilyvae.synthetic.generator", "lilyvae.synthetic.lily_files"
        )
        + " These files imitate the raw LILY tables (Zenodo record 8408296).",
        "generator": "lilyvae.synthetic.lily_files",
        "generator_version": GENERATOR_VERSION,
        "lilyvae_version": __version__,
        "scale": float(scale),
        "seed": seed,
        "table_bins": bins,
        "boreholes": len(holes) - len(extra),
        "extra_boreholes": {h["id"]: list(h["tables"]) for h in extra},
        "total_rows": int(sum(f["rows"] for f in files.values())),
        "files": files,
        "parameters": {
            "spacing_m": SPACING_M,
            "first_offset_m": FIRST_OFFSET_M,
            "rates": RATES,
            "junk_tokens": list(JUNK_TOKENS),
            "rgb_reading_sd": RGB_READING_SD,
            "extra_hole_fraction": EXTRA_HOLE_FRACTION,
        },
    }
    write_json_atomic(out / SIDECAR_NAME, sidecar)
    return sidecar


def _schema(table: str, columns: list[str]) -> pa.Schema:
    types = {
        "Core": pa.int64(),
        "Sect": pa.int64(),
        "Test No.": pa.int64(),
        "Offset (cm)": pa.float64(),
        DEPTH_COLUMN: pa.float64(),
        "Depth CSF-B (m)": pa.float64(),
        LATITUDE_COLUMN: pa.float64(),
        LONGITUDE_COLUMN: pa.float64(),
        WATER_DEPTH_COLUMN: pa.float64(),
    }
    for col in MEASUREMENT_COLUMNS[table]:
        types[col] = pa.string() if JUNK_COLUMN.get(table) == col else pa.float64()
    types[EXTRA_COLUMNS[table][0]] = pa.float64()
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])
