"""The evaluation's settings: sizes and seeds (recorded in ``metrics.json``) and its
fixed constants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lilyvae.errors import LilyVAEError

METRICS_VERSION = 1
#: The subject name of the baseline: the six inputs, scaled.
BASELINE = "features"
#: A latent dimension is active when the variance of its posterior mean across rows
#: exceeds this (Burda, Grosse & Salakhutdinov 2016).
ACTIVE_THRESHOLD = 0.01
#: False positive rates at which ROC curves are stored (``roc_curves.json``).
ROC_GRID = np.linspace(0.0, 1.0, 101)
SYNTHETIC_LABEL = "SYNTHETIC"


@dataclass(frozen=True)
class EvalConfig:
    """Sizes and seeds of the evaluation (all recorded in ``metrics.json``)."""

    svm_train_rows: int = 8000  # the reference's SVM size
    svm_test_rows: int = 4000
    gmm_components: int = 20
    gmm_rows: int = 10000
    top_classes: int = 10
    zero_shot_classes: tuple[str, ...] | None = None  # None: from the cards, else chosen
    zero_shot_n: int = 6
    fallback_holdout_fraction: float = 0.2  # downstream split when a card has none
    seed: int = 0
    context: int = 0  # depth context: neighbours above and below for every classifier
    boosted_fit_rows: int = 8000  # rows the group comparison's classifiers are fitted on
    interval_rounds: int = 200  # borehole resamples of the group comparison's intervals
    group_comparison: bool = True  # the strongest baseline beside the embeddings

    def __post_init__(self) -> None:
        for name in ("svm_train_rows", "svm_test_rows", "gmm_components", "gmm_rows"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise LilyVAEError(f"{name.replace('_', '-')} must be a positive integer")
        for name in ("boosted_fit_rows", "interval_rounds"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise LilyVAEError(f"{name.replace('_', '-')} must be a positive integer")
        if not isinstance(self.context, (int, np.integer)) or self.context < 0:
            raise LilyVAEError(f"context must be an integer >= 0, not {self.context!r}")
        if self.top_classes <= 0 or self.zero_shot_n < 2:
            raise LilyVAEError("top-classes must be >= 1 and zero-shot-n >= 2")
