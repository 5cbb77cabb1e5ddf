"""The demo's time, cold and warm, side by side in one run, and what ``--quiet`` prints.

Runs ``lilyvae demo --quiet`` twice in fresh output folders under a temporary
directory: first with an empty numba cache (``NUMBA_CACHE_DIR`` pointing at a new
folder: every compiled kernel, the engine's and UMAP's, is compiled on the way: what a
new user's first run pays), then again with that cache filled. Prints each run's wall
time with start-up, its CPU time (user and system) and minor page faults, the stage
times from its ``summary.txt``, the number of lines ``--quiet`` printed, the CPU model
and the load average before and after (a shared machine gives slower, noisier figures).
With ``--allocator`` a third run follows, warm, with glibc's allocator as it is
(``LILYVAE_KEEP_FREED_MEMORY=0``, :mod:`lilyvae.memory`), then a fourth as the second:
the command's allocator settings against glibc's, side by side.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_demo.py [--epochs N] [--allocator]

Nothing is asserted. Target: under 180 s on 2 cores, cold cache included.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_speed import cpu_model, load_average


def run_demo(out: Path, cache: Path, epochs: int | None, env_extra=None):
    """One quiet demo run in a subprocess: wall seconds, printed lines, stage line, and
    (user s, system s, minor page faults) of the run and its worker processes."""
    env = os.environ | {"NUMBA_CACHE_DIR": str(cache)} | (env_extra or {})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    entry = "import sys; from lilyvae.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = [sys.executable, "-c", entry, "demo", "--quiet", "--output-dir", str(out)]
    if epochs:
        cmd += ["--epochs", str(epochs)]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    usage = (
        after.ru_utime - before.ru_utime,
        after.ru_stime - before.ru_stime,
        after.ru_minflt - before.ru_minflt,
    )
    if done.returncode != 0:
        raise SystemExit(f"demo failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    summary = (out / "summary.txt").read_text().splitlines()
    stages = next((ln for ln in summary if ln.startswith("stages:")), "stages: ?")
    return wall, done.stdout.splitlines() + done.stderr.splitlines(), stages, usage


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=None, help="default: the demo's")
    ap.add_argument(
        "--allocator",
        action="store_true",
        help="then warm runs with glibc's allocator as it is, and as the command sets it",
    )
    args = ap.parse_args()
    print(f"machine: {cpu_model()}; load average before: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="lilyvae-bench-demo-") as tmp:
        root = Path(tmp)
        cache = root / "numba-cache"
        runs = [("cold cache", None), ("warm cache", None)]
        if args.allocator:
            glibc = {"LILYVAE_KEEP_FREED_MEMORY": "0"}
            runs += [("warm cache, glibc's allocator", glibc), ("warm cache, again", None)]
        results = {}
        for i, (name, env) in enumerate(runs):
            results[name] = run_demo(root / f"run{i}", cache, args.epochs, env)
    print(f"load average after: {load_average()}")
    print()
    for name, (wall, lines, stages, (user, system, faults)) in results.items():
        print(f"{name}: {wall:.0f} s with start-up; {stages}")
        print(f"  CPU {user:.0f} s user + {system:.0f} s system; {faults:,} minor page faults")
        print(f"  --quiet printed {len(lines)} lines")
    cold, warm = results["cold cache"][0], results["warm cache"][0]
    if args.allocator:
        glibc_wall = results["warm cache, glibc's allocator"][0]
        again = results["warm cache, again"][0]
        ratios = f"{glibc_wall / warm:.2f}x, {glibc_wall / again:.2f}x"
        print(f"glibc's allocator / the command's (each warm run): {ratios}")
    print()
    print(f"cold / warm: {cold / warm:.2f}x; target: under 180 s (cold {cold:.0f} s)")
    print("what --quiet printed (warm run; SYNTHETIC data):")
    print("\n".join("  | " + ln for ln in results["warm cache"][1]))


if __name__ == "__main__":
    main()
