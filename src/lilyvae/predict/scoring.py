"""The blind-well test: when the new core has a described lithology, how the prediction
did on it: balanced accuracy, macro F1, expected calibration error and the coverage of
the prediction sets, each with a 95% interval from a block bootstrap down the core.

Neighbouring bins of a core are not independent (a bed of one lithology spans many 20 cm
bins, and the model is right or wrong about all of them together), so resampling single
bins makes the intervals too narrow. The bootstrap here resamples contiguous blocks of
:data:`BLOCK_BINS` bins within each borehole instead: the non-overlapping blocks of
each borehole, drawn with replacement as many times as it has blocks (so every
borehole keeps its share of the core).

Every score is a function of sums over bins (a confusion matrix, per-confidence-bin
sums, sums of log-loss, coverage and set size), so each block is reduced once to its
sums and a resample costs a weighted sum of blocks, not a pass over the bins.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lilyvae.predict.metrics import ECE_BINS, PROBABILITY_FLOOR

#: Bins per block of the blind-well bootstrap: 50 bins = 10 m at the 20 cm bins of
#: LILY tables. Long beside the beds and the runs of right or wrong predictions they
#: make (on a SYNTHETIC core: described runs 2.4 m median, 4.6 m mean; the correlation
#: of being right falls from 0.87 at one bin to 0.27 at 50), short enough that a 100 m
#: core still gives ten blocks to resample. See docs/predict.md.
BLOCK_BINS = 50
#: Resamples of the bootstrap, and how many are summed at once.
N_RESAMPLES = 1000
_RESAMPLES_AT_ONCE = 100
INTERVAL_LEVEL = 0.95


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
    borehole: list = field(default_factory=list)
    position: list = field(default_factory=list)
    unknown: int = 0
    undescribed: int = 0

    def add(
        self, proba, sets, labels, class_group, borehole, position, best=None, set_size=None
    ) -> None:
        """One chunk: its calibrated probabilities (n, classes), sets (n, classes) or
        None, class index per bin (-1 unknown, -2 undescribed), and per bin its
        borehole's code and its place in that borehole (0 = the borehole's first bin).
        ``best`` (the most likely class of each bin) and ``set_size``, where the caller
        has them, save a pass over the probabilities and the sets.

        Nothing (n, classes) is copied: only the described bins' entries are read."""
        self.unknown += int((labels == -1).sum())
        self.undescribed += int((labels == -2).sum())
        rows = np.flatnonzero(labels >= 0)
        y = labels[rows]
        best = proba.argmax(axis=1) if best is None else np.asarray(best)
        pred = best[rows].astype(np.int64)
        self.label.append(y)
        self.pred.append(pred)
        self.confidence.append(proba[rows, pred])
        self.p_true.append(proba[rows, y])
        self.group_label.append(class_group[y])
        self.group_pred.append(class_group[pred])
        self.borehole.append(np.asarray(borehole)[rows])
        self.position.append(np.asarray(position)[rows])
        if sets is not None:
            set_size = sets.sum(axis=1) if set_size is None else np.asarray(set_size)
            self.covered.append(sets[rows, y])
            self.size.append(set_size[rows])

    def arrays(self) -> dict[str, np.ndarray]:
        names = ("label", "pred", "confidence", "p_true", "covered", "size")
        names += ("group_label", "group_pred", "borehole", "position")
        return {n: np.concatenate(getattr(self, n)) for n in names if getattr(self, n)}


class _Sums:
    """The columns of the per-block sums: a name for each slice of one sum vector."""

    def __init__(self, n_cls: int, n_grp: int, with_sets: bool):
        self.n_cls, self.n_grp = n_cls, n_grp
        widths = {
            "confusion": n_cls * n_cls,
            "group_confusion": n_grp * n_grp,
            "ece_correct": ECE_BINS,
            "ece_confidence": ECE_BINS,
            "bins": 1,
            "log_loss": 1,
        }
        if with_sets:
            widths |= {"covered": 1, "size": 1}
        self.slices, start = {}, 0
        for name, width in widths.items():
            self.slices[name] = slice(start, start + width)
            start += width
        self.width = start

    def column(self, name: str, offset=0):
        return self.slices[name].start + offset


def _block_sums(a: dict, sums: _Sums, block: np.ndarray, n_blocks: int):
    """(blocks, sums.width) sparse: each block's sums."""
    from scipy.sparse import csr_matrix, hstack

    correct = (a["pred"] == a["label"]).astype(np.float64)
    confidence = a["confidence"].astype(np.float64)
    which = np.clip(np.ceil(confidence * ECE_BINS).astype(np.int64) - 1, 0, ECE_BINS - 1)

    def counts(codes: np.ndarray, width: int):
        # a block holds few distinct (true, predicted) pairs: sparse
        pairs, n = np.unique(block * width + codes, return_counts=True)
        cells = (n.astype(np.float64), (pairs // width, pairs % width))
        return csr_matrix(cells, shape=(n_blocks, width))

    def dense(values: np.ndarray, codes=None, width: int = 1) -> np.ndarray:
        at = block if codes is None else block * width + codes
        return np.bincount(at, weights=values, minlength=n_blocks * width).reshape(-1, width)

    loss = -np.log(np.maximum(a["p_true"].astype(np.float64), PROBABILITY_FLOOR))
    parts = {
        "confusion": counts(a["label"] * sums.n_cls + a["pred"], sums.n_cls**2),
        "group_confusion": counts(a["group_label"] * sums.n_grp + a["group_pred"], sums.n_grp**2),
        "ece_correct": dense(correct, which, ECE_BINS),
        "ece_confidence": dense(confidence, which, ECE_BINS),
        "bins": dense(np.ones(len(block))),
        "log_loss": dense(loss),
    }
    if "covered" in a:
        parts["covered"] = dense(a["covered"].astype(np.float64))
        parts["size"] = dense(a["size"].astype(np.float64))
    return hstack([parts[name] for name in sums.slices], format="csr")


def _recall_means(confusion: np.ndarray) -> np.ndarray:
    """(r,) mean recall over the classes present, of (r, classes, classes) confusions."""
    support = confusion.sum(axis=2)
    present = support > 0
    recall = np.diagonal(confusion, axis1=1, axis2=2) / np.where(present, support, 1.0)
    return (recall * present).sum(axis=1) / present.sum(axis=1)


def _f1_means(confusion: np.ndarray) -> np.ndarray:
    """(r,) mean F1 over the classes present (a class present has support, so its
    denominator is positive)."""
    support = confusion.sum(axis=2)
    present = support > 0
    denominator = np.where(present, support + confusion.sum(axis=1), 1.0)
    f1 = 2 * np.diagonal(confusion, axis1=1, axis2=2) / denominator
    return (f1 * present).sum(axis=1) / present.sum(axis=1)


def _scores(totals: np.ndarray, sums: _Sums, level: float) -> dict[str, np.ndarray]:
    """Every score of each row of ``totals`` ((r, sums.width) summed pieces: the whole
    core, or the resamples of the bootstrap, all at once)."""
    part = {name: totals[:, s] for name, s in sums.slices.items()}
    bins = part["bins"][:, 0]
    confusion = part["confusion"].reshape(-1, sums.n_cls, sums.n_cls)
    groups = part["group_confusion"].reshape(-1, sums.n_grp, sums.n_grp)
    out = {
        "balanced_accuracy": _recall_means(confusion),
        "macro_f1": _f1_means(confusion),
        "group_balanced_accuracy": _recall_means(groups),
        "ece": np.abs(part["ece_correct"] - part["ece_confidence"]).sum(axis=1) / bins,
        "log_loss": part["log_loss"][:, 0] / bins,
    }
    if "covered" in part:
        out[f"coverage_{level:g}"] = part["covered"][:, 0] / bins
        out["mean_set_size"] = part["size"][:, 0] / bins
    return out


def _blocks(borehole: np.ndarray, position: np.ndarray, block_bins: int):
    """(block of each bin, borehole of each block): blocks of ``block_bins`` consecutive
    bins of one borehole, counted from its first bin."""
    per_borehole = int(position.max()) // block_bins + 1
    key = borehole.astype(np.int64) * per_borehole + position // block_bins
    steps = np.diff(key)
    if (steps >= 0).all():  # a core in its order (boreholes coded as they come): no sort
        first = np.r_[True, steps > 0]
        return np.cumsum(first) - 1, key[first] // per_borehole
    distinct, block = np.unique(key, return_inverse=True)
    return block.ravel(), distinct // per_borehole


def _resample_counts(stratum: np.ndarray, n: int, rng) -> np.ndarray:
    """(n, blocks): how often each of ``n`` resamples draws each block; each borehole's
    blocks are drawn, with replacement, as many times as it has blocks."""
    flat = []
    for s in np.unique(stratum):
        members = np.flatnonzero(stratum == s)
        draws = members[rng.integers(0, len(members), (n, len(members)))]
        flat.append((np.arange(n)[:, None] * len(stratum) + draws).ravel())
    counts = np.bincount(np.concatenate(flat), minlength=n * len(stratum))
    return counts.reshape(n, len(stratum)).astype(np.float64)


def blind_well_scores(
    pieces: RowPieces,
    calibrated: bool,
    level: float,
    block_bins: int = BLOCK_BINS,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> dict:
    """The scores with 95% block-bootstrap intervals (``block_bins=1``: single bins)."""
    if not pieces.label or sum(len(x) for x in pieces.label) == 0:
        return {"scored_bins": 0, "note": "no bin's described lithology is one the model knows"}
    a = pieces.arrays()
    n_cls = int(max(a["label"].max(), a["pred"].max()) + 1)
    n_grp = int(max(a["group_label"].max(), a["group_pred"].max()) + 1)
    sums = _Sums(n_cls, n_grp, "covered" in a)
    block, stratum = _blocks(a["borehole"], a["position"], block_bins)
    by_block = _block_sums(a, sums, block, len(stratum))
    whole = _scores(np.asarray(by_block.sum(axis=0)), sums, level)
    values = {name: float(v[0]) for name, v in whole.items()}
    resampled = {name: [] for name in values}
    rng = np.random.default_rng(seed)
    if len(stratum) >= 2:
        for start in range(0, n_resamples, _RESAMPLES_AT_ONCE):
            counts = _resample_counts(stratum, min(_RESAMPLES_AT_ONCE, n_resamples - start), rng)
            totals = np.asarray(by_block.T.dot(counts.T).T)
            for name, scores in _scores(totals, sums, level).items():
                resampled[name].extend(scores)
    tail = (1 - INTERVAL_LEVEL) / 2 * 100
    out = {}
    for name, value in values.items():
        interval = None
        if resampled[name]:
            low, high = np.percentile(resampled[name], [tail, 100 - tail])
            interval = (float(low), float(high))
        out[name] = {"value": value, "interval_95": interval}
    out |= {
        "scored_bins": int(len(a["label"])),
        "bins_with_lithology_unknown_to_model": pieces.unknown,
        "bins_not_described": pieces.undescribed,
        "probabilities": "calibrated" if calibrated else "UNCALIBRATED",
        "intervals": (
            "95% percentile intervals of a block bootstrap: non-overlapping blocks of "
            f"{block_bins} consecutive bins, resampled with replacement within each borehole"
        ),
        "interval_method": {
            "method": "block bootstrap (non-overlapping blocks, within each borehole)",
            "block_bins": int(block_bins),
            "blocks": int(len(stratum)),
            "resamples": int(n_resamples),
            "seed": int(seed),
        },
    }
    return out
