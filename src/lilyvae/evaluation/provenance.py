"""Where the evaluated data came from: the table itself and whether it is SYNTHETIC."""

from __future__ import annotations

import os

import pandas as pd

from lilyvae.data.provenance import table_provenance
from lilyvae.data.tables import TrainingData, load_training_data, training_data_from_frame
from lilyvae.files import read_json_file


def read_synthetic_sidecar(table: str | os.PathLike | None) -> dict | None:
    """A synthetic table's sidecar (``<stem>.synthetic.json``), or None when the table
    has none; a corrupt sidecar is a one-line error naming it."""
    if not table:
        return None
    from lilyvae.synthetic.generator import sidecar_path

    side = sidecar_path(table)
    if not side.is_file():
        return None
    return read_json_file(side, "synthetic-table sidecar")


def synthetic_notice(path: str | os.PathLike | None) -> str | None:
    """The notice of a SYNTHETIC table (its ``<stem>.synthetic.json`` sidecar, or the
    build manifest of a table built from synthetic files), or None."""
    return table_provenance(path).notice


def as_training_data(data, keep_partial: bool = False) -> TrainingData:
    """A table path, DataFrame or :class:`TrainingData` as TrainingData (with
    ``keep_partial``, a table's rows lacking some input too)."""
    if isinstance(data, TrainingData):
        return data
    if isinstance(data, pd.DataFrame):
        return training_data_from_frame(data, keep_partial=keep_partial)
    return load_training_data(data, keep_partial=keep_partial)
