"""The demo's time, cold and warm, side by side in one run, and what ``--quiet`` prints.

Runs ``lilyvae demo --quiet`` twice in fresh output folders under a temporary
directory: first with an empty numba cache (``NUMBA_CACHE_DIR`` pointing at a new
folder: every compiled kernel, the engine's and UMAP's, is compiled on the way: what a
new user's first run pays), then again with that cache filled. Prints each run's wall
time with start-up, the stage times from its ``summary.txt``, the number of lines
``--quiet`` printed, the CPU model and the load average before and after (a shared
machine gives slower, noisier figures).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_demo.py [--epochs N]

Nothing is asserted. Target: under 180 s on 2 cores, cold cache included.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_speed import cpu_model, load_average


def run_demo(out: Path, cache: Path, epochs: int | None) -> tuple[float, list[str], str]:
    """One quiet demo run in a subprocess: wall seconds, printed lines, stage line."""
    env = os.environ | {"NUMBA_CACHE_DIR": str(cache)}
    entry = "import sys; from lilyvae.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", entry, "demo", "--quiet", "--output-dir", str(out)]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"demo failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    summary = (out / "summary.txt").read_text().splitlines()
    stages = next((ln for ln in summary if ln.startswith("stages:")), "stages: ?")
    return wall, done.stdout.splitlines() + done.stderr.splitlines(), stages


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=None, help="default: the demo's")
    args = ap.parse_args()
    print(f"machine: {cpu_model()}; load average before: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="lilyvae-bench-demo-") as tmp:
        root = Path(tmp)
        cache = root / "numba-cache"
        results = {}
        for name in ("cold cache", "warm cache"):
            results[name] = run_demo(root / name.replace(" ", "-"), cache, args.epochs)
    print(f"load average after: {load_average()}")
    print()
    for name, (wall, lines, stages) in results.items():
        print(f"{name}: {wall:.0f} s with start-up; {stages}")
        print(f"  --quiet printed {len(lines)} lines")
    cold, warm = results["cold cache"][0], results["warm cache"][0]
    print()
    print(f"cold / warm: {cold / warm:.2f}x; target: under 180 s (cold {cold:.0f} s)")
    print("what --quiet printed (warm run; SYNTHETIC data):")
    print("\n".join("  | " + ln for ln in results["warm cache"][1]))


if __name__ == "__main__":
    main()
