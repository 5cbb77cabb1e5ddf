"""Depth context: each bin's features beside those of its neighbours down the core.

The entries that won the field's lithology contests (FORCE 2020, SEG 2016) fed their
classifiers each sample's neighbours and gradients, because a lithology is a bed, not a
single reading. :func:`context_features` gives every row the values of its ``k``
neighbours above and below and the differences to them. Neighbours are the adjacent rows
of the same borehole in table order (the tables lilyvae writes are sorted by borehole,
then depth); a neighbour is never taken from another borehole. Where a borehole ends
before ``k`` rows, the nearest row of the borehole stands in (a difference of 0 at the
very edge) and a flag column says the neighbour is padding.
"""

from __future__ import annotations

import numpy as np

from lilyvae.errors import LilyVAEError


def borehole_positions(boreholes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each row: the index of the first and of the last row of its run of one
    borehole in table order (a borehole whose rows are not contiguous is several runs)."""
    n = len(boreholes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.ones(n, dtype=bool)
    change[1:] = boreholes[1:] != boreholes[:-1]
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n) - 1
    run = np.cumsum(change) - 1
    return starts[run], ends[run]


def context_columns(dim: int, k: int) -> int:
    """How many columns :func:`context_features` gives ``dim`` features with ``k``."""
    return dim + k * 2 * (2 * dim + 1)


def context_features(X: np.ndarray, boreholes: np.ndarray | None, k: int) -> np.ndarray:
    """``X`` (n, d), then for each offset j = 1..k above and then below: the neighbour's
    values (d), their difference to the row's own (d) and a padding flag (1); ``X``
    itself when ``k`` is 0. ``boreholes``: each row's borehole (required for k > 0)."""
    if k < 0:
        raise LilyVAEError(f"--context must be an integer >= 0, not {k}")
    if k == 0:
        return X
    if boreholes is None:
        raise LilyVAEError(
            "--context needs the table's Borehole_ID column: neighbours are found within a borehole"
        )
    first, last = borehole_positions(np.asarray(boreholes))
    rows = np.arange(len(X))
    parts = [X]
    for j in range(1, k + 1):
        for step in (-j, j):
            want = rows + step
            nb = np.clip(want, first, last)
            padded = (nb != want).astype(X.dtype)[:, None]
            parts += [X[nb], X[nb] - X, padded]
    return np.concatenate(parts, axis=1)
