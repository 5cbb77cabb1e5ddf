"""Many models at once: one member against 16, on the same data for the same epochs.

Trains the standard unsupervised recipe on the default 238,506-row SYNTHETIC table:

(a) one member, the way ``lilyvae train`` trains a model;
(b) 16 members as one pack in this process (stacked weights, batched products);
(c) 16 members through the ensembles' local backend: packs trained in parallel worker
    processes, one per core (``lilyvae bootstrap``'s default),

and prints the wall times, the ratios to (a), the CPU seconds spent (this process and
its workers: what the run costs, whatever else the machine is doing), and each run's
final loss per row (a pack's mean). Every timing is the best of ``--repeat`` rounds,
taken in turn, because a shared machine's timings drift.

    .venv/bin/python benchmarks/bench_ensemble.py [--epochs 2] [--members 16] [--repeat 3]

Timings are whatever this machine gives on this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time

import numpy as np
import torch

from lilyvae.data.tables import training_data_from_frame
from lilyvae.runs.ensemble import default_workers, member_seeds, train_many
from lilyvae.synthetic.generator import generate_table
from lilyvae.training.config import make_config
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import scale_for_training, train_members


def cpu_seconds() -> float:
    """CPU time of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_member(X, config, seed):
    (result,) = train_members(X, None, [MemberSpec(seed)], config)
    return result.history["loss"][-1]


def one_pack(X, config, seeds):
    results = train_members(X, None, [MemberSpec(s) for s in seeds], config)
    return float(np.mean([r.history["loss"][-1] for r in results]))


def local_backend(X, config, seeds, workers):
    outputs = train_many(X, None, config, seeds, workers=workers)
    return float(np.mean([o["history"]["loss"][-1] for o in outputs]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--rows", type=int, default=None, help="default: 238,506")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    args = parser.parse_args()

    data = training_data_from_frame(generate_table(rows=args.rows), source="synthetic")
    _scaler, X, _labels = scale_for_training(data)
    config = make_config("unsupervised", "standard", epochs=args.epochs, device="cpu")
    seeds = member_seeds(config.seed, args.members)
    workers = args.workers or default_workers()
    runs = {
        "1 member": lambda: one_member(X, config, seeds[0]),
        f"{args.members} members, one pack, this process": lambda: one_pack(X, config, seeds),
        f"{args.members} members, local backend ({workers} workers)": lambda: local_backend(
            X, config, seeds, workers
        ),
    }
    print(
        f"SYNTHETIC table: {data.n_rows:,} rows; standard unsupervised recipe, batch 256, "
        f"{args.epochs} epochs; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    best = {name: float("inf") for name in runs}
    cpu = {name: float("inf") for name in runs}
    loss = {}
    for round_ in range(args.repeat):
        for name, run in runs.items():
            start, start_cpu = time.perf_counter(), cpu_seconds()
            loss[name] = run()
            seconds = time.perf_counter() - start
            best[name] = min(best[name], seconds)
            cpu[name] = min(cpu[name], cpu_seconds() - start_cpu)
            print(f"  round {round_ + 1}: {name:<44} {seconds:7.2f} s", flush=True)
    base = best["1 member"]
    print(
        f"\n{'run':<46} {'wall s (best)':>13} {'x one member':>13} {'CPU s':>7} "
        f"{'final loss/row':>15}"
    )
    for name in runs:
        print(
            f"{name:<46} {best[name]:>13.2f} {best[name] / base:>12.2f}x {cpu[name]:>7.2f} "
            f"{loss[name]:>15.4f}"
        )
    target = best[list(runs)[-1]] / base
    print(
        f"\ntarget: {args.members} members in at most 4x the time of one: "
        f"{target:.2f}x with the local backend (load average now {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
