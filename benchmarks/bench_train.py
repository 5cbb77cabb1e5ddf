"""Training speed: the project's trainer against the specification's loop.

Trains the standard unsupervised recipe on the default 238,506-row SYNTHETIC table
(a) with a loop written the way the specification writes it: DataLoader over a
TensorDataset, batch 256, shuffle, Adam, ``loss.item()`` every batch;
(b) with lilyvae's trainer, eager;
(c) with lilyvae's trainer and ``--compile``,
for the same number of epochs from the same initial weights, and prints seconds per
epoch, the ratios, and the final losses side by side.

    .venv/bin/python benchmarks/bench_train.py [--epochs 5] [--rows 238506]

Timings are whatever this machine gives on this run; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from lilyvae.data.tables import training_data_from_frame
from lilyvae.synthetic.generator import generate_table
from lilyvae.train.trainer import (
    MemberSpec,
    init_member,
    make_config,
    scale_for_training,
    train_members,
)


def specification_loop(X: torch.Tensor, epochs: int, seed: int) -> tuple[list[float], float]:
    """The loop of TRAINING.md, with its per-row history (total loss / dataset size)."""
    model, _ = init_member("unsupervised", make_config(epochs=1).architecture(None), seed)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(X), batch_size=256, shuffle=True)
    seconds = []
    loss_per_row = float("nan")
    for _ in range(epochs):
        t0 = time.perf_counter()
        total = 0.0
        for (x,) in loader:
            optimizer.zero_grad()
            recon, mu, logvar = model(x)
            loss, _, _ = model.loss_function(recon, x, mu, logvar, 1.0)
            loss.backward()
            optimizer.step()
            total += loss.item()
        seconds.append(time.perf_counter() - t0)
        loss_per_row = total / len(X)
    return seconds, loss_per_row


def project_trainer(X: torch.Tensor, epochs: int, seed: int, compile: bool):
    config = make_config("unsupervised", "standard", epochs=epochs, seed=seed, compile=compile)
    (result,) = train_members(X, None, [MemberSpec(seed)], config)
    return result.history["epoch_seconds"], result.history["loss"][-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=None, help="default 238,506")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--skip-compile", action="store_true")
    args = ap.parse_args()

    data = training_data_from_frame(generate_table(rows=args.rows, seed=0), source="synthetic")
    _, X, _ = scale_for_training(data)
    print(
        f"SYNTHETIC table: {data.n_rows:,} rows; standard unsupervised recipe; "
        f"{args.epochs} epochs each; batch 256"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads by default"
    )

    spec_s, spec_loss = specification_loop(X, args.epochs, args.seed)
    eager_s, eager_loss = project_trainer(X, args.epochs, args.seed, compile=False)
    rows = [("specification loop", spec_s, spec_loss), ("lilyvae (eager)", eager_s, eager_loss)]
    if not args.skip_compile:
        comp_s, comp_loss = project_trainer(X, args.epochs, args.seed, compile=True)
        rows.append(("lilyvae --compile", comp_s, comp_loss))

    # The first epoch carries one-off costs (allocator warm-up, compilation): report
    # the median of the others when there are any.
    def per_epoch(seconds):
        return float(np.median(seconds[1:] if len(seconds) > 1 else seconds))

    base = per_epoch(spec_s)
    print()
    header = ("trainer", "s/epoch", "speed-up", "first epoch s", "final loss/row")
    print(f"{header[0]:<20} {header[1]:>9} {header[2]:>9} {header[3]:>14} {header[4]:>15}")
    for name, seconds, loss in rows:
        print(
            f"{name:<20} {per_epoch(seconds):>9.3f} {base / per_epoch(seconds):>8.2f}x "
            f"{seconds[0]:>14.2f} {loss:>15.4f}"
        )
    print()
    print("s/epoch: median over epochs 2..n; speed-up: specification loop s/epoch / this s/epoch.")
    print("Final losses differ only by random streams (data order, noise); same initial weights.")
    print("target: >= 4x the specification loop; aim <= 0.4 s/epoch on 2 cores")


if __name__ == "__main__":
    main()
