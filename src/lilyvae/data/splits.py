"""Held-out boreholes: the boreholes kept out of training so that evaluation scores
boreholes the models never saw (:class:`BoreholeSplit`).

:func:`split_boreholes` draws them by seed; :func:`read_split_file` takes them from a file.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError


@dataclass(frozen=True)
class BoreholeSplit:
    """Boreholes kept out of training, so evaluation scores unseen boreholes.

    Neighbouring 20 cm bins of one borehole are near copies, so a random split of rows
    leaks; a split of whole boreholes does not.
    """

    holdout: tuple[str, ...]
    fraction: float | None = None
    seed: int | None = None
    source: str | None = None  # a split file, when the IDs came from one

    def holdout_mask(self, boreholes: np.ndarray) -> np.ndarray:
        return rows_in(boreholes, self.holdout)

    def to_dict(self) -> dict:
        return {
            "holdout_boreholes": list(self.holdout),
            "fraction": self.fraction,
            "split_seed": self.seed,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, params: dict | None) -> BoreholeSplit | None:
        if not params or not params.get("holdout_boreholes"):
            return None
        return cls(
            tuple(params["holdout_boreholes"]),
            params.get("fraction"),
            params.get("split_seed"),
            params.get("source"),
        )


def rows_in(boreholes: np.ndarray, names) -> np.ndarray:
    """Mask of the rows whose borehole is one of ``names`` (``np.isin``'s answer).

    By hashing: ``np.isin`` and ``np.unique`` sort a table's object array of IDs, about
    0.2 s a call on 238,506 rows, and every stage asks this for every model it scores."""
    return pd.Series(boreholes, copy=False).isin(list(names)).to_numpy(dtype=bool)


def borehole_codes(boreholes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct boreholes and each row's index into them: what
    ``np.unique(boreholes, return_inverse=True)`` returns, by hashing (see :func:`rows_in`)."""
    codes, names = pd.factorize(np.asarray(boreholes), sort=True, use_na_sentinel=False)
    return np.asarray(names), codes.astype(np.int64, copy=False)


def _require_boreholes(data: TrainingData) -> np.ndarray:
    if data.boreholes is None:
        raise LilyVAEError(f"{data.source}: a borehole split needs the {BOREHOLE_COL!r} column")
    return data.boreholes


def split_boreholes(data: TrainingData, fraction: float, seed: int = 0) -> BoreholeSplit:
    """Hold out ``fraction`` of the boreholes (at least one, never all), chosen by seed."""
    if not 0 < fraction < 1:
        raise LilyVAEError(f"--holdout-boreholes must be a fraction in (0, 1), not {fraction}")
    ids = np.unique(_require_boreholes(data))
    if len(ids) < 2:
        raise LilyVAEError(f"{data.source}: one borehole only; nothing to hold out")
    n_out = min(max(int(round(fraction * len(ids))), 1), len(ids) - 1)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(ids, size=n_out, replace=False))
    return BoreholeSplit(tuple(str(b) for b in chosen), fraction, seed)


def read_split_file(path: str | os.PathLike, data: TrainingData) -> BoreholeSplit:
    """Held-out borehole IDs from a file: one per line (``#`` comments), or a CSV with
    a ``Borehole_ID`` column. Every ID must occur in the data."""
    path = Path(path)
    if not path.is_file():
        raise LilyVAEError(f"{path}: no such split file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LilyVAEError(
            f"{path}: not a text file of borehole IDs (not UTF-8: byte {exc.start})"
        ) from None
    except OSError as exc:
        raise LilyVAEError(f"{path}: cannot read the split file ({exc.strerror})") from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if lines and BOREHOLE_COL in [c.strip() for c in lines[0].split(",")]:
        # A CSV with a Borehole_ID column, whatever the file's extension.
        table = pd.read_csv(io.StringIO("\n".join(lines)), dtype=str, skipinitialspace=True)
        ids = table[BOREHOLE_COL].dropna().str.strip().tolist()
    else:
        ids = lines
    if not ids:
        raise LilyVAEError(f"{path}: lists no borehole IDs")
    known = set(_require_boreholes(data))
    unknown = [b for b in ids if b not in known]
    if unknown:
        raise LilyVAEError(f"{path}: borehole {unknown[0]!r} is not in {data.source}")
    if set(ids) >= known:
        raise LilyVAEError(f"{path}: holds out every borehole; nothing is left to train on")
    return BoreholeSplit(tuple(sorted(set(ids))), source=str(path))
