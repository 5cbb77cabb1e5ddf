"""``lilyvae predict`` on a long new core beside ``lilyvae embed`` on the same bins.

A semi-supervised model is trained (a few epochs: speed does not depend on how well it
learned) on the SYNTHETIC default table with a fifth of the boreholes held out, and
calibrated. The "new core" is a SYNTHETIC table of ``--bins`` bins (default 1,000,000,
with its described lithology, so the blind-well test runs too) regrouped into
``--boreholes`` boreholes (default 10: ten LAS files and ten figures). Then, each in its
own process, the command line's

- ``embed --model M --data CORE --output E.parquet``;
- ``predict --model M --data CORE --output P.parquet --analogs 5 --las C.las
  --intervals I.csv --figure F.png``;

and prints wall seconds, peak resident memory, the ratio, and the seconds of each of
predict's stages (``CorePrediction.seconds``). Goal: predict at most 3x embed's time
and under 2 GB.

The two commands are run ``--repeats`` times, alternately (embed, predict, embed, ...),
so that a change in the machine's load falls on both alike; the ratio is that of the
medians, and each run is printed beside it.

    .venv/bin/python benchmarks/bench_predict.py [--bins 1000000] [--boreholes 10] [--repeats 3]

Timings are whatever this machine gives on this run (a shared machine is noisy);
nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = (
    "import json, sys\n"
    "from lilyvae.cli import main\n"
    # predict's seconds per stage (CorePrediction.seconds), printed once its files are
    # written: the command itself runs unchanged.
    "import lilyvae.predict.outputs as outputs\n"
    "write = outputs.write_prediction\n"
    "def write_and_tell(result, *a, **k):\n"
    "    names = write(result, *a, **k)\n"
    "    print('SECONDS', json.dumps(result.seconds))\n"
    "    return names\n"
    "outputs.write_prediction = write_and_tell\n"
    "code = main(sys.argv[1:])\n"
    # VmHWM, not ru_maxrss: ru_maxrss keeps the forking parent's peak across exec.
    "hwm = [ln for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0]\n"
    "print('MAXRSS_KB', hwm.split()[1])\n"
    "sys.exit(code)\n"
)


def timed_command(args: list[str]) -> tuple[float, float, dict]:
    """(wall seconds, peak resident memory in MB, seconds per stage where the command
    reports them) of one ``lilyvae`` command."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, args)], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"lilyvae {args[0]} failed:\n{done.stderr}")
    lines = done.stdout.splitlines()
    kb = next(int(ln.split()[1]) for ln in lines if ln.startswith("MAXRSS"))
    stages = next((json.loads(ln[8:]) for ln in lines if ln.startswith("SECONDS ")), {})
    return wall, kb / 1024, stages


def cpu_model() -> str:
    """The processor's name as Linux reports it (else what Python knows)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_core(path: Path, bins: int, boreholes: int) -> None:
    """A SYNTHETIC core of ``bins`` bins in ``boreholes`` boreholes, depth increasing."""
    from lilyvae.synthetic.generator import generate_table

    core = generate_table(rows=bins, seed=1)
    per = int(np.ceil(bins / boreholes))
    index = np.arange(len(core))
    core["Borehole_ID"] = [f"NEW-{i // per + 1:02d}" for i in index]
    core["Depth_Bin"] = np.round((index % per) * 0.2, 1)
    core.to_parquet(path, index=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bins", type=int, default=1_000_000)
    ap.add_argument("--boreholes", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="runs of each command")
    args = ap.parse_args()

    from lilyvae.cli import main

    def lilyvae(argv) -> None:
        code = main([str(a) for a in argv])
        if code:
            raise SystemExit(f"lilyvae {argv[0]} failed")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        table, model, core = tmp / "table.csv", tmp / "m.pt", tmp / "core.parquet"
        quiet = ["--quiet"]
        lilyvae(["synth", "--output", table])
        lilyvae(
            [
                "train",
                "--model",
                "semisupervised",
                "--recipe",
                "hybrid",
                "--data",
                table,
                "--holdout-boreholes",
                "0.2",
                "--epochs",
                str(args.epochs),
                "--output",
                model,
                *quiet,
            ]
        )
        start = time.perf_counter()
        lilyvae(["calibrate", "--model", model, "--data", table])
        calibrate_s = time.perf_counter() - start
        make_core(core, args.bins, args.boreholes)

        embed_args = ["embed", "--model", model, "--data", core, "--output", tmp / "e.parquet"]
        predict_args = ["predict", "--model", model, "--data", core, "--output", tmp / "p.parquet"]
        predict_args += ["--analogs", "5", "--las", tmp / "c.las", "--intervals", tmp / "i.csv"]
        predict_args += ["--figure", tmp / "f.png"]
        embeds, predicts = [], []
        for _ in range(max(1, args.repeats)):
            embeds.append(timed_command(embed_args))
            predicts.append(timed_command(predict_args))
    embed_s = float(np.median([run[0] for run in embeds]))
    predict_s = float(np.median([run[0] for run in predicts]))
    embed_mb = max(run[1] for run in embeds)
    predict_mb = max(run[1] for run in predicts)
    # the stages of the predict run whose time is the median (the middle one)
    stages = sorted(predicts, key=lambda run: run[0])[len(predicts) // 2][2]
    print()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()}; SYNTHETIC data")
    print(
        f"new core: {args.bins:,} bins in {args.boreholes} boreholes; "
        f"calibrate took {calibrate_s:.1f} s"
    )
    print(f"{'command':<48} {'median s':>8} {'peak MB':>8}  runs (s, in order)")
    runs = ", ".join(f"{run[0]:.1f}" for run in embeds)
    print(f"{'embed':<48} {embed_s:8.1f} {embed_mb:8.0f}  {runs}")
    runs = ", ".join(f"{run[0]:.1f}" for run in predicts)
    name = "predict --analogs 5 --las --intervals --figure"
    print(f"{name:<48} {predict_s:8.1f} {predict_mb:8.0f}  {runs}")
    ratios = ", ".join(f"{p[0] / e[0]:.2f}" for e, p in zip(embeds, predicts, strict=True))
    print(
        f"predict / embed: {predict_s / embed_s:.2f}x of the medians (goal <= 3x; run by run "
        f"{ratios}); peak {predict_mb / 1024:.2f} GB (goal < 2 GB)"
    )
    print_stages(stages, predict_s)


def print_stages(stages: dict, total: float) -> None:
    """Where predict's time went. Stages overlap in time (so the seconds add up to more
    than the wall time): the nearest-neighbour search runs in a thread beside the
    networks and the probabilities, and the files are written by two processes at once
    (the stages "(beside the rest)" are the forked one's: the figures first, and any LAS
    file or table that it took before this one did); "waiting for the search" is the
    time the search kept the rest waiting."""
    if not stages:
        return
    print(f"predict's stages (seconds; the command took {total:.1f} s, imports and start-up")
    print("included, which no stage counts):")
    for stage, seconds in sorted(stages.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:<46} {seconds:6.2f}")


if __name__ == "__main__":
    main()
