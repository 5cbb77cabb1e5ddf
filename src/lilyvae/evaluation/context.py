"""Depth context: each bin's features beside those of its neighbours down the core.

The entries that won the field's lithology contests (FORCE 2020, SEG 2016) fed their
classifiers each sample's neighbours and gradients, because a lithology is a bed, not a
single reading. :func:`context_features` gives every row the values of its ``k``
neighbours above and below and the differences to them. Neighbours are the adjacent rows
of the same borehole in table order (the tables lilyvae writes are sorted by borehole,
then depth); a neighbour is never taken from another borehole, nor from across a gap in
depth. A gap is a step between adjacent rows of one borehole larger than
:data:`GAP_FACTOR` times the table's bin step (the median positive step within
boreholes), as where a 20 cm bin is missing (a bin without measurements, a row dropped
for a missing input), or a step that is not positive (rows out of depth order): the
rows on either side are not neighbours down the core. Where a borehole ends, or a gap
begins, before ``k`` rows, the nearest row on this side stands in (a difference of 0 at
the very edge) and a flag column says the neighbour is padding. Without depths (a
table without ``Depth_Bin``) neighbours are taken in table order.
"""

from __future__ import annotations

import numpy as np

from lilyvae.errors import LilyVAEError

#: A step down the core larger than this many bin steps skips at least one bin.
GAP_FACTOR = 1.5


def depth_gaps(boreholes: np.ndarray, depths: np.ndarray | None) -> np.ndarray:
    """(n,) bool: True where a row is not the depth neighbour of the row before it
    within the same borehole (a step over :data:`GAP_FACTOR` bin steps, not positive,
    or not a number). False for the first row of a borehole, and everywhere without
    depths."""
    n = len(boreholes)
    gaps = np.zeros(n, dtype=bool)
    if depths is None or n < 2:
        return gaps
    same = boreholes[1:] == boreholes[:-1]
    steps = np.asarray(depths, dtype=np.float64)[1:] - np.asarray(depths, dtype=np.float64)[:-1]
    with np.errstate(invalid="ignore"):
        positive = same & (steps > 0)
        bin_step = float(np.median(steps[positive])) if positive.any() else np.nan
        adjacent = (steps > 0) & (steps <= GAP_FACTOR * bin_step)
    gaps[1:] = same & ~adjacent
    return gaps


def borehole_positions(
    boreholes: np.ndarray, breaks: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each row: the index of the first and of the last row of its run of one
    borehole in table order (a borehole whose rows are not contiguous is several runs;
    ``breaks``, True where a run must start though the borehole goes on, splits more)."""
    n = len(boreholes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.ones(n, dtype=bool)
    change[1:] = boreholes[1:] != boreholes[:-1]
    if breaks is not None:
        change |= breaks
    starts = np.flatnonzero(change)
    ends = np.append(starts[1:], n) - 1
    run = np.cumsum(change) - 1
    return starts[run], ends[run]


def context_columns(dim: int, k: int) -> int:
    """How many columns :func:`context_features` gives ``dim`` features with ``k``."""
    return dim + k * 2 * (2 * dim + 1)


def context_features(
    X: np.ndarray, boreholes: np.ndarray | None, k: int, depths: np.ndarray | None = None
) -> np.ndarray:
    """``X`` (n, d), then for each offset j = 1..k above and then below: the neighbour's
    values (d), their difference to the row's own (d) and a padding flag (1); ``X``
    itself when ``k`` is 0. ``boreholes``: each row's borehole (required for k > 0);
    ``depths``: each row's depth (Depth_Bin), so that no neighbour is taken across a
    gap (None: table order alone)."""
    if k < 0:
        raise LilyVAEError(f"--context must be an integer >= 0, not {k}")
    if k == 0:
        return X
    if boreholes is None:
        raise LilyVAEError(
            "--context needs the table's Borehole_ID column: neighbours are found within a borehole"
        )
    boreholes = np.asarray(boreholes)
    first, last = borehole_positions(boreholes, depth_gaps(boreholes, depths))
    rows = np.arange(len(X))
    parts = [X]
    for j in range(1, k + 1):
        for step in (-j, j):
            want = rows + step
            nb = np.clip(want, first, last)
            padded = (nb != want).astype(X.dtype)[:, None]
            parts += [X[nb], X[nb] - X, padded]
    return np.concatenate(parts, axis=1)
