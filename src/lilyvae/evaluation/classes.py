"""Which lithologies the scores look at: the most frequent ones (ROC curves) and the
zero-shot ones (no downstream classifier is fitted on them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.evaluation.config import EvalConfig
from lilyvae.model.card import ModelCard


def top_classes(labels: np.ndarray, n: int) -> list[int]:
    """The ``n`` most frequent labelled classes (ties: lower index first)."""
    counts = np.bincount(labels[labels >= 0])
    order = np.lexsort((np.arange(len(counts)), -counts))
    return [int(c) for c in order[:n] if counts[c] > 0]


def choose_zero_shot_classes(
    labels: np.ndarray,
    class_names,
    test: np.ndarray,
    n: int = 6,
    seed: int = 0,
    skip_top: int = 10,
    min_train: int = 50,
    min_test: int = 20,
) -> list[str]:
    """Pick ``n`` lithologies for the zero-shot test, seeded: not among the ``skip_top``
    most frequent, with at least ``min_train`` rows on training boreholes and
    ``min_test`` on held-out ones, drawn from the next 40 such classes by frequency."""
    counts = np.bincount(labels[labels >= 0], minlength=len(class_names))
    tr = np.bincount(labels[(labels >= 0) & ~test], minlength=len(class_names))
    te = np.bincount(labels[(labels >= 0) & test], minlength=len(class_names))
    order = np.lexsort((np.arange(len(counts)), -counts))
    pool = [int(c) for c in order[skip_top:] if tr[c] >= min_train and te[c] >= min_test][:40]
    if len(pool) < 2:
        pool = [int(c) for c in order if tr[c] > 0 and te[c] > 0][:40]
    if len(pool) < 2:
        return []
    rng = np.random.default_rng(seed)
    picked = rng.choice(pool, size=min(n, len(pool)), replace=False)
    return sorted(class_names[c] for c in picked)


def withheld_labels(card: ModelCard) -> list[str]:
    """Lithologies whose labels were hidden from a semi-supervised model in training."""
    info = card.extra.get("labels_withheld") or {}
    return list(info.get("classes", [])) if isinstance(info, dict) else list(info)


@dataclass(frozen=True)
class ZeroShotClasses:
    """The zero-shot lithologies: names, indices into the data's classes, and why."""

    names: list[str]
    indices: list[int]
    source: str


def zero_shot_classes(
    data: TrainingData, cards: list[ModelCard], test: np.ndarray, config: EvalConfig
) -> ZeroShotClasses:
    """Given in ``config``, else the labels withheld from the models in training, else
    chosen by seed among the lithologies of ``test`` and the other rows."""
    withheld = sorted({c for card in cards for c in withheld_labels(card)})
    if config.zero_shot_classes:
        names, source = list(config.zero_shot_classes), "given"
    elif withheld:
        names, source = withheld, "labels withheld from the semi-supervised models"
    elif data.n_labelled:
        names = choose_zero_shot_classes(
            data.labels, data.class_names, test, config.zero_shot_n, config.seed
        )
        source = "chosen by seed (lithology labels the semi-supervised encoders did see)"
    else:
        names, source = [], "none"
    index = {n: i for i, n in enumerate(data.class_names)}
    unknown = [n for n in names if n not in index]
    if unknown:
        shown = ", ".join(repr(n) for n in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        what = "--zero-shot-classes names" if source == "given" else f"the {source} include"
        raise LilyVAEError(
            f"{data.source}: {what} {len(unknown)} lithologies the table lacks ({shown}); "
            "pass --zero-shot-classes NAME ... with lithologies of this table"
        )
    return ZeroShotClasses(names, sorted(index[n] for n in names), source)
