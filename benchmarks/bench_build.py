"""Building the training table: lilyvae's out-of-core builder against plain pandas.

Writes SYNTHETIC raw LILY tables (``lilyvae synth-lily``; at least 5 M rows in all), then
builds the training table from them twice, each in its own child process:

(a) ``lilyvae.lily.build_dataset`` (DuckDB, streaming aggregation; it also checksums
    its inputs and writes the borehole table and the manifest);
(b) a straightforward pandas implementation of the same rules, the way the reference
    did it: read each whole file (only the needed columns), groupby, merge.

It checks that both tables are identical, and prints the wall time and the peak memory
(max RSS of the child, from ``os.wait4``) of each, side by side, with the ratios.

    .venv/bin/python benchmarks/bench_build.py [--scale 0.5] [--work-dir runs/bench_build]

The raw files are generated once per scale and seed and reused. Both builds read them
from a warm page cache (the files are read once before the timed runs). Timings are
whatever this machine gives on this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data import TABLE_COLUMNS, write_table
from lilyvae.lily import (
    DEPTH_COLUMN,
    GRA_RANGE,
    ID_COLUMNS,
    LILY_FILES,
    LILY_TABLES,
    MEASUREMENT_COLUMNS,
    PRINCIPAL_COLUMN,
    RGB_RANGE,
    depth_bin_value,
)

KEYS = ["Borehole_ID", "bin"]


# -- (b) the pandas implementation --------------------------------------------------------
def pandas_bin_table(path: Path, table: str, bin_size: float) -> pd.DataFrame:
    """One file: drop incomplete rows, bin, mean per bin, most frequent Principal."""
    meas = list(MEASUREMENT_COLUMNS[table])
    df = pd.read_csv(
        path,
        usecols=[*ID_COLUMNS, DEPTH_COLUMN, PRINCIPAL_COLUMN, *meas],
        dtype={c: str for c in (*ID_COLUMNS, PRINCIPAL_COLUMN)},
        low_memory=False,
    )
    for col in [DEPTH_COLUMN, *meas]:
        values = pd.to_numeric(df[col], errors="coerce")  # junk -> NaN
        df[col] = values.where(np.isfinite(values))
    df["Borehole_ID"] = df["Exp"] + "-" + df["Site"] + "-" + df["Hole"]
    df = df.dropna(subset=["Borehole_ID", DEPTH_COLUMN, PRINCIPAL_COLUMN, *meas])
    df["bin"] = np.rint(df[DEPTH_COLUMN] / bin_size).astype(np.int64)
    means = df.groupby(KEYS)[meas].mean()
    votes = df.groupby([*KEYS, PRINCIPAL_COLUMN]).size().rename("n").reset_index()
    votes = votes.sort_values([*KEYS, "n", PRINCIPAL_COLUMN], ascending=[True, True, False, True])
    mode = votes.drop_duplicates(KEYS).set_index(KEYS)[PRINCIPAL_COLUMN]
    return means.join(mode).reset_index()


def pandas_build(lily_dir: Path, output: Path, bin_size: float = 0.2) -> None:
    binned = {t: pandas_bin_table(lily_dir / LILY_FILES[t], t, bin_size) for t in LILY_TABLES}
    merged = binned["GRA"]
    for t in ("MS", "NGR", "RGB"):
        merged = merged.merge(binned[t].drop(columns=PRINCIPAL_COLUMN), on=KEYS, how="inner")
    gra = merged[MEASUREMENT_COLUMNS["GRA"][0]]
    merged = merged[(gra >= GRA_RANGE[0]) & (gra <= GRA_RANGE[1])]
    rgb = merged[["R", "G", "B"]]
    merged = merged[((rgb >= RGB_RANGE[0]) & (rgb <= RGB_RANGE[1])).all(axis=1)]
    merged = merged.sort_values(KEYS)
    merged["Depth_Bin"] = depth_bin_value(merged["bin"].to_numpy(), bin_size)
    write_table(merged[list(TABLE_COLUMNS)].reset_index(drop=True), output)


# -- child processes ------------------------------------------------------------------
def child(kind: str, lily_dir: str, output: str) -> None:
    if kind == "lilyvae":
        from lilyvae.lily import build_dataset

        build_dataset(lily_dir, output, progress=False)
    else:
        pandas_build(Path(lily_dir), Path(output))


def measure(kind: str, lily_dir: Path, output: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one build in a fresh child process."""
    cmd = [sys.executable, __file__, "--child", kind, str(lily_dir), str(output)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"the {kind} build failed (exit {proc.returncode})")
    return seconds, usage.ru_maxrss / 1024.0  # Linux: kilobytes


# -- comparison -----------------------------------------------------------------------
def compare(a: Path, b: Path) -> tuple[bool, str]:
    if a.read_bytes() == b.read_bytes():
        return True, "byte-identical files"
    x = pd.read_csv(a, dtype={"Borehole_ID": str, "Principal": str})
    y = pd.read_csv(b, dtype={"Borehole_ID": str, "Principal": str})
    if list(x.columns) != list(y.columns) or len(x) != len(y):
        return False, f"different shapes {x.shape} vs {y.shape}"
    for col in ("Borehole_ID", "Depth_Bin", "Principal"):
        if not x[col].equals(y[col]):
            return False, f"column {col!r} differs"
    worst = 0.0
    unequal = 0
    for col in TABLE_COLUMNS:
        if col in ("Borehole_ID", "Depth_Bin", "Principal"):
            continue
        u, v = x[col].to_numpy(), y[col].to_numpy()
        unequal += int((u != v).sum())
        worst = max(worst, float(np.max(np.abs(u - v) / np.maximum(np.abs(v), 1e-300))))
    same = worst <= 1e-12
    return same, (
        f"same rows, keys and labels; {unequal} measurement values differ in the last "
        f"digits (max relative difference {worst:.1e})"
    )


def ensure_inputs(lily_dir: Path, scale: float, seed: int) -> dict:
    from lilyvae.synth_lily import GENERATOR_VERSION, SIDECAR_NAME, write_synthetic_lily

    note = lily_dir / SIDECAR_NAME
    if note.is_file():
        meta = json.loads(note.read_text())
        if (
            meta.get("scale") == scale
            and meta.get("seed") == seed
            and meta.get("generator_version") == GENERATOR_VERSION
            and all((lily_dir / f).is_file() for f in LILY_FILES.values())
        ):
            print(f"reusing SYNTHETIC raw tables in {lily_dir}")
            return meta
    print(f"writing SYNTHETIC raw LILY tables (scale {scale}, seed {seed}) to {lily_dir} ...")
    t0 = time.perf_counter()
    meta = write_synthetic_lily(lily_dir, scale=scale, seed=seed, progress=print)
    print(f"  done in {time.perf_counter() - t0:.1f} s")
    return meta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=0.5, help="synth-lily scale (0.5: ~7 M rows)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", default="runs/bench_build")
    parser.add_argument(
        "--child", nargs=3, metavar=("KIND", "LILY_DIR", "OUTPUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    work = Path(args.work_dir)
    lily_dir = work / f"lily_scale{args.scale:g}_seed{args.seed}"
    meta = ensure_inputs(lily_dir, args.scale, args.seed)
    files = [lily_dir / LILY_FILES[t] for t in LILY_TABLES]
    total_bytes = sum(f.stat().st_size for f in files)
    print(
        f"inputs: {meta['total_rows']:,} rows in 4 files, {total_bytes / 1e9:.2f} GB "
        + "("
        + ", ".join(f"{t} {meta['files'][t]['rows']:,}" for t in LILY_TABLES)
        + ")"
    )
    for f in files:  # warm the page cache so both builds read from memory
        with open(f, "rb") as fh:
            while fh.read(64 << 20):
                pass
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} logical CPUs, "
        f"Python {platform.python_version()}, pandas {pd.__version__}"
    )
    out_dir = work / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    for kind in ("pandas", "lilyvae"):
        out = out_dir / f"{kind}.csv"
        print(f"building with {kind} ...", flush=True)
        results[kind] = measure(kind, lily_dir, out)
        print(f"  {results[kind][0]:.1f} s, peak RSS {results[kind][1]:,.0f} MB", flush=True)
    same, how = compare(out_dir / "lilyvae.csv", out_dir / "pandas.csv")
    manifest = json.loads((out_dir / "lilyvae.manifest.json").read_text())
    rows = manifest["output"]["rows"]

    (tp, mp), (tl, ml) = results["pandas"], results["lilyvae"]
    print()
    print(f"output: {rows:,} rows; identical: {'YES' if same else 'NO'} ({how})")
    print()
    print(f"{'':28}{'pandas':>12}{'lilyvae':>12}{'ratio':>14}")
    print(f"{'wall time (s)':28}{tp:12.1f}{tl:12.1f}{tp / tl:13.1f}x faster")
    print(f"{'peak memory, max RSS (MB)':28}{mp:12,.0f}{ml:12,.0f}{ml / mp:13.2f} of pandas")
    print(
        f"{'throughput (MB/s of CSV)':28}{total_bytes / 1e6 / tp:12.0f}"
        f"{total_bytes / 1e6 / tl:12.0f}"
    )
    print()
    print(
        "targets: >= 5x faster: "
        + ("met" if tp / tl >= 5 else "NOT met")
        + "; <= 1/3 of the peak memory: "
        + ("met" if ml / mp <= 1 / 3 else "NOT met")
    )
    print(
        "(lilyvae's time includes sha256 of every input, the borehole table and the "
        "manifest; pandas does none of these)"
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
