"""``build_dataset``: the raw LILY files in, the training table and its sidecars out.

It checks everything it can before reading (arguments, the four files and their
headers, the output names), starts the checksums, lets DuckDB reduce and combine the
files, and writes the three outputs with the manifest. Each step is a module of this
package; this one only puts them in order.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from lilyvae.data.lily.checksums import InputChecksums
from lilyvae.data.lily.combine import reduce_files
from lilyvae.data.lily.inputs import locate_inputs, read_header
from lilyvae.data.lily.manifest import input_files, make_manifest, rule_parameters
from lilyvae.data.lily.outputs import check_output, sidecar_paths, write_outputs
from lilyvae.data.lily.progress import BuildLog, human_size
from lilyvae.data.lily.release import SYNTHETIC_SIDECAR_NAME
from lilyvae.data.lily.rules import DEFAULT_BIN_SIZE, check_bin_size
from lilyvae.data.lily.scan import duckdb_session
from lilyvae.errors import LilyVAEError

DEFAULT_MEMORY_LIMIT = "1GB"


def check_threads(threads) -> int:
    """DuckDB's thread count: ``threads``, or every core when it is None."""
    if threads is not None and (isinstance(threads, bool) or int(threads) < 1):
        raise LilyVAEError(f"--threads must be a positive whole number, not {threads!r}")
    return int(threads) if threads else max(1, os.cpu_count() or 1)


def build_dataset(
    lily_dir: str | os.PathLike,
    output: str | os.PathLike,
    bin_size: float = DEFAULT_BIN_SIZE,
    progress: bool | Callable[[str], None] = True,
    *,
    threads: int | None = None,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    keep_partial: bool = False,
) -> dict:
    """Build the training table from a folder holding the raw LILY CSV files.

    Writes ``output`` (CSV or Parquet by extension), ``<stem>.boreholes.csv`` and
    ``<stem>.manifest.json`` beside it, each atomically and only once everything has
    been computed (bad input writes nothing). Returns the manifest.

    ``keep_partial``: also keep the bins that have GRA, MS and NGR but no colour, their
    R, G and B empty (in the real data 41% of those bins, and 220 of their 524
    boreholes, have none); the table's complete rows are then the default table. The
    manifest's ``colour`` section counts both kinds of bin either way.

    ``progress``: True logs to stderr (with a progress bar on a terminal), a callable
    receives each log line, False is silent. ``threads`` (default: all cores) and
    ``memory_limit`` (a DuckDB size such as "1GB") bound DuckDB.
    """
    started = time.perf_counter()
    bin_size = check_bin_size(bin_size)
    n_threads = check_threads(threads)
    lily_dir, output = Path(lily_dir), Path(output)
    inputs = locate_inputs(lily_dir)
    fmt = check_output(output, inputs)
    headers = {t: read_header(p, t) for t, p in inputs.items()}
    sizes = {t: p.stat().st_size for t, p in inputs.items()}
    log = BuildLog(progress)
    note = lily_dir / SYNTHETIC_SIDECAR_NAME
    synthetic_note = note if note.is_file() else None
    size = human_size(sum(sizes.values()))
    log(
        f"build-dataset: {len(inputs)} LILY tables in {lily_dir} ({size}), {bin_size:g} m bins"
        + (", bins without colour kept" if keep_partial else "")
        + ("  [SYNTHETIC inputs]" if synthetic_note else "")
    )
    checksums = InputChecksums(inputs)
    try:
        with duckdb_session(n_threads, memory_limit) as con:
            reduction = reduce_files(con, lily_dir, inputs, headers, bin_size, log, keep_partial)
    except BaseException:
        checksums.cancel()
        raise
    t0 = time.perf_counter()
    sha256 = checksums.wait()
    timings = {
        **{f"read_{t}": s for t, s in reduction.seconds_read.items()},
        "join_filter_sort": round(reduction.seconds_join, 3),
        "checksums": round(checksums.seconds, 3),
        "waiting_for_checksums": round(time.perf_counter() - t0, 3),
    }
    files = input_files(inputs, sizes, sha256)
    parameters = rule_parameters(bin_size, n_threads, memory_limit, keep_partial)
    manifest = make_manifest(output, fmt, reduction, files, parameters, timings, synthetic_note)
    write_outputs(output, fmt, reduction.table, reduction.boreholes, manifest, started)
    out = manifest["output"]
    bh_path, manifest_path = sidecar_paths(output)
    log(
        f"final: {out['rows']:,} rows, {out['boreholes']:,} boreholes, "
        f"{out['lithologies']:,} lithologies; wrote {output}, {bh_path.name}, "
        f"{manifest_path.name} in {manifest['wall_time_s']:.1f} s"
    )
    return manifest
