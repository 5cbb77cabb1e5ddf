"""The build's manifest (``<stem>.manifest.json``): what was built, from what, by which rules.

It records the output (rows, boreholes, lithologies, columns), the rules as parameters,
each input's size and sha256, each file's counts (rows read, dropped by reason, bins),
the join and filter counts, timings, and the reference's own counts from its build of
the real table, for comparison. Built from synthetic files, it says so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lilyvae.data.lily.combine import Reduction
from lilyvae.data.lily.outputs import sidecar_paths
from lilyvae.data.lily.release import DEPTH_COLUMN, NA_TOKENS, PRINCIPAL_COLUMN
from lilyvae.data.lily.rules import GRA_RANGE, RGB_RANGE, depth_decimals
from lilyvae.data.schema import TABLE_COLUMNS

#: What the reference logged when it built the real table (reference/README.md).
REFERENCE_COUNTS = {
    "what": "the reference's own log of its build from the real LILY release, for comparison",
    "rows_read": {"GRA": 4_134_647, "MS": 4_081_560, "NGR": 822_161, "RGB": 10_789_797},
    "bins": {"GRA": 423_244, "MS": 422_925, "NGR": 405_474, "RGB": 253_916},
    "boreholes": {"GRA": 534, "MS": 534, "NGR": 524, "RGB": 304},
    "rows_after_join": {"MS": 422_834, "NGR": 403_391, "RGB": 238_767},
    # GRA x MS x NGR bins: 403,391 of 524 boreholes; with colour 238,767 of 304.
    "boreholes_after_join": {"NGR": 524, "RGB": 304},
    "gra_outliers_removed": 261,
    "rows": 238_506,
    "boreholes_final": 296,
    "lithologies": 139,
    "wall_time_s": 404,
}


def rule_parameters(
    bin_size: float, threads: int, memory_limit: str, keep_partial: bool = False
) -> dict:
    """The manifest's ``parameters``: the rules, spelled out, and DuckDB's bounds."""
    decimals = depth_decimals(bin_size)
    join = "inner on (Borehole_ID, bin index): GRA x MS x NGR x RGB"
    if keep_partial:
        join = (
            "inner on (Borehole_ID, bin index): GRA x MS x NGR, then left join RGB: bins "
            "without colour kept with R, G, B empty (--keep-partial)"
        )
    return {
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
        "join": join,
        "keep_partial": keep_partial,
        "gra_range": list(GRA_RANGE),
        "rgb_range": list(RGB_RANGE),
        "threads": threads,
        "memory_limit": str(memory_limit),
    }


def output_record(output: Path, fmt: str, reduction: Reduction) -> dict:
    """The manifest's ``output``; its ``sha256`` is filled in when the table is written."""
    table = reduction.table
    return {
        "table": str(output),
        "format": fmt,
        "sha256": None,
        "rows": int(len(table)),
        "boreholes": int(table["Borehole_ID"].nunique()),
        "lithologies": int(table["Principal"].nunique()),
        "columns": list(TABLE_COLUMNS),
        "sorted_by": ["Borehole_ID", "Depth_Bin"],
        "boreholes_table": str(sidecar_paths(output)[0]),
    }


def input_files(
    inputs: dict[str, Path], sizes: dict[str, int], sha256: dict[str, str]
) -> dict[str, dict]:
    """The manifest's ``inputs``: each file's name, path, size and sha256."""
    return {
        t: {"file": path.name, "path": str(path), "bytes": sizes[t], "sha256": sha256[t]}
        for t, path in inputs.items()
    }


def make_manifest(
    output: Path,
    fmt: str,
    reduction: Reduction,
    inputs: dict[str, dict],
    parameters: dict,
    timings: dict[str, float],
    synthetic_note: Path | None,
) -> dict:
    """The manifest, less what only writing the table tells (its sha256, the write time
    and the wall time: ``None`` or absent until then). ``inputs`` as
    :func:`input_files` gives it; ``synthetic_note``: the sidecar of synthetic inputs."""
    from lilyvae import __version__

    manifest = {
        "what": "training table built from the raw LILY files by lilyvae build-dataset",
        "synthetic_inputs": synthetic_note is not None,
        "lilyvae_version": __version__,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "output": output_record(output, fmt, reduction),
        "parameters": parameters,
        "inputs": inputs,
        "tables": reduction.counts,
        "join": reduction.join,
        "filters": reduction.filters,
        "colour": reduction.colour,
        "boreholes_with_varying_position": reduction.boreholes.attrs["positions_vary"],
        "reference_counts": REFERENCE_COUNTS,
        "timings_s": timings,
        "wall_time_s": None,
    }
    if synthetic_note is not None:
        manifest["synthetic_notice"] = (
            f"built from SYNTHETIC LILY-like files (see {synthetic_note}): no value in this "
            "table is a measurement"
        )
    if not reduction.boreholes.attrs["has_positions"]:
        manifest["boreholes_positions"] = (
            "GRA_DataLITH.csv lacks latitude/longitude/water depth columns; left empty"
        )
    return manifest
