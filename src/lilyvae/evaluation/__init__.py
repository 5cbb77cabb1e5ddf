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

from lilyvae.lazy_exports import lazy_exports

#: Public name -> its module, or (module, name there). Imported on first use (PEP 562),
#: so that the command line can read the evaluation's declared settings (``config``)
#: without importing PyTorch and scikit-learn.
_EXPORTS = {
    "ACTIVE_THRESHOLD": "lilyvae.evaluation.config",
    "BASELINE": "lilyvae.evaluation.config",
    "EvalConfig": "lilyvae.evaluation.config",
    "EvalSplit": "lilyvae.evaluation.splits",
    "METRICS_FILE": "lilyvae.run_folder",
    "METRICS_FORMAT": "lilyvae.run_folder",
    "METRICS_MD": "lilyvae.run_folder",
    "METRICS_VERSION": "lilyvae.run_folder",
    "MISSING_COLOUR_GROUPS": ("lilyvae.evaluation.missing", "GROUPS"),
    "ROC_FILE": "lilyvae.run_folder",
    "ROC_GRID": "lilyvae.evaluation.config",
    "SYNTHETIC_LABEL": "lilyvae.evaluation.config",
    "ScoringRows": "lilyvae.evaluation.splits",
    "Table": "lilyvae.evaluation.tables",
    "ZeroShotClasses": "lilyvae.evaluation.classes",
    "as_training_data": "lilyvae.data.tables",
    "choose_zero_shot_classes": "lilyvae.evaluation.classes",
    "classification_scores": "lilyvae.evaluation.scores",
    "coverage_table": "lilyvae.evaluation.missing_tables",
    "evaluate": "lilyvae.evaluation.pipeline",
    "format_value": "lilyvae.evaluation.tables",
    "gmm_components": "lilyvae.evaluation.tables",
    "head_scores": "lilyvae.evaluation.scores",
    "json_safe": "lilyvae.evaluation.files",
    "latent_health": "lilyvae.evaluation.latent",
    "lookup": "lilyvae.evaluation.tables",
    "markdown_report": "lilyvae.evaluation.text",
    "markdown_table": "lilyvae.evaluation.text",
    "metric_tables": "lilyvae.evaluation.tables",
    "missing_colour": "lilyvae.evaluation.missing",
    "missing_tables": "lilyvae.evaluation.missing_tables",
    "posterior": "lilyvae.evaluation.latent",
    "probability_scores": "lilyvae.evaluation.probability_scores",
    "probability_table": "lilyvae.evaluation.probability_tables",
    "read_metrics": "lilyvae.evaluation.files",
    "read_synthetic_sidecar": "lilyvae.evaluation.provenance",
    "reconstruction_r2": "lilyvae.evaluation.latent",
    "resolve_split": "lilyvae.evaluation.splits",
    "score_space": "lilyvae.evaluation.scores",
    "scoring_rows": "lilyvae.evaluation.splits",
    "subsample": "lilyvae.evaluation.splits",
    "summary_table": "lilyvae.evaluation.tables",
    "summary_text": "lilyvae.evaluation.text",
    "synthetic_notice": "lilyvae.evaluation.provenance",
    "synthetic_tag": "lilyvae.evaluation.tables",
    "top_classes": "lilyvae.evaluation.classes",
    "withheld_labels": "lilyvae.evaluation.classes",
    "write_metrics": "lilyvae.evaluation.files",
    "zero_shot_classes": "lilyvae.evaluation.classes",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
