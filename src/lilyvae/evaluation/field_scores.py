"""The scores the field reports for lithology prediction, beside balanced accuracy.

- per-borehole macro F1 (the blind-well view of FORCE 2020 and SEG 2016): macro F1 of
  each held-out borehole on its own, then the median and spread over the boreholes;
- boundary F1: how well predicted lithology changes down a borehole match described
  ones (a predicted change counts when a described change lies within ``tolerance``
  bins of it, and the other way round);
- log-loss and expected calibration error (ECE, 15 equal-width bins of confidence) of
  the predicted probabilities, where a classifier gives probabilities.

Rows are taken in table order within each borehole (sorted by depth in the tables
lilyvae writes), as :mod:`.context` takes them.
"""

from __future__ import annotations

import numpy as np

from lilyvae.data.splits import borehole_codes

#: Equal-width confidence bins of the expected calibration error (Guo et al. 2017).
ECE_BINS = 15
#: A predicted change of lithology matches a described one this many bins away or less.
BOUNDARY_TOLERANCE = 1
#: Probabilities are clipped here before the logarithm of the log-loss.
PROBABILITY_FLOOR = 1e-15


def borehole_macro_f1s(y_true, y_pred, boreholes) -> np.ndarray:
    """Macro F1 of each borehole's rows (boreholes in sorted order), over the classes
    described in that borehole, with F1 = 0 for a described class never predicted right
    (scikit-learn's ``f1_score(labels=present, average="macro", zero_division=0)``,
    computed for every borehole at once from counts)."""
    _, b = borehole_codes(boreholes)
    _, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    t, p = codes[: len(y_true)], codes[len(y_true) :]
    n_b, n_c = int(b.max(initial=-1)) + 1, int(codes.max(initial=-1)) + 1

    def counts(cells):
        return np.bincount(cells, minlength=n_b * n_c).reshape(n_b, n_c).astype(np.float64)

    described, predicted = counts(b * n_c + t), counts(b * n_c + p)
    hits = counts((b * n_c + t)[t == p])
    # F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (described + predicted): both > 0 where described
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(described > 0, 2.0 * hits / (described + predicted), np.nan)
    return np.nanmean(f1, axis=1) if n_b else np.zeros(0)


def per_borehole_macro_f1(y_true, y_pred, boreholes) -> dict:
    """Macro F1 of each borehole's rows; its median, quartiles, range and count."""
    y_true, y_pred, boreholes = map(np.asarray, (y_true, y_pred, boreholes))
    values = borehole_macro_f1s(y_true, y_pred, boreholes).tolist()
    if not values:
        return {
            "n_boreholes": 0,
            "median": None,
            "q25": None,
            "q75": None,
            "min": None,
            "max": None,
        }
    q25, median, q75 = (float(v) for v in np.percentile(values, [25, 50, 75]))
    return {
        "n_boreholes": len(values),
        "median": median,
        "q25": q25,
        "q75": q75,
        "min": float(min(values)),
        "max": float(max(values)),
    }


def _changes(labels: np.ndarray, boreholes: np.ndarray) -> np.ndarray:
    """Row indices i where the label differs from row i-1 of the same borehole."""
    same = boreholes[1:] == boreholes[:-1]
    return np.flatnonzero(same & (labels[1:] != labels[:-1])) + 1


def _matched(points: np.ndarray, targets: np.ndarray, tolerance: int) -> int:
    """How many ``points`` have a target at most ``tolerance`` rows away."""
    if len(points) == 0 or len(targets) == 0:
        return 0
    targets = np.sort(targets)
    k = np.searchsorted(targets, points)
    before = np.abs(points - targets[np.clip(k - 1, 0, len(targets) - 1)])
    after = np.abs(targets[np.clip(k, 0, len(targets) - 1)] - points)
    return int(np.sum(np.minimum(before, after) <= tolerance))


def boundary_f1(y_true, y_pred, boreholes, tolerance: int = BOUNDARY_TOLERANCE) -> dict:
    """Precision, recall and F1 of predicted lithology changes against described ones,
    within ``tolerance`` bins, never across boreholes. F1 is None when neither side has
    a change; 0 when only one side has."""
    y_true, y_pred, boreholes = map(np.asarray, (y_true, y_pred, boreholes))
    described = _changes(y_true, boreholes)
    predicted = _changes(y_pred, boreholes)
    # A match never crosses a borehole: each change's position is its row, offset by
    # its borehole's code times more rows than the table has, so that changes of two
    # boreholes are always further apart than any tolerance.
    _, code = borehole_codes(boreholes)
    spread = np.int64(len(boreholes) + tolerance + 1)
    d, p = (code[c].astype(np.int64) * spread + c for c in (described, predicted))
    hits_p, hits_r = _matched(p, d, tolerance), _matched(d, p, tolerance)
    out = {
        "described_changes": int(len(described)),
        "predicted_changes": int(len(predicted)),
        "tolerance_bins": int(tolerance),
        "precision": hits_p / len(predicted) if len(predicted) else None,
        "recall": hits_r / len(described) if len(described) else None,
    }
    if not len(described) and not len(predicted):
        out["f1"] = None
    else:
        p, r = out["precision"] or 0.0, out["recall"] or 0.0
        out["f1"] = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return out


def log_loss(y_true, proba, proba_classes) -> float:
    """Mean negative log probability of the true class (a class the classifier does
    not know has probability 0, clipped at :data:`PROBABILITY_FLOOR`)."""
    y_true, proba = np.asarray(y_true), np.asarray(proba, dtype=np.float64)
    # Each row's column of its class (-1: a class the classifier does not know).
    classes = np.asarray(proba_classes, dtype=np.int64)
    order = np.argsort(classes, kind="stable")
    at = np.clip(np.searchsorted(classes[order], y_true), 0, len(classes) - 1)
    j = np.where(classes[order][at] == y_true, order[at], -1)
    p = np.where(j >= 0, proba[np.arange(len(y_true)), np.clip(j, 0, None)], 0.0)
    return float(-np.mean(np.log(np.clip(p, PROBABILITY_FLOOR, 1.0))))


def expected_calibration_error(y_true, proba, proba_classes, bins: int = ECE_BINS) -> float:
    """ECE: the confidence-weighted gap between confidence (the top probability) and
    accuracy, over ``bins`` equal-width bins of confidence."""
    y_true, proba = np.asarray(y_true), np.asarray(proba, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = np.asarray(proba_classes)[proba.argmax(axis=1)] == y_true
    which = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(gap)


def field_scores(y_true, y_pred, boreholes=None, proba=None, proba_classes=None) -> dict:
    """Every score above that the inputs allow (None where they do not)."""
    out: dict = {"per_borehole_macro_f1": None, "boundary_f1": None}
    if boreholes is not None:
        out["per_borehole_macro_f1"] = per_borehole_macro_f1(y_true, y_pred, boreholes)
        out["boundary_f1"] = boundary_f1(y_true, y_pred, boreholes)
    has_proba = proba is not None and len(y_true) > 0
    out["log_loss"] = log_loss(y_true, proba, proba_classes) if has_proba else None
    out["ece"] = expected_calibration_error(y_true, proba, proba_classes) if has_proba else None
    return out
