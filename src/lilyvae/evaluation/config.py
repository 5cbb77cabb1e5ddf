"""The evaluation's settings: sizes and seeds (recorded in ``metrics.json``) and its
fixed constants."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lilyvae.errors import LilyVAEError
from lilyvae.hyperparams import (
    INTEGER,
    NON_NEGATIVE_INT,
    OPEN_FRACTION,
    POSITIVE_INT,
    field_problems,
    hyper,
    hyper_fields,
    integer_kind,
)

TWO_OR_MORE = integer_kind("an integer >= 2", lambda v: v >= 2)

#: The subject name of the baseline: the six inputs, scaled.
BASELINE = "features"
#: A latent dimension is active when the variance of its posterior mean across rows
#: exceeds this (Burda, Grosse & Salakhutdinov 2016).
ACTIVE_THRESHOLD = 0.01
#: False positive rates at which ROC curves are stored (``roc_curves.json``).
ROC_GRID = np.linspace(0.0, 1.0, 101)
SYNTHETIC_LABEL = "SYNTHETIC"


#: The settings ``lilyvae evaluate`` has flags for (generated from the declarations).
EVAL_FLAGS = (
    "svm_train_rows",
    "svm_test_rows",
    "gmm_components",
    "gmm_rows",
    "seed",
    "context",
)


@dataclass(frozen=True)
class EvalConfig:
    """Sizes and seeds of the evaluation (all recorded in ``metrics.json``), declared
    once with :func:`~lilyvae.hyperparams.hyper`: the flags of ``lilyvae evaluate``,
    their help and defaults, and the checks come from here."""

    svm_train_rows: int = hyper(
        8000, "rows the SVM is fitted on (the reference's size)", POSITIVE_INT
    )
    svm_test_rows: int = hyper(4000, "held-out rows the SVM is scored on", POSITIVE_INT)
    gmm_components: int = hyper(
        20, "Gaussian mixture components of the clustering score", POSITIVE_INT
    )
    gmm_rows: int = hyper(10000, "rows the Gaussian mixture is fitted on", POSITIVE_INT)
    top_classes: int = hyper(10, "most frequent classes with ROC curves", POSITIVE_INT)
    zero_shot_classes: tuple[str, ...] | None = None  # None: from the cards, else chosen
    zero_shot_n: int = hyper(
        6, "lithologies of the zero-shot test when none are given", TWO_OR_MORE
    )
    fallback_holdout_fraction: float = hyper(
        0.2, "share of boreholes held out downstream when a card records none", OPEN_FRACTION
    )
    seed: int = hyper(0, "subsamples and GMM seed", INTEGER)
    context: int = hyper(
        0,
        "depth context for every classifier: each bin also sees the K bins above and below "
        "it in its borehole (never across a gap in depth), and their differences",
        NON_NEGATIVE_INT,
    )
    boosted_fit_rows: int = hyper(
        20000, "rows the group comparison's classifiers are fitted on", POSITIVE_INT
    )
    interval_rounds: int = hyper(
        200, "borehole resamples of the group comparison's intervals", POSITIVE_INT
    )
    group_comparison: bool = True  # the strongest baseline beside the embeddings
    # Every classifier's ROC curves and AUCs, the field's scores (boundary F1,
    # per-borehole F1, log-loss) and the models' probability scores (ECE, sets); an
    # ensemble's members and the demo's other seeds leave them out: what is kept of their
    # scores is the scalars of lilyvae.runs.ensemble.scoring.METRIC_PATHS and the
    # balanced accuracies of groups.
    detailed: bool = True

    def __post_init__(self) -> None:
        for name in hyper_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, np.integer):
                object.__setattr__(self, name, int(value))
        problems = field_problems(self)
        if problems:
            name, _, why = problems[0].partition(" ")
            raise LilyVAEError(f"--{name.replace('_', '-')} {why}")
