"""The blind-well test: when the new core has a described lithology, how the prediction
did on it: balanced accuracy, macro F1, expected calibration error and the coverage of
the prediction sets, each with a 95% interval over bins (the core is one borehole, or a
few: bins are what there is to resample)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lilyvae.predict.metrics import ECE_BINS, PROBABILITY_FLOOR


@dataclass
class RowPieces:
    """Per-bin pieces of the scores, gathered chunk by chunk (described bins only)."""

    label: list = field(default_factory=list)
    pred: list = field(default_factory=list)
    confidence: list = field(default_factory=list)
    p_true: list = field(default_factory=list)
    covered: list = field(default_factory=list)
    size: list = field(default_factory=list)
    group_label: list = field(default_factory=list)
    group_pred: list = field(default_factory=list)
    unknown: int = 0
    undescribed: int = 0

    def add(self, proba, sets, labels, class_group) -> None:
        self.unknown += int((labels == -1).sum())
        self.undescribed += int((labels == -2).sum())
        rows = np.flatnonzero(labels >= 0)
        y = labels[rows]
        p = proba[rows]
        pred = p.argmax(axis=1)
        self.label.append(y)
        self.pred.append(pred)
        self.confidence.append(p.max(axis=1))
        self.p_true.append(p[np.arange(len(y)), y])
        self.group_label.append(class_group[y])
        self.group_pred.append(class_group[pred])
        if sets is not None:
            self.covered.append(sets[rows][np.arange(len(y)), y])
            self.size.append(sets[rows].sum(axis=1))

    def arrays(self) -> dict[str, np.ndarray]:
        names = ("label", "pred", "confidence", "p_true", "covered", "size")
        out = {n: np.concatenate(getattr(self, n)) for n in names if getattr(self, n)}
        out["group_label"] = np.concatenate(self.group_label)
        out["group_pred"] = np.concatenate(self.group_pred)
        return out


def _confusion(y, pred, weights, n) -> np.ndarray:
    return np.bincount(y * n + pred, weights=weights, minlength=n * n).reshape(n, n)


def balanced_accuracy(y, pred, weights=None, n=None) -> float:
    """Mean recall over the classes present (weights: bootstrap counts per row)."""
    n = n or int(max(y.max(), pred.max()) + 1)
    c = _confusion(y, pred, weights, n)
    support = c.sum(axis=1)
    present = support > 0
    return float(np.mean(np.diag(c)[present] / support[present]))


def macro_f1(y, pred, weights=None, n=None) -> float:
    """Mean F1 over the classes present in ``y``."""
    n = n or int(max(y.max(), pred.max()) + 1)
    c = _confusion(y, pred, weights, n)
    tp = np.diag(c)
    support = c.sum(axis=1)
    predicted = c.sum(axis=0)
    present = support > 0
    denominator = (support + predicted)[present]
    return float(np.mean(np.where(denominator > 0, 2 * tp[present] / denominator, 0.0)))


def ece_from_pieces(confidence, correct, weights=None, bins: int = ECE_BINS) -> float:
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    w = np.ones(len(which)) if weights is None else weights
    gap = np.abs(
        np.bincount(which, weights=correct * w, minlength=bins)
        - np.bincount(which, weights=confidence * w, minlength=bins)
    )
    return float(gap.sum() / max(w.sum(), 1))


def _weighted_mean(values, weights) -> float:
    return float(np.average(values, weights=weights))


def _interval(statistic, n: int, n_boot: int = 100, seed: int = 0):
    """95% percentile interval over bootstrap resamples of the rows, each resample given
    as how many times it draws each row (the same as resampling, without copying)."""
    if n < 2:
        return None
    rng = np.random.default_rng(seed)
    values = [statistic(np.bincount(rng.integers(0, n, n), minlength=n)) for _ in range(n_boot)]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def blind_well_scores(pieces: RowPieces, calibrated: bool, level: float) -> dict:
    """The scores with 95% intervals over bins (None: nothing to score)."""
    if not pieces.label or sum(len(x) for x in pieces.label) == 0:
        return {"scored_bins": 0, "note": "no bin's described lithology is one the model knows"}
    a = pieces.arrays()
    correct = (a["pred"] == a["label"]).astype(np.float64)
    n_cls = int(max(a["label"].max(), a["pred"].max()) + 1)
    n_grp = int(max(a["group_label"].max(), a["group_pred"].max()) + 1)
    loss = -np.log(np.maximum(a["p_true"].astype(np.float64), PROBABILITY_FLOOR))
    stats = {
        "balanced_accuracy": lambda w: balanced_accuracy(a["label"], a["pred"], w, n_cls),
        "macro_f1": lambda w: macro_f1(a["label"], a["pred"], w, n_cls),
        "group_balanced_accuracy": lambda w: balanced_accuracy(
            a["group_label"], a["group_pred"], w, n_grp
        ),
        "ece": lambda w: ece_from_pieces(a["confidence"].astype(np.float64), correct, w),
        "log_loss": lambda w: _weighted_mean(loss, w),
    }
    if "covered" in a:
        stats[f"coverage_{level:g}"] = lambda w: _weighted_mean(a["covered"], w)
        stats["mean_set_size"] = lambda w: _weighted_mean(a["size"], w)
    n = len(a["label"])
    out = {
        name: {"value": f(np.ones(n)), "interval_95": _interval(f, n)} for name, f in stats.items()
    }
    out |= {
        "scored_bins": int(n),
        "bins_with_lithology_unknown_to_model": pieces.unknown,
        "bins_not_described": pieces.undescribed,
        "probabilities": "calibrated" if calibrated else "UNCALIBRATED",
        "intervals": "95% percentile intervals over bootstrap resamples of the core's bins",
    }
    return out
