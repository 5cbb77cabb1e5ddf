"""Writing the four raw files and ``lily.synthetic.json`` into a folder.

Each file is written in batches of holes through Arrow's CSV writer; the sidecar says
the files are SYNTHETIC and counts every deliberate artefact in each. The five land as
a set (all or none), the sidecar first.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv

from lilyvae.data.lily.release import LILY_FILES, LILY_TABLES, SYNTHETIC_SIDECAR_NAME
from lilyvae.errors import LilyVAEError
from lilyvae.files import atomic_paths, to_json
from lilyvae.synthetic.counts import BIN_M, DEFAULT_ROWS, check_seed, minimum_rows
from lilyvae.synthetic.generator import SYNTHETIC_NOTICE
from lilyvae.synthetic.lily_files.artefacts import JUNK_TOKENS, RATES, ArtefactCounts, hole_rows
from lilyvae.synthetic.lily_files.holes import EXTRA_HOLE_FRACTION, borehole_holes, make_holes
from lilyvae.synthetic.lily_files.readings import FIRST_OFFSET_M, RGB_READING_SD, SPACING_M
from lilyvae.synthetic.lily_files.rows import arrow_batch, file_columns, file_schema
from lilyvae.synthetic.measurements import SyntheticLily
from lilyvae.synthetic.partial import GAP_FRACTION, PartialColour

#: Bumped whenever the same scale and seed would give different files.
GENERATOR_VERSION = "1.1"

SIDECAR_NAME = SYNTHETIC_SIDECAR_NAME

DEFAULT_SCALE = 0.1

#: Rows written per CSV batch.
BATCH_ROWS = 400_000


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


def write_file(
    path: Path,
    lily: SyntheticLily,
    holes: list[dict],
    table: str,
    columns: list[str],
    rng: np.random.Generator,
    counts: ArtefactCounts,
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
        with pacsv.CSVWriter(fh, file_schema(table, columns), write_options=options) as w:
            parts: list[tuple[int, dict]] = []
            pending = 0
            mine = [h for h, hole in enumerate(holes) if table in hole["tables"]]
            longest = max(mine, key=lambda h: holes[h]["n_bins"])
            for h in mine:
                part = hole_rows(lily, holes[h], table, rng, counts, force=h == longest)
                parts.append((h, part))
                pending += part["depth"].size
                if pending >= BATCH_ROWS:
                    w.write_table(arrow_batch(parts, holes, lily, table, columns, rng))
                    n_rows += pending
                    parts, pending = [], 0
            if parts:
                w.write_table(arrow_batch(parts, holes, lily, table, columns, rng))
                n_rows += pending
    return n_rows


def write_table_file(
    tmp: Path,
    lily: SyntheticLily,
    holes: list[dict],
    table: str,
    rng: np.random.Generator,
    counts: ArtefactCounts,
) -> dict:
    """Write ``<table>_DataLITH.csv`` to ``tmp`` (the temporary file of its set); its
    entry of the sidecar's ``files``."""
    columns = file_columns(table, rng)
    rows = write_file(tmp, lily, holes, table, columns, rng, counts)
    return {
        "file": LILY_FILES[table],
        "rows": rows,
        "bytes": tmp.stat().st_size,
        "boreholes": sum(table in h["tables"] for h in holes),
        "readings_per_bin": int(round(BIN_M / SPACING_M[table])),
        "artefacts": counts.data[table],
    }


def sidecar_record(
    scale: float, seed: int, bins: int, holes: list[dict], files: dict, partial=None
) -> dict:
    """``lily.synthetic.json``: the notice, what was asked, the holes, and the files
    (and, with ``partial``, the bins without colour: a PartialColour)."""
    from lilyvae import __version__

    extra = [h for h in holes if h["extra"]]
    record = {
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
    if partial is not None:
        record["partial"] = partial.record()
        record["partial"]["rgb_file"] = (
            "lacks the boreholes without a colour scan and the gaps' readings"
        )
    return record


def partial_colour(lily: SyntheticLily, holes: list[dict]) -> PartialColour:
    """The bins without colour of ``synth-lily --partial``: those of ``synth
    --partial``, less what the files lack in RGB already (extra holes in GRA, MS and
    NGR only; random gaps in the RGB file), so that the built table has the real
    proportions."""
    rgb_gaps = RATES["gap_bins"]["RGB"]
    without = [h for h in holes if h["extra"] and "RGB" not in h["tables"]]
    without = [h for h in without if {"GRA", "MS", "NGR"} <= set(h["tables"])]
    bins = sum(h["n_bins"] for h in without) + rgb_gaps * lily.rows
    return PartialColour(
        lily, gap_fraction=max(GAP_FRACTION - rgb_gaps, 0.0), present=(len(without), bins)
    )


def write_synthetic_lily(
    output_dir: str | os.PathLike,
    scale: float = DEFAULT_SCALE,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
    *,
    partial: bool = False,
) -> dict:
    """Write the four SYNTHETIC raw LILY tables and ``lily.synthetic.json`` into a folder.

    Returns the sidecar (also written): the notice, parameters, and per file its name,
    rows, bytes and the counts of every deliberate artefact. The files are written as a
    set (all or none); arguments are checked before anything is written.

    ``partial``: the RGB file lacks what ``lilyvae synth --partial`` leaves without
    colour (gaps in the colour scans, and boreholes never scanned, which the other
    three files hold), so ``build-dataset --keep-partial`` finds bins without colour
    in the real proportions. Without it, the same files for the same seed as ever.
    """
    bins = check_scale(scale)
    seed = check_seed(seed, "--seed")
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: exists and is not a directory")
    say = progress or (lambda _msg: None)
    lily = SyntheticLily(rows=bins, seed=seed)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence([seed, 1]).spawn(5)]
    holes = make_holes(lily, streams[0])
    colour = None
    if partial:
        colour = partial_colour(lily, holes)
        holes += borehole_holes(colour.colourless, tables=("GRA", "MS", "NGR"))
    counts = ArtefactCounts()
    files = {}
    out.mkdir(parents=True, exist_ok=True)
    # The five files land together or not at all, the sidecar first: no raw file is on
    # disk without the mark that says it is SYNTHETIC.
    names = [out / LILY_FILES[table] for table in LILY_TABLES]
    with atomic_paths([*names, out / SIDECAR_NAME]) as temporary:
        for t, table in enumerate(LILY_TABLES):
            files[table] = entry = write_table_file(
                temporary[t], colour or lily, holes, table, streams[t + 1], counts
            )
            say(
                f"wrote {out / entry['file']} ({entry['rows']:,} rows, "
                f"{entry['bytes'] / 1e6:,.1f} MB, {entry['boreholes']} boreholes)"
            )
        sidecar = sidecar_record(scale, seed, bins, holes, files, colour)
        temporary[-1].write_text(to_json(sidecar), encoding="utf-8")
    return sidecar
