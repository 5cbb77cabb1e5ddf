"""Which rows score and which fit the downstream models.

When a model card records held-out boreholes, the scored rows are those boreholes'
rows and every downstream model is fitted on the other boreholes' rows. When it records
none, the model has seen every row (IN-SAMPLE, said loudly), and the downstream models
still get a fresh split of whole boreholes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lilyvae.data.held_out import held_out_rows
from lilyvae.data.splits import BoreholeSplit, split_boreholes
from lilyvae.data.tables import TrainingData
from lilyvae.evaluation.config import EvalConfig


@dataclass
class EvalSplit:
    """Which rows score (``test``) and which fit the downstream models (the rest)."""

    test: np.ndarray
    held_out: bool  # True: the model never saw the test rows
    description: str
    holdout_boreholes: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)
    key: tuple = ()

    @property
    def train(self) -> np.ndarray:
        return ~self.test


def resolve_split(
    data: TrainingData, card_split: dict | None, config: EvalConfig, adopted: bool = False
) -> EvalSplit:
    """The evaluation split for a model whose card records ``card_split``: its held-out
    boreholes (:func:`~lilyvae.data.held_out.held_out_rows`) when the table has rows on
    both sides of them, else a fresh borehole split, IN-SAMPLE for the model.
    ``adopted``: weights trained elsewhere (``lilyvae adopt``), whose training rows
    lilyvae never saw."""
    found = held_out_rows(data.boreholes, {"model": card_split})
    warn = list(found.warnings) if found.recorded else []
    if not found.usable:
        return _fresh_split(data, config, warn, adopted)
    mask = found.mask
    return EvalSplit(
        mask,
        True,
        f"held-out boreholes from the model card: {len(found.boreholes)} boreholes, "
        f"{int(mask.sum()):,} rows scored; downstream models fitted on the other "
        f"{int((~mask).sum()):,} rows",
        found.boreholes,
        warn,
        ("card", BoreholeSplit.from_dict(card_split).holdout),
    )


def _fresh_split(
    data: TrainingData, config: EvalConfig, warn: list[str], adopted: bool
) -> EvalSplit:
    """In-sample for the model. The downstream models still get a borehole split."""
    frac, seed = config.fallback_holdout_fraction, config.seed
    if data.boreholes is not None and len(np.unique(data.boreholes)) >= 2:
        fresh = split_boreholes(data, frac, seed)
        test = fresh.holdout_mask(data.boreholes)
        how = (
            f"a fresh split of {len(fresh.holdout)} boreholes ({frac:.0%}, seed {seed}) for "
            "the downstream classifiers"
        )
        held = fresh.holdout
    else:
        rng = np.random.default_rng(seed)
        test = rng.random(data.n_rows) < frac
        how = (
            f"a random {frac:.0%} of rows (seed {seed}) for the downstream classifiers: "
            "LEAKY, neighbouring bins are near copies"
        )
        held = ()
    why = (
        "it was adopted (lilyvae adopt): its weights were trained elsewhere, the published "
        "models on every row of their table, so the rows it is scored on count as seen"
        if adopted
        else "the model was trained on the rows it is scored on (train with "
        "--holdout-boreholes F for a held-out score)"
    )
    warn.insert(
        0,
        "IN-SAMPLE: this model records no held-out boreholes present in this table; "
        f"{why}: reconstruction, latent statistics and the head are in-sample; {how}",
    )
    return EvalSplit(test, False, f"IN-SAMPLE for the model; {how}", held, warn, ("fresh", held))


def subsample(idx: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``size`` of ``idx``, drawn without replacement and kept in order."""
    if len(idx) <= size:
        return idx
    return np.sort(rng.choice(idx, size=size, replace=False))


@dataclass
class ScoringRows:
    """The row indices one split gives each downstream model, and its class coverage."""

    split: EvalSplit
    svm_train: np.ndarray
    svm_test: np.ndarray
    gmm_fit: np.ndarray
    lab_train: np.ndarray  # labelled rows of training boreholes
    lab_test: np.ndarray  # labelled rows of held-out boreholes
    coverage: dict


def subsamples(
    train: np.ndarray, labelled: np.ndarray, config: EvalConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(SVM training rows, SVM scored rows, GMM fit rows): the seeded subsamples of the
    rows of training boreholes (``train``, a mask) and of the others, drawn in this
    order from one generator. The figures draw the GMM's rows here too, so that their
    clusters are the evaluation's."""
    rng = np.random.default_rng(config.seed)
    svm_train = subsample(np.flatnonzero(train & labelled), config.svm_train_rows, rng)
    svm_test = subsample(np.flatnonzero(~train & labelled), config.svm_test_rows, rng)
    return svm_train, svm_test, subsample(np.flatnonzero(train), config.gmm_rows, rng)


def scoring_rows(split: EvalSplit, data: TrainingData, config: EvalConfig) -> ScoringRows:
    """Draw the SVM and GMM subsamples of a split (seeded) and count its classes."""
    labelled = data.labels >= 0
    lab_train = np.flatnonzero(split.train & labelled)
    lab_test = np.flatnonzero(split.test & labelled)
    names = np.asarray(data.class_names, dtype=object)
    have = np.bincount(data.labels[labelled], minlength=len(names)) > 0
    tr = np.bincount(data.labels[lab_train], minlength=len(names)) > 0
    te = np.bincount(data.labels[lab_test], minlength=len(names)) > 0
    coverage = {
        "classes_in_table": int(have.sum()),
        "classes_in_training_rows": int(tr.sum()),
        "classes_in_held_out_rows": int(te.sum()),
        "classes_without_training_rows": [str(n) for n in names[have & ~tr]],
        "classes_without_held_out_rows": [str(n) for n in names[have & ~te]],
    }
    return ScoringRows(
        split,
        *subsamples(split.train, labelled, config),
        lab_train,
        lab_test,
        coverage,
    )
