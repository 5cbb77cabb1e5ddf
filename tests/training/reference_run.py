"""The reference run of the reproducibility tests, and how its stored weights are made.

One small SYNTHETIC table (``synth --rows 20000 --seed 1``), each model kind with each
recipe trained for 3 epochs with seed 42 by ``lilyvae train``, as a user runs it. The
weights and loss histories it gives are stored in ``tests/fixtures/reference_weights``;
other machines must agree with them within the tolerances of
``test_reproducibility.py``.

Regenerate them (only in a commit that changes the numerics on purpose, saying why):

    PYTHONPATH=src python tests/training/reference_run.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from lilyvae.cli import main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "reference_weights"
COMBINATIONS = [
    ("unsupervised", "standard"),
    ("unsupervised", "hybrid"),
    ("semisupervised", "standard"),
    ("semisupervised", "hybrid"),
]
#: The history entries compared across machines (losses, not wall times).
LOSS_KEYS = ("loss", "recon", "kl", "masked", "class")


def make_table(folder: Path) -> Path:
    table = Path(folder) / "reference.csv"
    # Generator version 1: the reference is about training, not the generator.
    args = ["synth", "--rows", "20000", "--seed", "1", "--generator-version", "1"]
    if main([*args, "--output", str(table)]) != 0:
        raise RuntimeError("synth failed")
    return table


def train_reference(table: Path, model: str, recipe: str, out: Path) -> Path:
    """``lilyvae train`` of one combination; returns the ``.pt`` written."""
    args = ["train", "--model", model, "--recipe", recipe, "--data", str(table)]
    args += ["--output", str(out), "--epochs", "3", "--seed", "42", "--quiet"]
    if main(args) != 0:
        raise RuntimeError(f"train {model} {recipe} failed")
    return out


def read_run(checkpoint: Path) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    """(weights as arrays, loss history) of a written checkpoint."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    weights = {k: v.numpy() for k, v in state.items()}
    history = json.loads(checkpoint.with_suffix(".json").read_text())
    return weights, {k: history[k] for k in LOSS_KEYS if k in history}


def stored(model: str, recipe: str) -> tuple[dict[str, np.ndarray], dict[str, list[float]]]:
    name = f"{model}_{recipe}"
    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as npz:
        weights = {k: npz[k] for k in npz.files}
    history = json.loads((FIXTURES / "histories.json").read_text())[name]
    return weights, history


def regenerate() -> None:
    from lilyvae.machine import describe_cpu

    FIXTURES.mkdir(parents=True, exist_ok=True)
    histories = {}
    with tempfile.TemporaryDirectory() as tmp:
        table = make_table(Path(tmp))
        for model, recipe in COMBINATIONS:
            pt = train_reference(table, model, recipe, Path(tmp) / f"{model}_{recipe}.pt")
            weights, history = read_run(pt)
            np.savez(FIXTURES / f"{model}_{recipe}.npz", **weights)
            histories[f"{model}_{recipe}"] = history
    histories["_machine"] = describe_cpu()
    (FIXTURES / "histories.json").write_text(json.dumps(histories, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(regenerate())
