"""Figures and report speed: the seconds each figure takes, the embedding explorer's
rows, the report's writing time and size.

Draws every figure of a run directory (``lilyvae demo``'s layout: by default
``runs/demo``; make one with ``lilyvae demo`` first) into a scratch folder, twice: the
first pass pays for UMAP's just-in-time compilation (numba), the second shows the
steady cost. Then writes the report from the second pass and prints its size.

    .venv/bin/python benchmarks/bench_figures.py [--run-dir runs/demo] [--umap-rows 3000]

Timings are whatever this machine gives on this run; nothing here is asserted.
Targets: the figures stage of the demo well under a minute on two quiet cores, UMAP
under a third of it; the report under 15 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from lilyvae.report.figures import figures_from_run
from lilyvae.report.run_report import build_report


def draw(run_dir: Path, out: Path, umap_rows: int) -> dict:
    start = time.perf_counter()
    figures_from_run(run_dir, output_dir=out, umap_rows=umap_rows)
    manifest = json.loads((out / "figures.json").read_text())
    manifest["total_s"] = time.perf_counter() - start
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", default="runs/demo", help="a run directory (lilyvae demo)")
    parser.add_argument("--umap-rows", type=int, default=3000, help="UMAP subsample, default 3000")
    args = parser.parse_args()
    run_dir = Path(args.run_dir)
    print(f"{os.cpu_count()} cores; run directory {run_dir}")
    with tempfile.TemporaryDirectory() as scratch:
        passes = [draw(run_dir, Path(scratch) / f"pass{k}", args.umap_rows) for k in (1, 2)]
        print(f"{'figure':<34} {'first s':>8} {'second s':>9}")
        for first, second in zip(passes[0]["figures"], passes[1]["figures"], strict=True):
            print(f"{first['name']:<34} {first['seconds']:>8.1f} {second['seconds']:>9.1f}")
        explorer = passes[1].get("explorer") or {}
        print(f"{'explorer rows':<34} {'':>8} {explorer.get('seconds', 0):>9.1f}")
        for k, p in enumerate(passes, start=1):
            print(f"pass {k}: {p['total_s']:.1f} s in all (table, models and figures)")
        start = time.perf_counter()
        report = build_report(
            run_dir, output=Path(scratch) / "report.html", figures_dir=Path(scratch) / "pass2"
        )
        seconds = time.perf_counter() - start
        print(f"report: {report.stat().st_size / 1e6:.1f} MB written in {seconds:.1f} s")


if __name__ == "__main__":
    main()
