"""The figures' UMAP in a fresh process: umap imported plainly (with pynndescent) beside
umap imported with pynndescent deferred (``lilyvae.report.figures.umap_import``), each
with an empty numba cache (a machine's first run) and then with it filled.

Each run is a new interpreter that imports lilyvae's UMAP figure code and lays out
``--rows`` SYNTHETIC-shaped random rows (10 columns) once, as a report's worker does;
"plain" imports pynndescent first, which turns the deferral off. Prints wall seconds of
each run side by side and whether the layouts are the same bytes. Nothing is asserted.

    .venv/bin/python benchmarks/bench_umap_import.py [--rows 3000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = (
    "import hashlib, sys, warnings\n"
    "warnings.simplefilter('ignore')\n"
    "if sys.argv[1] == 'plain':\n"
    "    import pynndescent\n"
    "import numpy as np\n"
    "from lilyvae.report.figures.umap_figure import umap_layouts\n"
    "X = np.random.default_rng(0).normal(size=(int(sys.argv[2]), 10))\n"
    "layout = umap_layouts({'a': X})['a']\n"
    "print(hashlib.sha256(layout.tobytes()).hexdigest(), 'pynndescent' in sys.modules)\n"
)


def run(how: str, rows: int, cache: Path) -> tuple[float, str, bool]:
    env = os.environ | {"NUMBA_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, how, str(rows)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    digest, imported = done.stdout.split()
    return time.perf_counter() - start, digest, imported == "True"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=3000, help="rows laid out (the figures' 3,000)")
    args = ap.parse_args()
    with open("/proc/cpuinfo") as fh:
        cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), "")
    print(f"machine: {cpu}, {os.cpu_count()} cores; {args.rows:,} rows laid out per run")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for how in ("plain", "deferred"):
            cache = Path(tmp) / how  # each way its own cache: both start empty
            for state in ("empty cache", "filled cache"):
                results[how, state] = run(how, args.rows, cache)
    print(f"{'numba cache':<14} {'plain s':>8} {'deferred s':>11} {'ratio':>6}")
    for state in ("empty cache", "filled cache"):
        plain, deferred = results["plain", state][0], results["deferred", state][0]
        print(f"{state:<14} {plain:8.1f} {deferred:11.1f} {deferred / plain:6.2f}")
    digests = {r[1] for r in results.values()}
    print(f"layouts the same bytes in all four runs: {len(digests) == 1}")
    print(
        "pynndescent imported by the deferred runs: "
        f"{any(results['deferred', s][2] for s in ('empty cache', 'filled cache'))}"
    )


if __name__ == "__main__":
    main()
