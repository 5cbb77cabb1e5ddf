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

    from lilyvae.analysis.evaluation import evaluate, write_metrics
    metrics = evaluate(["models/unsup.pt", "models/semisup.pt"], "data/table.csv")
    write_metrics(metrics, "runs/eval")
"""

from lilyvae.analysis.evaluation.classes import (
    ZeroShotClasses,
    choose_zero_shot_classes,
    top_classes,
    withheld_labels,
    zero_shot_classes,
)
from lilyvae.analysis.evaluation.config import (
    ACTIVE_THRESHOLD,
    BASELINE,
    METRICS_VERSION,
    ROC_GRID,
    SYNTHETIC_LABEL,
    EvalConfig,
)
from lilyvae.analysis.evaluation.files import json_safe, read_metrics, write_metrics
from lilyvae.analysis.evaluation.latent import latent_health, posterior, reconstruction_r2
from lilyvae.analysis.evaluation.missing import GROUPS as MISSING_COLOUR_GROUPS
from lilyvae.analysis.evaluation.missing import missing_colour
from lilyvae.analysis.evaluation.missing_tables import coverage_table, missing_tables
from lilyvae.analysis.evaluation.pipeline import evaluate
from lilyvae.analysis.evaluation.provenance import read_synthetic_sidecar, synthetic_notice
from lilyvae.analysis.evaluation.scores import classification_scores, head_scores, score_space
from lilyvae.analysis.evaluation.splits import (
    EvalSplit,
    ScoringRows,
    resolve_split,
    scoring_rows,
    subsample,
)
from lilyvae.analysis.evaluation.tables import (
    Table,
    format_value,
    gmm_components,
    lookup,
    metric_tables,
    summary_table,
    synthetic_tag,
)
from lilyvae.analysis.evaluation.text import markdown_report, markdown_table, summary_text
from lilyvae.analysis.run_dir import METRICS_FILE, METRICS_FORMAT, METRICS_MD, ROC_FILE
from lilyvae.data.tables import as_training_data

__all__ = [
    "ACTIVE_THRESHOLD",
    "BASELINE",
    "METRICS_FILE",
    "METRICS_FORMAT",
    "METRICS_MD",
    "METRICS_VERSION",
    "MISSING_COLOUR_GROUPS",
    "ROC_FILE",
    "ROC_GRID",
    "SYNTHETIC_LABEL",
    "EvalConfig",
    "EvalSplit",
    "ScoringRows",
    "Table",
    "ZeroShotClasses",
    "as_training_data",
    "choose_zero_shot_classes",
    "classification_scores",
    "coverage_table",
    "evaluate",
    "format_value",
    "gmm_components",
    "head_scores",
    "json_safe",
    "latent_health",
    "lookup",
    "markdown_report",
    "markdown_table",
    "metric_tables",
    "missing_colour",
    "missing_tables",
    "posterior",
    "read_metrics",
    "read_synthetic_sidecar",
    "reconstruction_r2",
    "resolve_split",
    "score_space",
    "scoring_rows",
    "subsample",
    "summary_table",
    "summary_text",
    "synthetic_notice",
    "synthetic_tag",
    "top_classes",
    "withheld_labels",
    "write_metrics",
    "zero_shot_classes",
]
