"""The rows of a raw file as Arrow tables: the 25 metadata columns of the release, the
measurements (with junk text in some cells), and extra columns the build does not need.

Every file gets its columns in its own random order (:func:`file_columns`), as the
real files differ in order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lilyvae.data.lily.release import (
    DEPTH_COLUMN,
    LATITUDE_COLUMN,
    LONGITUDE_COLUMN,
    MEASUREMENT_COLUMNS,
    METADATA_COLUMNS,
    WATER_DEPTH_COLUMN,
)
from lilyvae.synthetic.counts import BIN_M
from lilyvae.synthetic.lily_files.artefacts import JUNK_COLUMN, JUNK_TOKENS
from lilyvae.synthetic.lily_files.readings import DEPTH_DECIMALS
from lilyvae.synthetic.measurements import SyntheticLily

INSTRUMENT = {"GRA": "GRA", "MS": "WRMSL", "NGR": "NGR", "RGB": "SHIL"}
#: Columns that are not needed to build the table, one set per file (they get in the way).
EXTRA_COLUMNS = {
    "GRA": ("Gamma counts (cps)", "Core diameter (cm)"),
    "MS": ("Magnetic susceptibility (SI)", "Loop sensor"),
    "NGR": ("NGR total counts error (cps)",),
    "RGB": ("Image ID", "L*"),
}
#: Lithology groups reported as igneous in "Lithology Type".
IGNEOUS_GROUPS = ["Mafic Igneous", "Intermediate/Felsic Igneous", "Ultramafic"]


def file_columns(table: str, rng: np.random.Generator) -> list[str]:
    """The file's columns, in a random order."""
    cols = list(METADATA_COLUMNS) + list(MEASUREMENT_COLUMNS[table]) + list(EXTRA_COLUMNS[table])
    return [cols[i] for i in rng.permutation(len(cols))]


def file_schema(table: str, columns: list[str]) -> pa.Schema:
    """Arrow types of the file's columns (text where junk is written)."""
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


def hole_columns(holes: list[dict], local: np.ndarray, hole_blank: np.ndarray) -> dict:
    """Columns that are the same for every reading of a hole (``local``: the hole of
    each reading, an index into ``holes``); ``Hole`` blank where ``hole_blank``."""

    def per_hole(values, dtype=None):
        return pa.array(np.asarray(values)[local], type=dtype)

    hole_names = np.array([h["hole"] for h in holes], dtype=object)[local]
    return {
        "Exp": per_hole([h["exp"] for h in holes], pa.string()),
        "Site": per_hole([h["site"] for h in holes], pa.string()),
        "Hole": pa.array(hole_names, pa.string(), hole_blank),
        LATITUDE_COLUMN: per_hole([round(h["lat"], 5) for h in holes]),
        LONGITUDE_COLUMN: per_hole([round(h["lon"], 5) for h in holes]),
        WATER_DEPTH_COLUMN: per_hole([round(h["water_depth"], 1) for h in holes]),
    }


def lithology_columns(cls: np.ndarray, lily: SyntheticLily) -> dict:
    """The lithology columns of each reading (``cls`` -1: blank)."""
    names = pa.array(lily.classes["Principal"].tolist(), pa.string())
    groups = lily.classes["Group"].to_numpy()
    cls_idx = pa.array(cls, mask=cls < 0)
    hard = np.isin(groups, IGNEOUS_GROUPS)
    litho_type = np.where(
        hard, "igneous", np.where(groups == "Metamorphic", "metamorphic", "sedimentary")
    )
    return {
        "Principal": names.take(cls_idx),
        "Full Lithology": names.take(cls_idx),
        "Simplified Lithology": pa.array(groups.astype(object), pa.string()).take(cls_idx),
        "Lithology Type": pa.array(litho_type.astype(object), pa.string()).take(cls_idx),
    }


def section_columns(batch: dict, tops: np.ndarray, idx: np.ndarray, table: str) -> dict:
    """Where each reading was taken (core, section, offset, depths), when and by what.

    ``tops``: the top edge (m) of each reading's hole; ``idx``: its hole's number.
    """
    depth, depth_out = batch["depth"], batch["depth_out"]
    n = depth.size
    rel = np.maximum(depth - np.maximum(tops, 0.0), 0.0)
    core = (rel // 9.5).astype(np.int64) + 1
    rel_core = rel - (core - 1) * 9.5
    sect = np.minimum((rel_core // 1.5).astype(np.int64) + 1, 7)
    offset = np.round((rel_core - (sect - 1) * 1.5) * 100.0, 1)
    kind = np.where(depth < 250.0, 0, np.where(depth < 600.0, 1, 2))
    seconds = 1_356_998_400 + idx * 86_400 + np.arange(n) % 86_400
    section_id = idx * 100_000 + core * 10 + sect
    return {
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
        "Suffix": pa.nulls(n, pa.string()),
        "Expanded Core Type": pa.array(np.array(["APC", "XCB", "RCB"])[kind]),
    }


def measurement_columns(batch: dict, table: str, rng: np.random.Generator) -> dict:
    """The measurements (junk text in the file's junk column) and the extra columns."""
    vals, n = batch["values"], batch["depth"].size
    data = {}
    for j, col in enumerate(MEASUREMENT_COLUMNS[table]):
        v = vals[:, j]
        arr = pa.array(v, mask=np.isnan(v))
        if JUNK_COLUMN.get(table) == col:
            text = pc.cast(arr, pa.string())
            tokens = np.array(JUNK_TOKENS, dtype=object)[rng.integers(0, len(JUNK_TOKENS), n)]
            arr = pc.if_else(pa.array(batch["junk"]), pa.array(tokens, pa.string()), text)
        data[col] = arr
    for k, col in enumerate(EXTRA_COLUMNS[table]):
        if k == 0:
            data[col] = pa.array(np.round(rng.uniform(0, 100, n), 2))
        else:
            data[col] = pa.array(np.full(n, f"{table.lower()}-{k}"))
    return data


def arrow_batch(
    parts: list[tuple[int, dict]],
    holes: list[dict],
    lily: SyntheticLily,
    table: str,
    columns: list[str],
    rng: np.random.Generator,
) -> pa.Table:
    """Arrow table of the kept rows of several holes (``(hole number, rows)`` as
    :func:`~lilyvae.synthetic.lily_files.artefacts.hole_rows` gives them), columns in
    file order."""
    sizes = [p["depth"].size for _, p in parts]
    idx = np.repeat(np.array([h for h, _ in parts], dtype=np.int64), sizes)
    keys = ("depth", "depth_out", "cls", "values", "hole_blank", "junk")
    batch = {key: np.concatenate([p[key] for _, p in parts]) for key in keys}
    batch_holes = [holes[h] for h, _ in parts]
    local = np.repeat(np.arange(len(parts)), sizes)
    tops = np.array([(h["first_bin"] - 0.5) * BIN_M for h in batch_holes])
    data = {
        **hole_columns(batch_holes, local, batch["hole_blank"]),
        **section_columns(batch, tops[local], idx, table),
        **lithology_columns(batch["cls"], lily),
        **measurement_columns(batch, table, rng),
    }
    return pa.table({c: data[c] for c in columns})
