"""Training speed: the project's trainer against the specification's loop, both models.

Trains the standard recipe of each model on the default 238,506-row SYNTHETIC table
(a) with a loop written the way the specification writes it: DataLoader over a
TensorDataset, batch 256, shuffle, Adam, ``loss.item()`` every batch;
(b) with lilyvae's trainer,
for the same number of epochs from the same initial weights, and prints seconds per
epoch (median of epochs 2..n), the speed-ups, the semi-supervised / unsupervised
ratio of each trainer, and the final losses side by side.

    .venv/bin/python benchmarks/bench_train.py [--epochs 5] [--rows 238506]

Timings are whatever this machine gives on this run; nothing here is asserted.
Targets: lilyvae >= 4x the specification loop; its semi-supervised epoch at most 2x
its unsupervised epoch.
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
from lilyvae.training.config import make_config
from lilyvae.training.pack_run import MemberSpec, init_member
from lilyvae.training.trainer import scale_for_training, train_members


def specification_loop(X, labels, kind: str, epochs: int, seed: int):
    """The loop of TRAINING.md, with its per-row history (total loss / dataset size)."""
    config = make_config(kind, epochs=1)
    n_classes = int(labels.max()) + 1 if kind == "semisupervised" else None
    model, _ = init_member(kind, config.architecture(n_classes), seed)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(X, labels), batch_size=256, shuffle=True)
    seconds = []
    loss_per_row = float("nan")
    for _ in range(epochs):
        t0 = time.perf_counter()
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            if kind == "semisupervised":
                recon, mu, logvar, logits = model(x)
                loss = model.loss_function(
                    recon, x, mu, logvar, logits, y, 1.0, 0.1, class_reduction="sum"
                )[0]
            else:
                recon, mu, logvar = model(x)
                loss = model.loss_function(recon, x, mu, logvar, 1.0)[0]
            loss.backward()
            optimizer.step()
            total += loss.item()
        seconds.append(time.perf_counter() - t0)
        loss_per_row = total / len(X)
    return seconds, loss_per_row


def project_trainer(X, labels, kind: str, epochs: int, seed: int):
    config = make_config(kind, "standard", epochs=epochs, seed=seed)
    n_classes = int(labels.max()) + 1 if kind == "semisupervised" else None
    semi_labels = labels if kind == "semisupervised" else None
    (result,) = train_members(X, semi_labels, [MemberSpec(seed)], config, n_classes)
    return result.history["epoch_seconds"], result.history["loss"][-1]


def per_epoch(seconds) -> float:
    """Median s/epoch over epochs 2..n (the first carries one-off costs: allocator
    warm-up, loading the compiled kernels)."""
    return float(np.median(seconds[1:] if len(seconds) > 1 else seconds))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=None, help="default 238,506")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()

    data = training_data_from_frame(generate_table(rows=args.rows, seed=0), source="synthetic")
    _, X, labels = scale_for_training(data)
    print(
        f"SYNTHETIC table: {data.n_rows:,} rows; standard recipe, both models; "
        f"{args.epochs} epochs each; batch 256"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads by default"
    )

    results = {}
    for kind in ("unsupervised", "semisupervised"):
        for trainer, run in (
            ("specification loop", specification_loop),
            ("lilyvae", project_trainer),
        ):
            results[(kind, trainer)] = run(X, labels, kind, args.epochs, args.seed)

    print()
    header = ("model", "trainer", "s/epoch", "speed-up", "first epoch s", "final loss/row")
    widths = (-15, -19, 8, 9, 14, 15)
    cells = zip(header, widths, strict=True)
    print(" ".join(f"{h:{'<' if w < 0 else '>'}{abs(w)}}" for h, w in cells))
    for (kind, trainer), (seconds, loss) in results.items():
        base = per_epoch(results[(kind, "specification loop")][0])
        s = per_epoch(seconds)
        print(
            f"{kind:<15} {trainer:<19} {s:>8.3f} {base / s:>8.2f}x "
            f"{seconds[0]:>14.2f} {loss:>15.4f}"
        )
    print()
    for trainer in ("specification loop", "lilyvae"):
        semi = per_epoch(results[("semisupervised", trainer)][0])
        unsup = per_epoch(results[("unsupervised", trainer)][0])
        print(f"semi-supervised / unsupervised s/epoch, {trainer}: {semi / unsup:.2f}x")
    print()
    print("s/epoch: median over epochs 2..n; speed-up: specification loop s/epoch / this s/epoch.")
    print("Final losses differ only by random streams (data order, noise); same initial weights.")
    print("targets: lilyvae >= 4x the specification loop; semi-supervised <= 2x unsupervised")


if __name__ == "__main__":
    main()
