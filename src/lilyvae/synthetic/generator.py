"""The synthetic training table: generating it, and writing it with its sidecar.

Everything this writes is SYNTHETIC. :func:`write_synthetic_table` writes the table (CSV
or Parquet) and ``<stem>.synthetic.json`` beside it, which says so and records the seed,
the generator's version and its parameters; the same seed and size always give the same
bytes. The data themselves come from :class:`lilyvae.synthetic.measurements.SyntheticLily`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from lilyvae.data.boreholes import borehole_table as boreholes_frame
from lilyvae.data.boreholes import borehole_table_path
from lilyvae.data.provenance import synthetic_sidecar_path, write_marked_table
from lilyvae.data.schema import BOREHOLE_COL, LABEL_COL, TABLE_COLUMNS
from lilyvae.data.tables import table_format
from lilyvae.files import atomic_paths, check_output_path, sha256_file, to_json
from lilyvae.synthetic.counts import check_rows, check_seed
from lilyvae.synthetic.measurements import SyntheticLily
from lilyvae.synthetic.overlap import DEFAULT_GENERATOR_VERSION, check_generator_version
from lilyvae.synthetic.partial import PartialColour

#: Bumped whenever the same seed would give a different table: the sidecar's version of
#: each generator version (``synth --generator-version``) and the default.
GENERATOR_VERSIONS = {1: "1.0", 2: "2.0", 3: "3.0"}
GENERATOR_VERSION = GENERATOR_VERSIONS[DEFAULT_GENERATOR_VERSION]

#: Said by every file the synthetic stage writes (the raw files' sidecar names its own
#: module instead).
SYNTHETIC_NOTICE = (
    "SYNTHETIC data made by lilyvae's generator (lilyvae.synthetic.generator): it is not real LILY "
    "data and no value in it is a measurement."
)


def generate_table(
    rows: int | None = None, seed: int = 0, version: int = DEFAULT_GENERATOR_VERSION
) -> pd.DataFrame:
    """The synthetic training table: ``rows`` rows (default 238,506), the nine columns
    of TABLE_COLUMNS in order, sorted by borehole (boreholes.csv order) then depth.
    ``version`` 1 gives the first generator's tables (easier than the real data)."""
    return SyntheticLily(rows=rows, seed=seed, version=version).table()


def sidecar_path(path: str | os.PathLike) -> Path:
    """``<path without suffix>.synthetic.json`` (the name
    :func:`lilyvae.data.provenance.table_provenance` reads)."""
    return synthetic_sidecar_path(path)


def write_synthetic_table(
    path: str | os.PathLike,
    rows: int | None = None,
    seed: int = 0,
    *,
    borehole_table: bool = False,
    partial: bool = False,
    version: int = DEFAULT_GENERATOR_VERSION,
) -> Path:
    """Write the synthetic table (CSV or Parquet by extension) and its sidecar JSON;
    with ``borehole_table``, also ``<stem>.boreholes.csv`` (the boreholes' SYNTHETIC
    positions and depth ranges, from which the map figure is drawn).

    ``partial``: add bins without colour (R, G, B empty) in the real proportions: gaps
    in the colour scans of the ``rows`` bins, and boreholes never colour-scanned
    (:mod:`lilyvae.synthetic.partial`); without it, the table of ``rows`` complete
    bins, the same for the same seed as ever. ``version``: the generator's version (1: the
    first generator's tables, byte for byte; 2: lithologies overlap as much as on real
    cores, :mod:`lilyvae.synthetic.overlap`; 3, the default: lithology groups of several
    facies, which trees separate better than a linear model, :mod:`lilyvae.synthetic.facies`).

    The files are written as a set (all or none, the sidecar landing first); arguments
    are checked before anything is generated or written. Returns the table's path.
    """
    fmt = table_format(path)
    rows = check_rows(rows)
    seed = check_seed(seed)
    version = check_generator_version(version)
    path = check_output_path(path)
    lily = SyntheticLily(rows=rows, seed=seed, version=version)
    colour = PartialColour(lily) if partial else None
    df = lily.table() if colour is None else colour.table()
    sidecar = sidecar_record(df, lily, colour, path, fmt, rows, seed)
    # The set lands together or not at all, the sidecar first: a table is never on disk
    # without the mark that says it is SYNTHETIC.
    names = [path, borehole_table_path(path)] if borehole_table else [path]
    with atomic_paths([*names, sidecar_path(path)]) as temporary:
        write_marked_table(df, temporary[0], fmt)
        sidecar["sha256"] = sha256_file(temporary[0])
        if borehole_table:
            positions = (colour or lily).boreholes
            boreholes_frame(df, positions).to_csv(temporary[1], index=False)
        temporary[-1].write_text(to_json(sidecar), encoding="utf-8")
    return path


def sidecar_record(df, lily, colour, path: Path, fmt: str, rows: int, seed: int) -> dict:
    """The sidecar of a synthetic table (its sha256 is added once the table is written)."""
    from lilyvae import __version__

    sidecar = {
        "synthetic": True,
        "notice": SYNTHETIC_NOTICE,
        "table": path.name,
        "format": fmt,
        "sha256": None,
        "generator": "lilyvae.synthetic.generator",
        "generator_version": GENERATOR_VERSIONS[lily.version],
        "lilyvae_version": __version__,
        "seed": seed,
        "rows": int(len(df)),
        "n_boreholes": int(df[BOREHOLE_COL].nunique()),
        "n_classes": int(df[LABEL_COL].nunique()),
        "columns": list(TABLE_COLUMNS),
        "parameters": lily.parameters(),
    }
    if colour is not None:
        sidecar["generator_rows"] = rows  # the bins with a colour scan, or a gap in it
        sidecar["partial"] = colour.record()
    return sidecar


def synthetic_boreholes(sidecar: dict) -> pd.DataFrame:
    """The boreholes of the synthetic table a sidecar describes, with their SYNTHETIC
    positions (``SyntheticLily.boreholes``'s columns), rebuilt from its rows and seed."""
    # The boreholes and their beds are the same in every generator version.
    lily = SyntheticLily(rows=sidecar.get("generator_rows", sidecar["rows"]), seed=sidecar["seed"])
    return PartialColour(lily).boreholes if sidecar.get("partial") else lily.boreholes
