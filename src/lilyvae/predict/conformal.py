"""Split conformal prediction sets with least-ambiguous (LAC) scores, calibrated by borehole.

The score of a labelled bin is 1 - p(true class); the set at level L holds every class
whose probability is at least 1 - q(L). The usual rule takes q as the
ceil((n + 1) L) / n quantile of n exchangeable scores. Bins of one borehole are not
exchangeable with another's (neighbouring bins are near copies), boreholes are: so each
calibration borehole counts once (its bins share a weight of 1 / boreholes) and the
finite-sample correction uses the number of boreholes, B: q(L) is the
borehole-weighted quantile of the scores at ceil((B + 1) L) / B. The set then covers, on
average over a new borehole's bins, at least L of them, for a borehole exchangeable with the
calibration boreholes.

So that any level can be asked at prediction time, the calibration keeps the weighted
quantile function on a grid of :data:`GRID` + 1 probabilities (0, 1/GRID, ..., 1); a level
is read at the first grid point at or above its corrected level (never below it).
"""

from __future__ import annotations

import math

import numpy as np

from lilyvae.data.splits import borehole_codes
from lilyvae.errors import LilyVAEError

#: Steps of the kept quantile function.
GRID = 1000


def lac_scores(proba: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The non-conformity score 1 - p(true class) of each labelled row."""
    labels = np.asarray(labels, dtype=np.int64)
    return 1.0 - np.asarray(proba, dtype=np.float64)[np.arange(len(labels)), labels]


def borehole_weights(boreholes: np.ndarray) -> np.ndarray:
    """Each row's weight: 1 / (boreholes x rows of its borehole); they sum to 1."""
    _, inverse = borehole_codes(boreholes)
    counts = np.bincount(inverse)
    return 1.0 / (len(counts) * counts[inverse])


def weighted_quantiles(scores: np.ndarray, weights: np.ndarray, probs: np.ndarray):
    """For each p in ``probs``, the smallest score s with sum(weights[scores <= s]) >= p."""
    order = np.argsort(scores, kind="stable")
    s = np.asarray(scores, dtype=np.float64)[order]
    cumulative = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
    cumulative /= cumulative[-1]
    # Rounding in the sums must not push a quantile one score too far.
    idx = np.searchsorted(cumulative, np.asarray(probs) - 1e-12, side="left")
    return s[np.clip(idx, 0, len(s) - 1)]


def quantile_table(proba: np.ndarray, labels: np.ndarray, boreholes: np.ndarray) -> dict:
    """What a calibration keeps: the borehole-weighted quantile function of the LAC scores
    of labelled calibration bins, and the number of boreholes."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        raise LilyVAEError("no labelled bins to calibrate the prediction sets on")
    scores = lac_scores(proba, labels)
    weights = borehole_weights(np.asarray(boreholes))
    probs = np.arange(GRID + 1) / GRID
    values = weighted_quantiles(scores, weights, probs)
    return {
        "score": "LAC (1 - probability of the true class)",
        "boreholes": int(len(np.unique(boreholes))),
        "bins": int(len(labels)),
        "grid": GRID,
        "quantiles": [float(v) for v in values],
    }


def check_level(level) -> float:
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise LilyVAEError(f"--level must be a number in (0, 1), not {level!r}") from None
    if not 0 < value < 1 or not math.isfinite(value):
        raise LilyVAEError(f"--level must be in (0, 1), not {level}")
    return value


def corrected_level(level: float, boreholes: int) -> float:
    """ceil((B + 1) L) / B: the level of the weighted quantile (above 1: every class)."""
    return math.ceil((boreholes + 1) * level - 1e-9) / boreholes


def threshold(table: dict, level: float) -> float:
    """q(level): a class is in the set when its probability is at least 1 - q."""
    level = check_level(level)
    corrected = corrected_level(level, int(table["boreholes"]))
    if corrected > 1:
        return 1.0  # too few boreholes for this level: the set is every class
    grid = int(table["grid"])
    index = min(math.ceil(corrected * grid - 1e-9), grid)
    return float(table["quantiles"][index])


def prediction_sets(proba: np.ndarray, q: float) -> np.ndarray:
    """(n, classes) bool: class c is in row i's set when p_ic >= 1 - q. A set is never
    empty: the most likely class is always in it."""
    proba = np.asarray(proba)
    sets = proba >= (1.0 - q) - 1e-12
    sets[np.arange(len(proba)), proba.argmax(axis=1)] = True
    return sets
