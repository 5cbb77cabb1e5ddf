"""The build's three outputs: the table, ``<stem>.boreholes.csv`` and ``<stem>.manifest.json``.

They are checked before any work (a name that cannot be written, or one that would
overwrite an input, is refused) and written only once everything has been computed,
as a set (all or none): the manifest, which holds the table's sha256 and whether its
raw files were SYNTHETIC, lands first.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from lilyvae.data.provenance import sidecar_paths
from lilyvae.data.tables import table_format, write_table
from lilyvae.errors import LilyVAEError
from lilyvae.files import atomic_paths, check_output_path, sha256_file, to_json


def check_output(output: Path, inputs: dict[str, Path]) -> str:
    """The output's format ("csv" or "parquet"); an error if it or a sidecar cannot be
    written or would overwrite an input."""
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


def write_outputs(
    output: Path,
    fmt: str,
    table: pd.DataFrame,
    boreholes: pd.DataFrame,
    manifest: dict,
    started: float,
) -> None:
    """Write the three files, completing the manifest first: the table's sha256, the
    write time, and the build's wall time since ``started`` (``time.perf_counter()``)."""
    bh_path, manifest_path = sidecar_paths(output)
    t0 = time.perf_counter()
    # The set lands together or not at all, the manifest (which says whether the raw
    # files were SYNTHETIC) first: a table is never on disk without it.
    with atomic_paths([output, bh_path, manifest_path]) as (tmp_table, tmp_bh, tmp_manifest):
        write_table(table, tmp_table, fmt)
        boreholes.to_csv(tmp_bh, index=False)
        manifest["output"]["sha256"] = sha256_file(tmp_table)
        manifest["timings_s"]["write"] = round(time.perf_counter() - t0, 3)
        manifest["wall_time_s"] = round(time.perf_counter() - started, 3)
        tmp_manifest.write_text(to_json(manifest), encoding="utf-8")
