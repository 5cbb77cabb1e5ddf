"""Building the training table: lilyvae's out-of-core builder against plain pandas.

Writes SYNTHETIC raw LILY tables (``lilyvae synth-lily``; at least 5 M rows in all), then
builds the training table from them three times, each in a fresh child process:

(a) ``lilyvae.data.lily.build_dataset`` (DuckDB, streaming aggregation; it also checksums
    its inputs and writes the borehole table and the manifest);
(b) a straightforward pandas implementation of the same rules, the way the reference
    did it: read each whole file into memory, groupby, merge; in two variants:
    "pandas-all" reads every column, as the reference did, "pandas" only the seven it
    needs (``usecols``: a stronger baseline). These children import pandas and NumPy
    only.

It checks that all tables hold the same rows, keys and labels and the same values
(bit for bit, or within the last bits of the summation: pandas sums a bin's readings in
file order, DuckDB in its own order with a compensated sum), and prints for each build:
the wall time of the build itself (interpreter start and imports excluded), the wall
time of the whole process, its CPU time, and its peak memory (max RSS, from
``os.wait4``), with the ratios.

    .venv/bin/python benchmarks/bench_build.py [--scale 0.5] [--repeat 1] \\
        [--work-dir runs/bench_build] [--no-pandas-all]

The raw files are generated once per scale and seed and reused. All builds read them
from a warm page cache (the files are read once before the timed runs). With --repeat N
each build runs N times, alternating, and the best run of each is compared. Timings are
whatever this machine gives on this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

# The rules, spelled out here so that the pandas child needs nothing from lilyvae (the
# parent checks them against lilyvae.data.lily before anything runs).
TABLES = ("GRA", "MS", "NGR", "RGB")
FILES = {t: f"{t}_DataLITH.csv" for t in TABLES}
MEASUREMENTS = {
    "GRA": ["Bulk density (GRA)"],
    "MS": ["Magnetic susceptibility (instr. units)"],
    "NGR": ["NGR total counts (cps)"],
    "RGB": ["R", "G", "B"],
}
ID_COLUMNS = ["Exp", "Site", "Hole"]
DEPTH = "Depth CSF-A (m)"
PRINCIPAL = "Principal"
GRA_RANGE = (0.3, 4.0)
RGB_RANGE = (0.0, 255.0)
OUTPUT_COLUMNS = [
    "Borehole_ID",
    "Depth_Bin",
    "Bulk density (GRA)",
    "Principal",
    "Magnetic susceptibility (instr. units)",
    "NGR total counts (cps)",
    "R",
    "G",
    "B",
]
KEYS = ["Borehole_ID", "bin"]
MIN_ROWS = 5_000_000


def check_rules_match_lilyvae() -> None:
    from lilyvae.data import lily
    from lilyvae.data.schema import TABLE_COLUMNS

    assert tuple(TABLES) == lily.LILY_TABLES and FILES == lily.LILY_FILES
    assert {t: tuple(c) for t, c in MEASUREMENTS.items()} == lily.MEASUREMENT_COLUMNS
    assert tuple(ID_COLUMNS) == lily.ID_COLUMNS and DEPTH == lily.DEPTH_COLUMN
    assert PRINCIPAL == lily.PRINCIPAL_COLUMN
    assert GRA_RANGE == lily.GRA_RANGE and RGB_RANGE == lily.RGB_RANGE
    assert tuple(OUTPUT_COLUMNS) == TABLE_COLUMNS


# -- (b) the pandas implementation --------------------------------------------------------
def pandas_bin_table(path: Path, table: str, bin_size: float, usecols: bool) -> pd.DataFrame:
    """One file: drop incomplete rows, bin, mean per bin, most frequent Principal."""
    meas = MEASUREMENTS[table]
    df = pd.read_csv(
        path,
        usecols=[*ID_COLUMNS, DEPTH, PRINCIPAL, *meas] if usecols else None,
        dtype={c: str for c in (*ID_COLUMNS, PRINCIPAL)},
        low_memory=False,
    )
    for col in [DEPTH, *meas]:
        values = pd.to_numeric(df[col], errors="coerce")  # junk -> NaN
        df[col] = values.where(np.isfinite(values))
    df["Borehole_ID"] = df["Exp"] + "-" + df["Site"] + "-" + df["Hole"]
    df = df.dropna(subset=["Borehole_ID", DEPTH, PRINCIPAL, *meas])
    df["bin"] = np.rint(df[DEPTH] / bin_size).astype(np.int64)  # half to even
    means = df.groupby(KEYS)[meas].mean()
    votes = df.groupby([*KEYS, PRINCIPAL]).size().rename("n").reset_index()
    votes = votes.sort_values([*KEYS, "n", PRINCIPAL], ascending=[True, True, False, True])
    mode = votes.drop_duplicates(KEYS).set_index(KEYS)[PRINCIPAL]
    return means.join(mode).reset_index()


def pandas_build(lily_dir: Path, output: Path, usecols: bool, bin_size: float = 0.2) -> None:
    binned = {t: pandas_bin_table(lily_dir / FILES[t], t, bin_size, usecols) for t in TABLES}
    merged = binned["GRA"]
    for t in ("MS", "NGR", "RGB"):
        merged = merged.merge(binned[t].drop(columns=PRINCIPAL), on=KEYS, how="inner")
    gra = merged[MEASUREMENTS["GRA"][0]]
    merged = merged[(gra >= GRA_RANGE[0]) & (gra <= GRA_RANGE[1])]
    rgb = merged[["R", "G", "B"]]
    merged = merged[((rgb >= RGB_RANGE[0]) & (rgb <= RGB_RANGE[1])).all(axis=1)]
    merged = merged.sort_values(KEYS)
    merged["Depth_Bin"] = np.round(merged["bin"].to_numpy() * bin_size, 1)
    merged[OUTPUT_COLUMNS].to_csv(output, index=False)


# -- child processes ------------------------------------------------------------------
def child(kind: str, lily_dir: str, output: str) -> None:
    """Build once; write the build's own wall time to OUTPUT.seconds."""
    if kind not in ("lilyvae", "pandas", "pandas-all"):
        sys.exit(f"unknown build {kind!r}")
    if kind == "lilyvae":
        from lilyvae.data.lily import build_dataset

        t0 = time.perf_counter()
        build_dataset(lily_dir, output, progress=False)
    else:
        t0 = time.perf_counter()
        pandas_build(Path(lily_dir), Path(output), usecols=kind == "pandas")
    Path(output + ".seconds").write_text(f"{time.perf_counter() - t0:.6f}\n")


def measure(kind: str, lily_dir: Path, output: Path) -> dict:
    """One build in a fresh child process: build, process and CPU seconds, peak RSS."""
    cmd = [sys.executable, __file__, "--child", kind, str(lily_dir), str(output)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"the {kind} build failed (exit {code})")
    seconds_file = Path(str(output) + ".seconds")
    build = float(seconds_file.read_text())
    seconds_file.unlink()
    return {
        "build_s": build,
        "process_s": seconds,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024.0,  # Linux: kilobytes
    }


# -- comparison -----------------------------------------------------------------------
def compare(a: Path, b: Path) -> tuple[bool, str]:
    """Same table? Keys and labels exactly; values bit for bit or within rounding."""
    if a.read_bytes() == b.read_bytes():
        return True, "byte-identical files"
    x = pd.read_csv(a, dtype={"Borehole_ID": str, "Principal": str})
    y = pd.read_csv(b, dtype={"Borehole_ID": str, "Principal": str})
    if list(x.columns) != list(y.columns) or len(x) != len(y):
        return False, f"different shapes {x.shape} vs {y.shape}"
    for col in ("Borehole_ID", "Depth_Bin", "Principal"):
        if not x[col].equals(y[col]):
            return False, f"column {col!r} differs"
    values = [c for c in OUTPUT_COLUMNS if c not in ("Borehole_ID", "Depth_Bin", "Principal")]
    u, v = x[values].to_numpy(), y[values].to_numpy()
    differ = int((u != v).sum())
    # Rounding of the summation: relative to the size of the column's values.
    scale = np.maximum(np.abs(v).max(axis=0), 1.0)
    worst = float((np.abs(u - v) / scale).max())
    same = worst <= 1e-12
    return same, (
        f"same {len(x):,} rows, keys and labels; {u.size - differ:,} of {u.size:,} values "
        f"bit-identical, the other {differ:,} differ in the last bits of the mean "
        f"(largest difference {worst:.1e} of the column's largest value)"
    )


def ensure_inputs(lily_dir: Path, scale: float, seed: int) -> dict:
    from lilyvae.files import read_json_file
    from lilyvae.synthetic.lily_files import GENERATOR_VERSION, SIDECAR_NAME, write_synthetic_lily

    note = lily_dir / SIDECAR_NAME
    if note.is_file():
        meta = read_json_file(note, "synthetic LILY sidecar")
        if (
            meta.get("scale") == scale
            and meta.get("seed") == seed
            and meta.get("generator_version") == GENERATOR_VERSION
            and all((lily_dir / f).is_file() for f in FILES.values())
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
    parser.add_argument("--repeat", type=int, default=1, help="runs of each build (best kept)")
    parser.add_argument("--work-dir", default="runs/bench_build")
    parser.add_argument(
        "--no-pandas-all",
        dest="pandas_all",
        action="store_false",
        help="skip the pandas build that reads every column (slow, several GB)",
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("KIND", "LILY_DIR", "OUTPUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    check_rules_match_lilyvae()
    from lilyvae.files import read_json_file  # here, not above: the pandas children skip lilyvae

    work = Path(args.work_dir)
    lily_dir = work / f"lily_scale{args.scale:g}_seed{args.seed}"
    meta = ensure_inputs(lily_dir, args.scale, args.seed)
    files = [lily_dir / FILES[t] for t in TABLES]
    total_bytes = sum(f.stat().st_size for f in files)
    print(
        f"inputs: {meta['total_rows']:,} rows in 4 files, {total_bytes / 1e9:.2f} GB "
        + "("
        + ", ".join(f"{t} {meta['files'][t]['rows']:,}" for t in TABLES)
        + ")"
    )
    if meta["total_rows"] < MIN_ROWS:
        print(f"note: fewer than {MIN_ROWS:,} rows; the benchmark's figures use --scale 0.5")
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
    kinds = ("pandas-all", "pandas", "lilyvae") if args.pandas_all else ("pandas", "lilyvae")
    runs: dict[str, list[dict]] = {k: [] for k in kinds}
    for _ in range(max(1, args.repeat)):
        for kind in kinds:
            out = out_dir / f"{kind}.csv"
            print(f"building with {kind} ...", flush=True)
            r = measure(kind, lily_dir, out)
            runs[kind].append(r)
            print(
                f"  build {r['build_s']:.1f} s (process {r['process_s']:.1f} s, "
                f"CPU {r['cpu_s']:.1f} s), peak RSS {r['rss_mb']:,.0f} MB",
                flush=True,
            )
    manifest = read_json_file(out_dir / "lilyvae.manifest.json", "build manifest")
    print()
    print(f"output: {manifest['output']['rows']:,} rows")
    all_same = True
    for kind in kinds[:-1]:
        same, how = compare(out_dir / "lilyvae.csv", out_dir / f"{kind}.csv")
        all_same &= same
        print(f"lilyvae vs {kind}: identical: {'YES' if same else 'NO'} ({how})")

    best = {k: min(v, key=lambda r: r["build_s"]) for k, v in runs.items()}
    q = best["lilyvae"]
    print()
    print(
        f"{'':30}" + "".join(f"{k:>12}" for k in kinds) + "   lilyvae vs " + " / ".join(kinds[:-1])
    )
    for label, key in (
        ("build wall time (s)", "build_s"),
        ("process wall time (s)", "process_s"),
        ("CPU time, user + sys (s)", "cpu_s"),
    ):
        ratios = " / ".join(f"{best[k][key] / q[key]:.1f}x" for k in kinds[:-1])
        print(f"{label:30}" + "".join(f"{best[k][key]:12.1f}" for k in kinds) + f"   {ratios}")
    ratios = " / ".join(f"{q['rss_mb'] / best[k]['rss_mb']:.2f}" for k in kinds[:-1])
    print(
        f"{'peak memory, max RSS (MB)':30}"
        + "".join(f"{best[k]['rss_mb']:12,.0f}" for k in kinds)
        + f"   {ratios} of it"
    )
    print(
        f"{'build throughput (MB/s)':30}"
        + "".join(f"{total_bytes / 1e6 / best[k]['build_s']:12.0f}" for k in kinds)
    )
    print()
    for k in kinds[:-1]:
        speed, memory = best[k]["build_s"] / q["build_s"], q["rss_mb"] / best[k]["rss_mb"]
        print(
            f"targets against {k}: >= 5x faster: {'met' if speed >= 5 else 'NOT met'} "
            f"({speed:.1f}x); <= 1/3 of the peak memory: "
            f"{'met' if memory <= 1 / 3 else 'NOT met'} ({memory:.2f})"
        )
    t = manifest["timings_s"]
    print(
        "lilyvae's build includes sha256 of every input (in a background thread: "
        f"{t['checksums']:.1f} s), the borehole table and the manifest; pandas does none of "
        "these."
    )
    if not all_same:
        sys.exit(1)


if __name__ == "__main__":
    main()
