"""The blind-well test: when the new core has a described lithology, how the prediction
did on it: balanced accuracy, macro F1, expected calibration error and the coverage of
the prediction sets, each with a 95% interval over bins (the core is one borehole, or a
few: bins are what there is to resample)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lilyvae.predict.metrics import ECE_BINS, PROBABILITY_FLOOR, row_bootstrap_interval


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


def balanced_accuracy(y, pred) -> float:
    present = np.unique(y)
    return float(np.mean([np.mean(pred[y == c] == c) for c in present]))


def macro_f1(y, pred) -> float:
    present = np.unique(y)
    scores = []
    for c in present:
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores))


def ece_from_pieces(confidence, correct, bins: int = ECE_BINS) -> float:
    which = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    gap = np.abs(
        np.bincount(which, weights=correct, minlength=bins)
        - np.bincount(which, weights=confidence, minlength=bins)
    )
    return float(gap.sum() / max(count.sum(), 1))


def blind_well_scores(pieces: RowPieces, calibrated: bool, level: float) -> dict:
    """The scores with 95% intervals over bins (None: nothing to score)."""
    if not pieces.label or sum(len(x) for x in pieces.label) == 0:
        return {"scored_bins": 0, "note": "no bin's described lithology is one the model knows"}
    a = pieces.arrays()
    correct = (a["pred"] == a["label"]).astype(np.float64)
    stats = {
        "balanced_accuracy": lambda r: balanced_accuracy(a["label"][r], a["pred"][r]),
        "macro_f1": lambda r: macro_f1(a["label"][r], a["pred"][r]),
        "group_balanced_accuracy": lambda r: balanced_accuracy(
            a["group_label"][r], a["group_pred"][r]
        ),
        "ece": lambda r: ece_from_pieces(a["confidence"][r], correct[r]),
        "log_loss": lambda r: float(
            -np.mean(np.log(np.maximum(a["p_true"][r], PROBABILITY_FLOOR)))
        ),
    }
    if "covered" in a:
        stats[f"coverage_{level:g}"] = lambda r: float(np.mean(a["covered"][r]))
        stats["mean_set_size"] = lambda r: float(np.mean(a["size"][r]))
    n = len(a["label"])
    all_rows = np.arange(n)
    out = {
        name: {"value": f(all_rows), "interval_95": row_bootstrap_interval(f, n)}
        for name, f in stats.items()
    }
    out |= {
        "scored_bins": int(n),
        "bins_with_lithology_unknown_to_model": pieces.unknown,
        "bins_not_described": pieces.undescribed,
        "probabilities": "calibrated" if calibrated else "UNCALIBRATED",
        "intervals": "95% percentile intervals over bootstrap resamples of the core's bins",
    }
    return out
