"""Scores of probabilistic lithology predictions: calibration error, log-loss, the
coverage and size of prediction sets, and intervals over boreholes or bins.

Kept in the prediction stage (which comes before the analysis stage) so that calibration,
the blind-well test and the evaluation all compute them the same way.
"""

from __future__ import annotations

import numpy as np

#: Bins of the expected calibration error (equal width on the top probability).
ECE_BINS = 15
#: Smallest probability a log-loss takes the log of (a wrong certain answer costs ~27.6).
PROBABILITY_FLOOR = 1e-12


def top_label(proba: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's top-label confidence and whether the top label is the true one."""
    proba = np.asarray(proba, dtype=np.float64)
    return proba.max(axis=1), proba.argmax(axis=1) == np.asarray(labels)


def expected_calibration_error(proba: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS):
    """ECE of the top-label confidence: the mean over ``bins`` equal-width bins of
    |accuracy - mean confidence|, weighted by the bins' share of rows."""
    if len(labels) == 0:
        return float("nan")
    return calibration_error_of(*top_label(proba, labels), bins)


def calibration_error_of(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS):
    """The ECE from each row's top-label confidence and hit (:func:`top_label`)."""
    if len(confidence) == 0:
        return float("nan")
    # Bin edges (0, 1/15], ..., (14/15, 1]: a confidence of exactly 1 is in the last bin.
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=bins)
    hit_sum = np.bincount(which, weights=correct.astype(np.float64), minlength=bins)
    used = count > 0
    gap = np.abs(hit_sum[used] - conf_sum[used]) / count[used]
    return float(np.sum(gap * count[used]) / len(confidence))


def reliability_table(proba: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> list:
    """Per confidence bin: its range, rows, mean confidence and accuracy (a reliability
    diagram's points)."""
    proba = np.asarray(proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == np.asarray(labels)
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        rows.append(
            {
                "low": b / bins,
                "high": (b + 1) / bins,
                "rows": n,
                "confidence": float(confidence[inside].mean()) if n else None,
                "accuracy": float(correct[inside].mean()) if n else None,
            }
        )
    return rows


def true_class_log(proba: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each row's log probability of its true class (floored at PROBABILITY_FLOOR)."""
    labels = np.asarray(labels, dtype=np.int64)
    p = np.asarray(proba, dtype=np.float64)[np.arange(len(labels)), labels]
    return np.log(np.maximum(p, PROBABILITY_FLOOR))


def log_loss(proba: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log probability of the true class."""
    if len(labels) == 0:
        return float("nan")
    return float(-np.mean(true_class_log(proba, labels)))


def set_coverage(sets: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose true class is in the prediction set ((n, classes) bool)."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return float("nan")
    return float(np.mean(np.asarray(sets)[np.arange(len(labels)), labels]))


def mean_set_size(sets: np.ndarray) -> float:
    return float(np.asarray(sets).sum(axis=1).mean()) if len(sets) else float("nan")


def per_row_scores(proba, labels, sets) -> dict[str, np.ndarray]:
    """Per-row pieces whose means are the scores (so that intervals can resample rows or
    whole boreholes): correct top class, log-loss, set hit, set size."""
    labels = np.asarray(labels, dtype=np.int64)
    idx = np.arange(len(labels))
    p_true = np.asarray(proba, dtype=np.float64)[idx, labels]
    out = {
        "accuracy": (np.asarray(proba).argmax(axis=1) == labels).astype(np.float64),
        "log_loss": -np.log(np.maximum(p_true, PROBABILITY_FLOOR)),
    }
    if sets is not None:
        out["coverage"] = np.asarray(sets)[idx, labels].astype(np.float64)
        out["set_size"] = np.asarray(sets).sum(axis=1).astype(np.float64)
    return out


def group_bootstrap_interval(
    statistic,
    groups: np.ndarray,
    n_boot: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """A percentile interval of ``statistic(rows)`` (a function of row indices) over
    resamples of whole groups (boreholes) with replacement; None with fewer than two
    groups. Bins of one borehole are not independent, so they are resampled together."""
    groups = np.asarray(groups)
    names, inverse = np.unique(groups, return_inverse=True)
    if len(names) < 2:
        return None
    members = [np.flatnonzero(inverse == g) for g in range(len(names))]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(names), len(names))
        rows = np.concatenate([members[g] for g in pick])
        value = statistic(rows)
        if np.isfinite(value):
            values.append(value)
    if not values:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)
