"""Training speed with ``--missing mask`` beside ``--missing drop``, both models, both recipes.

A SYNTHETIC table with bins without colour in the real proportions (``synth --partial``:
the complete rows of the default table, 41% of the bins without colour) is trained on

(a) ``drop``: the complete rows, as the reference;
(b) ``mask`` on the same complete rows: what the masked engine costs per epoch
    (12 encoder inputs, the observed-entry loss), the same work otherwise;
(c) ``mask`` on every row: what training on the bins without colour costs (an epoch
    has 69% more rows).

and prints seconds per epoch (median of epochs 2..n) and the ratios to (a), per epoch
and per row. Target: (b) at most 1.3x (a); (c) per row likewise.

    .venv/bin/python benchmarks/bench_missing.py [--epochs 3] [--rows 238506]

Timings are whatever this machine gives on this run (a shared machine is noisy: run it
more than once); nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
import torch

from lilyvae.data.tables import training_data_from_frame
from lilyvae.synthetic.measurements import SyntheticLily
from lilyvae.synthetic.partial import PartialColour
from lilyvae.training.config import make_config
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import scale_for_training, train_members


def seconds_per_epoch(data, kind: str, recipe: str, missing: str, epochs: int, seed: int):
    """Median s/epoch over epochs 2..n (the first carries one-off costs), and the rows."""
    config = make_config(kind, recipe, epochs=epochs, seed=seed, missing=missing)
    _, X, labels = scale_for_training(data)
    n_classes = len(data.class_names) if kind == "semisupervised" else None
    semi = labels if kind == "semisupervised" else None
    (result,) = train_members(X, semi, [MemberSpec(seed)], config, n_classes)
    seconds = result.history["epoch_seconds"]
    return float(np.median(seconds[1:] if len(seconds) > 1 else seconds)), data.n_rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument(
        "--rows", type=int, default=None, help="bins with a colour scan, default 238,506"
    )
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    table = PartialColour(SyntheticLily(rows=args.rows, seed=0)).table()
    full = training_data_from_frame(table, source="synthetic", keep_partial=True)
    complete = full.rows_for("drop")
    print(
        f"SYNTHETIC table: {full.n_rows:,} rows, {complete.n_rows:,} complete, "
        f"{full.n_partial:,} without colour; batch 256, {args.epochs} epochs each"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}"
    )
    print()
    header = (
        "model           recipe    drop s/ep  mask same rows  ratio  mask all rows  ratio  per row"
    )
    print(header)
    for kind in ("unsupervised", "semisupervised"):
        for recipe in ("standard", "hybrid"):
            drop, n_drop = seconds_per_epoch(complete, kind, recipe, "drop", args.epochs, args.seed)
            same, _ = seconds_per_epoch(complete, kind, recipe, "mask", args.epochs, args.seed)
            every, n_all = seconds_per_epoch(full, kind, recipe, "mask", args.epochs, args.seed)
            per_row = (every / n_all) / (drop / n_drop)
            print(
                f"{kind:<15} {recipe:<9} {drop:>9.3f} {same:>15.3f} {same / drop:>5.2f}x "
                f"{every:>14.3f} {every / drop:>5.2f}x {per_row:>7.2f}x"
            )
    print()
    print("s/ep: median over epochs 2..n. ratio: to drop's s/epoch; per row: s/row to drop's.")
    print("target: mask at most 1.3x drop per epoch on the same rows, and per row on all rows")


if __name__ == "__main__":
    main()
