"""What a run folder holds, read with the stages that made it: its models (with their
cards), its embeddings table and its property scores. The folder's layout itself is
:mod:`lilyvae.run_folder`'s, below every stage; these readers need the stages' own
loaders, so they live here, with the figures and the report that read them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lilyvae.data.tables import read_table
from lilyvae.errors import LilyVAEError
from lilyvae.model.checkpoint import read_card
from lilyvae.properties.api import read_properties
from lilyvae.run_folder import RunDir


def run_models(run: RunDir, metrics: dict | None) -> list[tuple[str, Path]]:
    """(name, checkpoint) of the run's models: those named in its metrics, else
    ``models/*.pt`` (each with a readable card)."""
    found = _models_in_metrics(run, metrics) if metrics and metrics.get("models") else []
    if found:
        return found
    out = []
    for path in sorted(run.models_dir.glob("*.pt")):
        read_card(path)  # a checkpoint without a usable card is an error here, not later
        out.append((path.stem, path))
    return out


def _models_in_metrics(run: RunDir, metrics: dict) -> list[tuple[str, Path]]:
    out = []
    for name, info in metrics["models"].items():
        recorded = info.get("checkpoint")
        if not recorded:
            continue
        path = Path(recorded)
        for candidate in (run.root / path, path, run.models_dir / path.name):
            if candidate.is_file():
                out.append((name, candidate))
                break
        else:
            raise LilyVAEError(f"{run.root}: model {name!r} ({recorded}) not found")
    return out


def run_embeddings(run: RunDir) -> pd.DataFrame | None:
    """The run's ``embeddings.parquet``, or None."""
    return read_table(run.embeddings) if run.embeddings.is_file() else None


def run_properties(run: RunDir) -> pd.DataFrame | None:
    """``properties/properties.csv`` (what ``lilyvae properties`` wrote), or None."""
    path = run.properties_dir / "properties.csv"
    return read_properties(path) if path.is_file() else None
