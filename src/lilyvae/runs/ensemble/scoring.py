"""Scoring members on held-out boreholes: a cheap evaluation, flattened to scalars.

Beside each member's own scores, the group comparison of the evaluation
(:mod:`lilyvae.evaluation.baselines`): the balanced accuracy on the 14 lithology groups
of a linear and a boosted classifier, on the six measurements (``features``), on the
member's embedding (``embedding``) and on both (``both``). Every member is scored on
the same rows (the run's held-out boreholes, one fixed subsample of the table), so the
measurements' scores are the same for every member and a member's difference to them
is paired: :mod:`.group_verdict` reads them over the members.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from lilyvae.data.schema import FEATURE_SHORT
from lilyvae.data.tables import TrainingData

#: Scalars taken from :func:`lilyvae.evaluation.evaluate` for each member.
METRIC_PATHS: dict[str, tuple[str, ...]] = {
    "svm_accuracy": ("svm", "accuracy"),
    "svm_balanced_accuracy": ("svm", "balanced_accuracy"),
    "svm_macro_f1": ("svm", "macro_f1"),
    "linear_accuracy": ("linear", "accuracy"),
    "linear_balanced_accuracy": ("linear", "balanced_accuracy"),
    "gmm_ari": ("clustering", "ari"),
    "zero_shot_accuracy": ("zero_shot", "nearest_centroid_accuracy"),
    "head_accuracy": ("head", "accuracy"),
    "head_balanced_accuracy": ("head", "balanced_accuracy"),
    "active_dims": ("latent", "active_dims"),
    "kl_total": ("latent", "kl_total"),
    **{f"r2_{name}": ("reconstruction_r2", name) for name in FEATURE_SHORT},
}


@dataclass(frozen=True)
class MemberEvaluation:
    """How members are scored when the run holds boreholes out: a cheap
    :func:`lilyvae.evaluation.evaluate` on a fixed subsample of the table."""

    rows: int = 20000  # rows of the table scored (held-out and training boreholes)
    svm_train_rows: int = 2000
    svm_test_rows: int = 2000
    gmm_rows: int = 2000
    boosted_fit_rows: int = 2000  # rows the group comparison's classifiers are fitted on
    seed: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def flatten_metrics(subject: dict) -> dict[str, float | None]:
    """One subject's evaluation as ``{metric: value}`` (:data:`METRIC_PATHS`, plus
    ``r2_mean`` when every feature has its R^2)."""
    out: dict[str, float | None] = {}
    for name, path in METRIC_PATHS.items():
        value = subject
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value) if np.isfinite(value) else None
    r2 = [out.get(f"r2_{n}") for n in FEATURE_SHORT]
    if all(v is not None for v in r2):
        out["r2_mean"] = float(np.mean(r2))
    return out


#: The group comparison's representations, as the members' metrics name them.
GROUP_REPRESENTATIONS = ("features", "embedding", "both")
GROUP_METHODS = ("linear", "boosted")


def group_metric(representation: str, method: str) -> str:
    """The name of a member's group-comparison score, e.g.
    ``groups_embedding_boosted_balanced_accuracy``."""
    return f"groups_{representation}_{method}_balanced_accuracy"


def group_scores(comparison: dict | None, name: str) -> dict[str, float]:
    """Member ``name``'s balanced accuracies from the evaluation's group comparison
    (none without one; the boosted ones are missing where XGBoost is)."""
    if not comparison:
        return {}
    from lilyvae.evaluation.baselines import MEASUREMENTS

    both = f"{name}+{MEASUREMENTS}"
    subjects = dict(zip(GROUP_REPRESENTATIONS, (MEASUREMENTS, name, both), strict=True))
    out = {}
    for rep, subject in subjects.items():
        for method in GROUP_METHODS:
            entry = comparison["methods"].get(f"{subject}/{method}")
            if entry is not None:
                out[group_metric(rep, method)] = float(entry["balanced_accuracy"])
    return out


def score_members(
    models: dict, eval_data: TrainingData, how: MemberEvaluation, with_baseline: bool
):
    """Flat metrics per member name (with its group comparison, :func:`group_scores`),
    and the scaled-input baseline's (None unless ``with_baseline``: it is the same for
    every pack of a run)."""
    from lilyvae.evaluation import EvalConfig, evaluate

    config = EvalConfig(
        svm_train_rows=how.svm_train_rows,
        svm_test_rows=how.svm_test_rows,
        gmm_rows=how.gmm_rows,
        boosted_fit_rows=how.boosted_fit_rows,
        detailed=False,
        seed=how.seed,
    )
    metrics = evaluate(
        models, eval_data, config, quiet=True, baseline=with_baseline, missing_groups=False
    )
    subjects = metrics["subjects"]
    baseline = flatten_metrics(subjects["features"]) if with_baseline else None
    comparison = metrics.get("group_comparison")
    scores = {
        name: flatten_metrics(subjects[name]) | group_scores(comparison, name) for name in models
    }
    return scores, baseline


def evaluation_rows(data: TrainingData, how: MemberEvaluation) -> TrainingData:
    """The fixed subsample of ``how.rows`` rows every member of a run is scored on."""
    if data.n_rows <= how.rows:
        return data
    rng = np.random.default_rng([int(how.seed), 0xE7A1])
    keep = np.zeros(data.n_rows, dtype=bool)
    keep[rng.choice(data.n_rows, size=how.rows, replace=False)] = True
    return data.subset(keep)
