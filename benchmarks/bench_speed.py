"""Training speed targets, side by side in one run: a lone model, its helper thread, packs.

On the default 238,506-row SYNTHETIC table, standard recipe, batch 256, trains

- one unsupervised model on one thread, and with its helper thread (``train()``'s
  default on a machine with two cores, :mod:`lilyvae.training.helper`);
- one semi-supervised model, the same two ways;
- a pack of 16 unsupervised members (one thread), per member-epoch: the arithmetic a
  core can do when it is kept busy;
- the matrix products alone of one unsupervised model's epoch (the 17 products of each
  step, at the engine's shapes, on one thread and on two): the floor that no per-step
  saving elsewhere can go below;

alternating the runs (A, B, A, B ...) so that a change in the machine's load falls on
every variant alike, and prints each one's s/epoch (median over epochs 2..n of every
repeat), the ratios the targets are stated in, the CPU model and the load average
before and after (a machine shared with other work gives slower, noisier figures; the
ratios hold up better than the seconds).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_speed.py [--epochs 4] [--repeats 2]

Nothing is asserted. Targets: a lone unsupervised model at most 0.25 s/epoch on 2
cores; the semi-supervised epoch at most 2x the unsupervised one.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time

import numpy as np
import torch

from lilyvae.data.tables import training_data_from_frame
from lilyvae.synthetic.generator import generate_table
from lilyvae.training.config import make_config
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import scale_for_training, train_members

#: (label, model, members, helper thread)
VARIANTS = (
    ("unsupervised, 1 thread", "unsupervised", 1, False),
    ("unsupervised, helper thread", "unsupervised", 1, True),
    ("semi-supervised, 1 thread", "semisupervised", 1, False),
    ("semi-supervised, helper thread", "semisupervised", 1, True),
    ("unsupervised, pack of 16 (per member)", "unsupervised", 16, False),
)


def cpu_model() -> str:
    """lscpu's model name and CPU count (what docs/speed.md records)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return f"unknown CPU, {os.cpu_count()} CPUs"
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    return f"{fields.get('Model name', '?').strip()}, {fields.get('CPU(s)', '?').strip()} CPUs"


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def epoch_seconds(X, labels, kind: str, members: int, helper: bool, epochs: int) -> list[float]:
    """Seconds of epochs 2..n of one run, per member."""
    semi = kind == "semisupervised"
    config = make_config(kind, "standard", epochs=epochs, seed=42)
    specs = [MemberSpec(42 + j) for j in range(members)]
    results = train_members(
        X,
        labels if semi else None,
        specs,
        config,
        int(labels.max()) + 1 if semi else None,
        helper_thread=helper,
    )
    seconds = results[0].history["epoch_seconds"]
    return [s / members for s in seconds[1:]]


def product_floor(arch, rows: int, batch: int = 256, threads: int = 1) -> float:
    """Seconds per epoch of one model's matrix products alone: per layer (in -> out)
    the forward product, the weight gradient and (all but the first layer) the input
    gradient, as the engine computes them (``torch.bmm`` on a pack of one)."""
    enc = [arch.input_dim, *arch.hidden_dims]
    dec = [arch.latent_dim, *reversed(arch.hidden_dims)]
    layers = [
        *zip(enc[:-1], enc[1:], strict=True),
        (enc[-1], 2 * arch.latent_dim),
        *zip(dec[:-1], dec[1:], strict=True),
    ]
    layers.append((dec[-1], arch.input_dim))
    ops = []
    for j, (i, o) in enumerate(layers):
        W, h, g = torch.randn(1, o, i), torch.randn(1, i, batch), torch.randn(1, o, batch)
        ops.append(lambda W=W, h=h: torch.bmm(W, h))
        ops.append(lambda g=g, h=h: torch.bmm(g, h.transpose(1, 2)))
        if j > 0:
            ops.append(lambda W=W, g=g: torch.bmm(W.transpose(1, 2), g))
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for op in ops * 50:  # warm-up
            op()
        steps = 500
        t0 = time.perf_counter()
        for _ in range(steps):
            for op in ops:
                op()
        per_step = (time.perf_counter() - t0) / steps
    finally:
        torch.set_num_threads(before)
    return per_step * -(-rows // batch)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rows", type=int, default=None, help="default 238,506")
    args = ap.parse_args()

    data = training_data_from_frame(generate_table(rows=args.rows, seed=0), source="synthetic")
    _, X, labels = scale_for_training(data)
    print(f"SYNTHETIC table: {data.n_rows:,} rows; standard recipe; batch 256")
    print(f"machine: {cpu_model()}; load average before: {load_average()}")
    times: dict[str, list[float]] = {label: [] for label, *_ in VARIANTS}
    for _ in range(args.repeats):
        for label, kind, members, helper in VARIANTS:
            times[label] += epoch_seconds(X, labels, kind, members, helper, args.epochs)
    arch = make_config("unsupervised", "standard").architecture(None)
    floors = {t: product_floor(arch, data.n_rows, threads=t) for t in (1, 2)}
    print(f"load average after: {load_average()}")
    s = {label: float(np.median(v)) for label, v in times.items()}
    print()
    for label, value in s.items():
        print(f"{label:<40} {value:7.3f} s/epoch")
    print()
    unsup1, unsup2 = s["unsupervised, 1 thread"], s["unsupervised, helper thread"]
    semi1, semi2 = s["semi-supervised, 1 thread"], s["semi-supervised, helper thread"]
    print(f"helper thread speed-up, unsupervised:    {unsup1 / unsup2:.2f}x")
    print(f"helper thread speed-up, semi-supervised: {semi1 / semi2:.2f}x")
    print(f"semi / unsupervised, 1 thread:           {semi1 / unsup1:.2f}x (target <= 2x)")
    print(f"semi / unsupervised, helper thread:      {semi2 / unsup2:.2f}x (target <= 2x)")
    packed = s["unsupervised, pack of 16 (per member)"]
    print(f"lone model (helper) / packed member:     {unsup2 / packed:.2f}x")
    print(f"lone unsupervised model, helper thread:  {unsup2:.3f} s/epoch (target <= 0.25)")
    print(f"lone unsupervised model, 1 thread:       {unsup1:.3f} s/epoch (target <= 0.25)")
    for t, floor in floors.items():
        print(
            f"its matrix products alone, {t} thread{'s' if t > 1 else ' '}:  {floor:.3f} s/epoch "
            f"({floor / unsup1:.0%} of the 1-thread epoch)"
        )


if __name__ == "__main__":
    main()
