"""The evaluation as tables of text, shared by ``metrics.md``, the printed summary and
the HTML report: one builder per table, each reading only ``metrics.json``'s
dictionary."""

from __future__ import annotations

from lilyvae.data.schema import FEATURE_SHORT
from lilyvae.evaluation.comparison_tables import comparison_table, difference_table
from lilyvae.evaluation.config import ACTIVE_THRESHOLD
from lilyvae.evaluation.missing_tables import missing_tables
from lilyvae.evaluation.probability_tables import probability_table
from lilyvae.evaluation.table_format import Table, format_value, lookup, synthetic_tag

#: The scores of a classifier, in table order.
CLASSIFIER_SCORES = ("accuracy", "balanced_accuracy", "macro_f1", "mean_roc_auc")
CLASSIFIER_SCORE_HEADINGS = ("acc", "bal. acc", "macro F1", "mean AUC")


def gmm_components(ev: dict) -> str:
    """The Gaussian mixture's components as used, and as asked where that differs
    (fewer rows to fit it on than components asked for)."""
    asked = lookup(ev, "config", "gmm_components")
    used = ev.get("gmm_components", asked)
    if used == asked:
        return f"{used} components"
    return f"{used} components ({asked} asked; {ev.get('gmm_fit_rows')} rows to fit them on)"


def _where(metrics: dict) -> str:
    mode = metrics["evaluation"]["mode"]
    return "held-out boreholes" if mode != "IN-SAMPLE" else "IN-SAMPLE (see warnings)"


def metric_tables(metrics: dict) -> list[Table]:
    """The evaluation as tables (values formatted as text)."""
    builders = (
        _classification_table,
        _group_table,
        _reconstruction_table,
        _clustering_table,
        _head_table,
        _zero_shot_table,
        _roc_auc_table,
        _recall_table,
    )
    tables = [build(metrics, synthetic_tag(metrics), _where(metrics)) for build in builders]
    tables[2:2] = [comparison_table(metrics), difference_table(metrics)]
    tables.insert(7, probability_table(metrics))  # after the head's table
    return [t for t in tables if t is not None] + missing_tables(metrics)


def _classification_table(metrics: dict, tag: str, where: str) -> Table:
    ev = metrics["evaluation"]
    rows = []
    for name, s in metrics["subjects"].items():
        row = [name, s.get("kind"), s.get("recipe") or "-", s.get("dim")]
        for clf in ("svm", "linear"):
            row += [format_value(lookup(s, clf, k)) for k in CLASSIFIER_SCORES]
        rows.append(row)
    return Table(
        "Lithology classification from embeddings",
        ["subject", "kind", "recipe", "dim"]
        + [f"SVM {k}" for k in CLASSIFIER_SCORE_HEADINGS]
        + [f"linear {k}" for k in CLASSIFIER_SCORE_HEADINGS],
        rows,
        f"{tag}Scored on {where}: fitted on rows of training boreholes, scored on rows of "
        f"held-out boreholes. SVM: RBF, {ev['svm_train_rows']:,} training rows and "
        f"{ev['svm_test_rows']:,} scored rows drawn with seed {ev['config']['seed']}; "
        "linear: linear discriminant analysis on all "
        f"{ev['labelled_rows_train']:,} training rows, scored on all "
        f"{ev['labelled_rows_test']:,} held-out rows. Mean AUC: one-vs-rest over the "
        f"{len(ev['top_classes'])} most frequent lithologies. Balanced accuracy and macro "
        "F1 average over the lithologies present in the scored rows.",
    )


#: Group-level scores of each classifier: (heading, classifier, key).
_GROUP_COLUMNS = tuple(
    (f"{who} {heading}", clf, key)
    for who, clf in (("SVM", "svm"), ("linear", "linear"), ("head", "head"))
    for heading, key in (("acc", "group_accuracy"), ("bal. acc", "group_balanced_accuracy"))
)


def _group_table(metrics: dict, tag: str, where: str) -> Table | None:
    rows = [
        [name, *(format_value(lookup(s, clf, key)) for _, clf, key in _GROUP_COLUMNS)]
        for name, s in metrics["subjects"].items()
        if lookup(s, "svm", "group_accuracy") is not None
    ]
    if not rows:
        return None
    return Table(
        "Lithology-group classification (14 groups)",
        ["subject", *(heading for heading, _, _ in _GROUP_COLUMNS)],
        rows,
        f"{tag}The same predictions as above, on {where}, counted right when the predicted "
        "lithology is in the described lithology's group (resources/lithology_classes.csv: "
        "carbonate, clay/mud, sand, ...). Balanced accuracy averages the recall of the "
        "groups present in the scored rows. Head: the semi-supervised model's own head "
        "('n/a' for other subjects).",
    )


def _subject_rows(metrics: dict, path: tuple[str, ...], keys) -> list[list]:
    """A row per subject that has an entry at ``path``: its name, then the entry's
    values of ``keys``, formatted."""
    rows = []
    for name, s in metrics["subjects"].items():
        entry = lookup(s, *path)
        if entry:
            rows.append([name, *(format_value(entry.get(k)) for k in keys)])
    return rows


def _reconstruction_table(metrics: dict, tag: str, where: str) -> Table | None:
    rows = _subject_rows(metrics, ("reconstruction_r2",), FEATURE_SHORT)
    note = f"{tag}Decoding the posterior mean (deterministic), on {where}."
    title = "Reconstruction R2 per feature (raw units)"
    return Table(title, ["model", *FEATURE_SHORT], rows, note) if rows else None


def _clustering_table(metrics: dict, tag: str, where: str) -> Table:
    ev = metrics["evaluation"]
    rows = []
    for name, s in metrics["subjects"].items():
        lat = s.get("latent") or {}
        rows.append(
            [
                name,
                format_value(lookup(s, "clustering", "ari")),
                f"{lat['active_dims']} of {lat['latent_dim']}" if lat else "-",
                format_value(lat.get("kl_total")) if lat else "-",
                " ".join(f"{v:.2f}" for v in lat.get("kl_per_dim", [])) if lat else "-",
            ]
        )
    return Table(
        "Clustering and latent health",
        ["subject", "GMM ARI", "active dims", "KL (nats/row)", "KL per dimension"],
        rows,
        f"{tag}ARI: a Gaussian mixture of {gmm_components(ev)} fitted on {ev['gmm_fit_rows']:,} "
        "training rows, its clusters on the held-out rows compared with lithology. A "
        f"dimension is active when the variance of its posterior mean exceeds "
        f"{ACTIVE_THRESHOLD}.",
    )


def _head_table(metrics: dict, tag: str, where: str) -> Table | None:
    rows = _subject_rows(metrics, ("head",), CLASSIFIER_SCORES)
    if not rows:
        return None
    columns = ["model", "accuracy", "bal. acc", "macro F1", "mean AUC"]
    note = f"{tag}The model's own head, on all labelled rows of {where}."
    return Table("Semi-supervised classification head", columns, rows, note)


#: Zero-shot table columns: (heading, key in the subject's ``zero_shot`` entry).
_ZERO_SHOT_COLUMNS = (
    ("NC accuracy", "nearest_centroid_accuracy"),
    ("NC bal. acc", "nearest_centroid_balanced_accuracy"),
    ("chance", "chance"),
    ("compactness", "compactness"),
    ("silhouette", "silhouette"),
)


def _zero_shot_table(metrics: dict, tag: str, where: str) -> Table | None:
    ev = metrics["evaluation"]
    rows = []
    for name, s in metrics["subjects"].items():
        z = s.get("zero_shot")
        if z and "skipped" not in z:
            values = [format_value(z[key]) for _, key in _ZERO_SHOT_COLUMNS]
            rows.append([name, *values, format_value(z.get("encoder_saw_labels", False))])
    if not rows:
        return None
    return Table(
        "Zero-shot lithologies (no classifier was fitted on them)",
        ["subject", *(heading for heading, _ in _ZERO_SHOT_COLUMNS), "encoder saw labels"],
        rows,
        f"{tag}Classes: {', '.join(ev['zero_shot_classes'])} ({ev['zero_shot_source']}). "
        "No classifier was fitted on them. Nearest centroid (NC): centroids from "
        "training-borehole rows, held-out rows assigned to the nearest one among these "
        "classes. Compactness: mean distance to the own centroid over mean distance to "
        "the nearest other one (lower is better); silhouette on held-out rows.",
    )


def _per_class_table(metrics: dict, key: str, title: str, what: str) -> Table | None:
    """A row per subject: the SVM's ``key`` entry for each of the most frequent
    lithologies."""
    top = metrics["evaluation"]["top_classes"]
    rows = _subject_rows(metrics, ("svm", key), top)
    note = f"{synthetic_tag(metrics)}{what.format(n=len(top))}, on {_where(metrics)}."
    return Table(title, ["subject", *top], rows, note) if rows else None


def _roc_auc_table(metrics: dict, tag: str, where: str) -> Table | None:
    what = "The {n} most frequent lithologies"
    return _per_class_table(metrics, "roc_auc", "SVM one-vs-rest ROC AUC per lithology", what)


def _recall_table(metrics: dict, tag: str, where: str) -> Table | None:
    what = (
        "The share of each of the {n} most frequent lithologies' scored rows that the SVM "
        "predicts as that lithology"
    )
    return _per_class_table(metrics, "top_class_recall", "SVM recall per lithology", what)


#: Summary columns after subject, kind and recipe.
_SUMMARY_HEADINGS = (
    "SVM bal. acc",
    "SVM group bal. acc",
    "linear bal. acc",
    "SVM mean AUC",
    "GMM ARI",
    "active dims",
    "head bal. acc",
    "zero-shot NC bal. acc",
)


def _summary_row(name: str, s: dict) -> list:
    lat = s.get("latent")
    z = s.get("zero_shot") or {}
    return [
        name,
        s.get("kind"),
        s.get("recipe") or "-",
        format_value(lookup(s, "svm", "balanced_accuracy")),
        format_value(lookup(s, "svm", "group_balanced_accuracy")),
        format_value(lookup(s, "linear", "balanced_accuracy")),
        format_value(lookup(s, "svm", "mean_roc_auc")),
        format_value(lookup(s, "clustering", "ari")),
        f"{lat['active_dims']}/{lat['latent_dim']}" if lat else "-",
        format_value(lookup(s, "head", "balanced_accuracy")) if s.get("head") else "-",
        format_value(z.get("nearest_centroid_balanced_accuracy")) if "skipped" not in z else "-",
    ]


def summary_table(metrics: dict) -> Table:
    """One row per subject with the headline numbers."""
    ev = metrics["evaluation"]
    return Table(
        "Summary",
        ["subject", "kind", "recipe", *_SUMMARY_HEADINGS],
        [_summary_row(name, s) for name, s in metrics["subjects"].items()],
        f"{synthetic_tag(metrics)}{ev['mode']}: {ev['split']}. SVM: "
        f"{ev['svm_train_rows']:,} training and {ev['svm_test_rows']:,} scored rows, seed "
        f"{ev['config']['seed']}. 'features' is the baseline of the six scaled inputs.",
    )
