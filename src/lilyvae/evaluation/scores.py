"""Scores of one representation: lithology classification (an RBF SVM as the
reference, and linear discriminant analysis), GMM clustering against lithology, the
zero-shot test, and the semi-supervised model's own head.

Every downstream model is fitted on rows of training boreholes and scored on rows of
held-out boreholes (:class:`ScoringRows`).
"""

from __future__ import annotations

import hashlib
import time
import warnings
from dataclasses import dataclass

import numpy as np

from lilyvae.data.tables import TrainingData
from lilyvae.evaluation.config import ROC_GRID, EvalConfig
from lilyvae.evaluation.context import context_features
from lilyvae.evaluation.field_scores import field_scores
from lilyvae.evaluation.groups import class_recall, group_scores
from lilyvae.evaluation.splits import ScoringRows, subsample


def standardisation(X: np.ndarray, train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sd) of ``X`` over the rows ``train``; an sd of a constant column is 1."""
    mean = X[train].mean(axis=0)
    sd = X[train].std(axis=0)
    return mean, np.where(sd > 1e-12, sd, 1.0)


def _standardise(X: np.ndarray, mean: np.ndarray, sd: np.ndarray) -> np.ndarray:
    return ((X - mean) / sd).astype(np.float64)


@dataclass(frozen=True)
class FittedMixture:
    """A Gaussian mixture as the evaluation fitted it on one representation: the
    mixture, the standardisation it was fitted after (mean and sd over the rows of
    training boreholes), and the digest of the standardised rows it was fitted on
    (:func:`mixture_digest`), by which the figures know it is the mixture of their own
    rows and need not fit it again."""

    gmm: object
    mean: np.ndarray
    sd: np.ndarray
    digest: str

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The cluster (0-based) of each row of the unstandardised ``X``."""
        return self.gmm.predict((X - self.mean) / self.sd)


def mixture_digest(X: np.ndarray, components: int, seed: int) -> str:
    """SHA-256 of a mixture's problem: the standardised rows it is fitted on (their
    shape, type and bytes), its components and its seed. Equal digests: the same fit."""
    h = hashlib.sha256(f"{X.shape} {X.dtype} {components} {seed}".encode())
    h.update(np.ascontiguousarray(X).tobytes())
    return h.hexdigest()


def fit_mixture(X: np.ndarray, components: int, seed: int):
    """The evaluation's Gaussian mixture on standardised rows ``X`` (the figures colour
    rows by its clusters, fitted by this same function)."""
    from sklearn.mixture import GaussianMixture

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gmm = GaussianMixture(
            min(components, len(X)), covariance_type="full", reg_covar=1e-4, random_state=seed
        )
        return gmm.fit(X)


def classification_scores(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scores: np.ndarray | None,
    score_classes: np.ndarray | None,
    top: list[int],
    class_names: tuple[str, ...],
    curves: dict | None = None,
) -> dict:
    """Accuracy, balanced accuracy and macro F1 over the classes present in ``y_true``;
    the same at the level of lithology groups, with their confusion counts; recall and
    one-vs-rest ROC AUC for the ``top`` classes (None where undefined)."""
    from sklearn.metrics import f1_score, roc_auc_score, roc_curve

    present = np.unique(y_true)
    recalls = [float(np.mean(y_pred[y_true == c] == c)) for c in present]
    out = {
        "accuracy": float(np.mean(y_pred == y_true)),
        "balanced_accuracy": float(np.mean(recalls)),
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)
        ),
        "test_rows": int(len(y_true)),
        "test_classes": int(len(present)),
        **group_scores(y_true, y_pred, class_names),
        "top_class_recall": class_recall(y_true, y_pred, top, class_names),
    }
    if scores is not None:
        col = {int(c): j for j, c in enumerate(score_classes)}
        aucs, notes = {}, []
        for c in top:
            name = class_names[c]
            pos = y_true == c
            if c not in col:
                aucs[name] = None
                notes.append(f"{name}: no training rows, so no score")
            elif pos.all() or not pos.any():
                aucs[name] = None
                notes.append(
                    f"{name}: no held-out rows" if not pos.any() else f"{name}: only class"
                )
            else:
                s = scores[:, col[c]]
                aucs[name] = float(roc_auc_score(pos, s))
                if curves is not None:
                    fpr, tpr, _ = roc_curve(pos, s)
                    curves[name] = {
                        "auc": aucs[name],
                        "tpr": [round(float(v), 4) for v in np.interp(ROC_GRID, fpr, tpr)],
                    }
        defined = [v for v in aucs.values() if v is not None]
        out["roc_auc"] = aucs
        out["mean_roc_auc"] = float(np.mean(defined)) if defined else None
        if notes:
            out["roc_notes"] = notes
    return out


def _held_out_boreholes(boreholes, te):
    return None if boreholes is None else boreholes[te]


def _fit_svm(X, y, tr, te, config, top, class_names, curves, boreholes=None):
    from lilyvae.evaluation.svm import decision_scores, fit_rbf_svm

    if len(np.unique(y[tr])) < 2:
        return {"skipped": "fewer than two classes among the SVM's training rows"}
    start = time.perf_counter()
    svm = fit_rbf_svm(X[tr], y[tr])
    scores = decision_scores(svm, X[te])
    pred = svm.classes_[scores.argmax(axis=1)]
    ranked = (scores, svm.classes_) if config.detailed else (None, None)
    out = classification_scores(y[te], pred, *ranked, top, class_names, curves)
    if config.detailed:
        out |= field_scores(y[te], pred, _held_out_boreholes(boreholes, te))  # no probabilities
    out |= {"model": "SVC(kernel='rbf', C=1, gamma='scale')", "train_rows": int(len(tr))}
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


def _fit_linear(X, y, tr, te, top, class_names, curves, boreholes=None, detailed=True):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    if len(np.unique(y[tr])) < 2:
        return {"skipped": "fewer than two classes among the training rows"}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lda = LinearDiscriminantAnalysis().fit(X[tr], y[tr])
        proba = lda.predict_proba(X[te])
    pred = lda.classes_[proba.argmax(axis=1)]
    ranked = (proba, lda.classes_) if detailed else (None, None)
    out = classification_scores(y[te], pred, *ranked, top, class_names, curves)
    if detailed:
        out |= field_scores(y[te], pred, _held_out_boreholes(boreholes, te), *ranked)
    out |= {"model": "LinearDiscriminantAnalysis()", "train_rows": int(len(tr))}
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


def _cluster(X, y, fit_rows, te, config, fitted: dict | None = None, standardised=None):
    """The clustering score (ARI of the mixture's clusters on labelled held-out rows);
    with ``fitted``, the mixture as a :class:`FittedMixture` under ``"mixture"``
    (``standardised``: the (mean, sd) that made ``X``)."""
    from sklearn.metrics import adjusted_rand_score

    k = min(config.gmm_components, len(fit_rows))
    start = time.perf_counter()
    X_fit = X[fit_rows]
    gmm = fit_mixture(X_fit, config.gmm_components, config.seed)
    clusters = gmm.predict(X[te])
    if fitted is not None:
        digest = mixture_digest(X_fit, config.gmm_components, config.seed)
        fitted["mixture"] = FittedMixture(gmm, *standardised, digest)
    return {
        "ari": float(adjusted_rand_score(y[te], clusters)),
        "components": int(k),
        "fit_rows": int(len(fit_rows)),
        "test_rows": int(len(te)),
        "seconds": round(time.perf_counter() - start, 2),
    }


def _zero_shot(X, y, train, test, zs: list[int], class_names, rng) -> dict:
    """Nearest-centroid and compactness on classes no classifier was fitted on."""
    from sklearn.metrics import silhouette_score

    kept, dropped = [], []
    for c in zs:
        n_tr, n_te = int(np.sum(train & (y == c))), int(np.sum(test & (y == c)))
        (kept if n_tr and n_te else dropped).append(c)
    if len(kept) < 2:
        return {"skipped": "fewer than two zero-shot classes have rows on both sides of the split"}
    cent = np.stack([X[train & (y == c)].mean(axis=0) for c in kept])
    te = np.flatnonzero(test & np.isin(y, kept))
    d = np.linalg.norm(X[te, None, :] - cent[None, :, :], axis=2)
    truth = np.searchsorted(np.asarray(kept), y[te])  # kept is sorted
    pred = d.argmin(axis=1)
    recalls = {class_names[c]: float(np.mean(pred[truth == i] == i)) for i, c in enumerate(kept)}
    own = d[np.arange(len(te)), truth]
    other = np.where(np.eye(len(kept), dtype=bool)[truth], np.inf, d).min(axis=1)
    sil_idx = subsample(np.arange(len(te)), 3000, rng)
    silhouette = (
        float(silhouette_score(X[te][sil_idx], truth[sil_idx]))
        if len(np.unique(truth[sil_idx])) >= 2
        else None
    )
    return {
        "classes": [class_names[c] for c in kept],
        "dropped_classes": [class_names[c] for c in dropped],
        "nearest_centroid_accuracy": float(np.mean(pred == truth)),
        "nearest_centroid_balanced_accuracy": float(np.mean(list(recalls.values()))),
        "chance": 1.0 / len(kept),
        "compactness": float(np.mean(own) / np.mean(other)),
        "silhouette": silhouette,
        "per_class_recall": recalls,
        "test_rows": int(len(te)),
    }


def score_space(
    X: np.ndarray,
    data: TrainingData,
    rows: ScoringRows,
    config: EvalConfig,
    top: list[int],
    zs: list[int],
    curves: dict,
    skipped: dict,
    fitted: dict | None = None,
) -> dict:
    """Classification, clustering and zero-shot scores of one representation ``X``
    (n, dim); the ROC curves go into ``curves``, and the clustering's mixture (a
    :class:`FittedMixture`) into ``fitted["mixture"]`` where ``fitted`` is given."""
    # Small dense problems (10-D, a few thousand rows): multi-threaded BLAS spends more
    # time synchronising than computing (a 20-component GMM fits five times faster on
    # one thread on two cores).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _score_space(X, data, rows, config, top, zs, curves, skipped, fitted)


def _score_space(X, data, rows, config, top, zs, curves, skipped, fitted) -> dict:
    out: dict = {"dim": int(X.shape[1])}
    if skipped.get("labels"):
        return out
    standardised = standardisation(X, rows.split.train)
    Xs = _standardise(X, *standardised)
    y = data.labels
    names = data.class_names
    if len(rows.lab_train) == 0 or len(rows.lab_test) == 0:
        return out
    curves["svm"], curves["linear"] = {}, {}
    # Depth context (neighbours within each borehole, never across a gap in depth) for
    # the classifiers only.
    bh = data.boreholes
    Xc = context_features(Xs, bh, config.context, data.depths)
    svm_rows = (rows.svm_train, rows.svm_test)
    out["svm"] = _fit_svm(Xc, y, *svm_rows, config, top, names, curves["svm"], bh)
    lab_rows = (rows.lab_train, rows.lab_test)
    out["linear"] = _fit_linear(Xc, y, *lab_rows, top, names, curves["linear"], bh, config.detailed)
    out["clustering"] = _cluster(Xs, y, rows.gmm_fit, rows.lab_test, config, fitted, standardised)
    if zs:
        rng = np.random.default_rng(config.seed + 1)
        labelled = y >= 0
        out["zero_shot"] = _zero_shot(
            Xs, y, rows.split.train & labelled, rows.split.test & labelled, zs, names, rng
        )
    return out


def head_scores(
    model, data: TrainingData, rows: ScoringRows, top: list[int], curves, detailed: bool = True
) -> dict:
    """The semi-supervised model's own classification head on the held-out labelled rows
    (with ROC AUCs where ``detailed``)."""
    te = rows.lab_test
    proba = model.predict_proba(data.features[te])
    index = {n: i for i, n in enumerate(data.class_names)}
    model_to_data = np.array([index.get(n, -1) for n in model.class_names], dtype=np.int64)
    pred = model_to_data[proba.argmax(axis=1)]
    keep = model_to_data >= 0
    ranked = (proba[:, keep], model_to_data[keep]) if detailed else (None, None)
    out = classification_scores(data.labels[te], pred, *ranked, top, data.class_names, curves)
    out["model"] = "the semi-supervised model's own classification head"
    return out
