"""Evaluation: what the embeddings are worth, scored on boreholes the models never saw.

Stage two of the downstream half (embeddings -> evaluation -> figures -> report).

Honest by construction:

- When a model card records held-out boreholes (``lilyvae train --holdout-boreholes``),
  every score is computed on rows of those boreholes only, and every downstream
  classifier (SVM, linear model, mixture model, centroids) is fitted on rows of the
  other boreholes. Neighbouring 20 cm bins of one borehole are near copies, so a random
  split of rows would leak; a split of whole boreholes does not.
- When a card records none, the model has seen every row: reconstruction, latent
  statistics and the head's accuracy are then in-sample and the output says so loudly.
  The downstream classifiers are still fitted on some boreholes and scored on others.
- Every representation is compared with a baseline: the six inputs themselves, scaled
  by a scaler fitted on the training boreholes' rows only.

Per representation ("subject"): reconstruction R2 per feature in raw units (decoding
the posterior mean); lithology classification by an RBF SVM (as the reference) and by a
fast linear model (linear discriminant analysis), with accuracy, balanced accuracy,
macro F1 and one-vs-rest ROC AUC for the most frequent classes; GMM clustering scored
by the adjusted Rand index against lithology; latent health (KL per dimension, active
dimensions); the semi-supervised head's own scores; and a zero-shot test on lithologies
no classifier was fitted on (nearest-centroid accuracy and compactness).

The modules, in the order the data passes through them: ``config`` (settings),
``provenance`` (the table, synthetic or not), ``splits`` (which rows score),
``classes`` (which lithologies), ``scores`` and ``latent`` (the numbers), ``pipeline``
(:func:`evaluate`, which runs them all), ``tables`` and ``text`` (the numbers as
tables, Markdown and terminal text), ``files`` (``metrics.json`` and friends); and
``missing`` with ``missing_tables``: what a missing colour scan costs (each model on
complete rows, rows without colour and rows with colour hidden, and the coverage).

Typical use::

    from lilyvae.evaluation import evaluate, write_metrics
    metrics = evaluate(["models/unsup.pt", "models/semisup.pt"], "data/table.csv")
    write_metrics(metrics, "runs/eval")
"""

from __future__ import annotations

import importlib

#: Public name -> (module, name there). Imported on first use (PEP 562), so that the
#: command line can read the evaluation's declared settings (``config``) without
#: importing PyTorch and scikit-learn.
_EXPORTS = {
    "ACTIVE_THRESHOLD": ("lilyvae.evaluation.config", "ACTIVE_THRESHOLD"),
    "BASELINE": ("lilyvae.evaluation.config", "BASELINE"),
    "EvalConfig": ("lilyvae.evaluation.config", "EvalConfig"),
    "EvalSplit": ("lilyvae.evaluation.splits", "EvalSplit"),
    "METRICS_FILE": ("lilyvae.run_folder", "METRICS_FILE"),
    "METRICS_FORMAT": ("lilyvae.run_folder", "METRICS_FORMAT"),
    "METRICS_MD": ("lilyvae.run_folder", "METRICS_MD"),
    "METRICS_VERSION": ("lilyvae.run_folder", "METRICS_VERSION"),
    "MISSING_COLOUR_GROUPS": ("lilyvae.evaluation.missing", "GROUPS"),
    "ROC_FILE": ("lilyvae.run_folder", "ROC_FILE"),
    "ROC_GRID": ("lilyvae.evaluation.config", "ROC_GRID"),
    "SYNTHETIC_LABEL": ("lilyvae.evaluation.config", "SYNTHETIC_LABEL"),
    "ScoringRows": ("lilyvae.evaluation.splits", "ScoringRows"),
    "Table": ("lilyvae.evaluation.tables", "Table"),
    "ZeroShotClasses": ("lilyvae.evaluation.classes", "ZeroShotClasses"),
    "as_training_data": ("lilyvae.data.tables", "as_training_data"),
    "choose_zero_shot_classes": ("lilyvae.evaluation.classes", "choose_zero_shot_classes"),
    "classification_scores": ("lilyvae.evaluation.scores", "classification_scores"),
    "coverage_table": ("lilyvae.evaluation.missing_tables", "coverage_table"),
    "evaluate": ("lilyvae.evaluation.pipeline", "evaluate"),
    "format_value": ("lilyvae.evaluation.tables", "format_value"),
    "gmm_components": ("lilyvae.evaluation.tables", "gmm_components"),
    "head_scores": ("lilyvae.evaluation.scores", "head_scores"),
    "json_safe": ("lilyvae.evaluation.files", "json_safe"),
    "latent_health": ("lilyvae.evaluation.latent", "latent_health"),
    "lookup": ("lilyvae.evaluation.tables", "lookup"),
    "markdown_report": ("lilyvae.evaluation.text", "markdown_report"),
    "markdown_table": ("lilyvae.evaluation.text", "markdown_table"),
    "metric_tables": ("lilyvae.evaluation.tables", "metric_tables"),
    "missing_colour": ("lilyvae.evaluation.missing", "missing_colour"),
    "missing_tables": ("lilyvae.evaluation.missing_tables", "missing_tables"),
    "posterior": ("lilyvae.evaluation.latent", "posterior"),
    "probability_scores": ("lilyvae.evaluation.probability_scores", "probability_scores"),
    "probability_table": ("lilyvae.evaluation.probability_tables", "probability_table"),
    "read_metrics": ("lilyvae.evaluation.files", "read_metrics"),
    "read_synthetic_sidecar": ("lilyvae.evaluation.provenance", "read_synthetic_sidecar"),
    "reconstruction_r2": ("lilyvae.evaluation.latent", "reconstruction_r2"),
    "resolve_split": ("lilyvae.evaluation.splits", "resolve_split"),
    "score_space": ("lilyvae.evaluation.scores", "score_space"),
    "scoring_rows": ("lilyvae.evaluation.splits", "scoring_rows"),
    "subsample": ("lilyvae.evaluation.splits", "subsample"),
    "summary_table": ("lilyvae.evaluation.tables", "summary_table"),
    "summary_text": ("lilyvae.evaluation.text", "summary_text"),
    "synthetic_notice": ("lilyvae.evaluation.provenance", "synthetic_notice"),
    "synthetic_tag": ("lilyvae.evaluation.tables", "synthetic_tag"),
    "top_classes": ("lilyvae.evaluation.classes", "top_classes"),
    "withheld_labels": ("lilyvae.evaluation.classes", "withheld_labels"),
    "write_metrics": ("lilyvae.evaluation.files", "write_metrics"),
    "zero_shot_classes": ("lilyvae.evaluation.classes", "zero_shot_classes"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
