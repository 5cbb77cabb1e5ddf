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

Typical use::

    from lilyvae.analysis.evaluation import evaluate, write_metrics
    metrics = evaluate(["models/unsup.pt", "models/semisup.pt"], "data/table.csv")
    write_metrics(metrics, "runs/eval")
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from lilyvae.analysis.embeddings import NamedModel, as_named_models
from lilyvae.data.scaling import DistributionAwareScaler
from lilyvae.data.schema import BOREHOLE_COL, FEATURE_SHORT
from lilyvae.data.splits import BoreholeSplit, split_boreholes
from lilyvae.data.tables import TrainingData, load_training_data, training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.files import read_json_file, to_json, write_json_atomic, write_text_atomic

METRICS_FORMAT = "lilyvae-metrics"
METRICS_VERSION = 1
BASELINE = "features"
#: A latent dimension is active when the variance of its posterior mean across rows
#: exceeds this (Burda, Grosse & Salakhutdinov 2016).
ACTIVE_THRESHOLD = 0.01
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

    def __post_init__(self) -> None:
        for name in ("svm_train_rows", "svm_test_rows", "gmm_components", "gmm_rows"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise LilyVAEError(f"{name.replace('_', '-')} must be a positive integer")
        if self.top_classes <= 0 or self.zero_shot_n < 2:
            raise LilyVAEError("top-classes must be >= 1 and zero-shot-n >= 2")


# --- data and provenance ------------------------------------------------------------------


def synthetic_notice(path: str | os.PathLike | None) -> str | None:
    """The notice of a synthetic table's sidecar (``<stem>.synthetic.json``), if any."""
    if not path:
        return None
    from lilyvae.synthetic.generator import SYNTHETIC_NOTICE, sidecar_path

    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        info = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return SYNTHETIC_NOTICE
    if isinstance(info, dict) and info.get("synthetic"):
        return str(info.get("notice") or SYNTHETIC_NOTICE)
    return None


def as_training_data(data) -> TrainingData:
    if isinstance(data, TrainingData):
        return data
    if isinstance(data, pd.DataFrame):
        return training_data_from_frame(data)
    return load_training_data(data)


# --- splits -------------------------------------------------------------------------------


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


def resolve_split(data: TrainingData, card_split: dict | None, config: EvalConfig) -> EvalSplit:
    """The evaluation split for a model whose card records ``card_split``."""
    split = BoreholeSplit.from_dict(card_split)
    warn: list[str] = []
    if split is not None:
        if data.boreholes is None:
            warn.append(
                f"the table has no {BOREHOLE_COL!r} column, so the model's held-out boreholes "
                "cannot be found"
            )
        else:
            mask = split.holdout_mask(data.boreholes)
            present = int(np.isin(np.asarray(split.holdout, dtype=object), data.boreholes).sum())
            if mask.any() and (~mask).any():
                if present < len(split.holdout):
                    warn.append(
                        f"{len(split.holdout) - present} of the model's {len(split.holdout)} "
                        "held-out boreholes are not in this table"
                    )
                return EvalSplit(
                    mask,
                    True,
                    f"held-out boreholes from the model card: {present} boreholes, "
                    f"{int(mask.sum()):,} rows scored; downstream models fitted on the other "
                    f"{int((~mask).sum()):,} rows",
                    tuple(b for b in split.holdout if b in set(data.boreholes[mask])),
                    warn,
                    ("card", split.holdout),
                )
            warn.append(
                f"none of the model's {len(split.holdout)} held-out boreholes is in this table"
                if not mask.any()
                else "the model's held-out boreholes are every borehole of this table"
            )
    # In-sample for the model. The downstream models still get a borehole split.
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
    warn.insert(
        0,
        "IN-SAMPLE: the model card records no held-out boreholes present in this table, so "
        "the model was trained on the rows it is scored on (reconstruction, latent "
        f"statistics and the head are in-sample); {how}",
    )
    return EvalSplit(test, False, f"IN-SAMPLE for the model; {how}", held, warn, ("fresh", held))


# --- scoring helpers -----------------------------------------------------------------------


def _subsample(idx: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if len(idx) <= size:
        return idx
    return np.sort(rng.choice(idx, size=size, replace=False))


def _standardise(X: np.ndarray, train: np.ndarray) -> np.ndarray:
    mean = X[train].mean(axis=0)
    sd = X[train].std(axis=0)
    sd = np.where(sd > 1e-12, sd, 1.0)
    return ((X - mean) / sd).astype(np.float64)


def _finite(v) -> float | None:
    return None if v is None or not math.isfinite(float(v)) else float(v)


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


def _fit_svm(X, y, tr, te, config, top, class_names, curves):
    from sklearn.svm import SVC

    if len(np.unique(y[tr])) < 2:
        return {"skipped": "fewer than two classes among the SVM's training rows"}
    start = time.perf_counter()
    svm = SVC(kernel="rbf", C=1.0, gamma="scale", decision_function_shape="ovr")
    svm.fit(X[tr], y[tr])
    scores = svm.decision_function(X[te])
    if scores.ndim == 1:  # two classes
        scores = np.stack([-scores, scores], axis=1)
    pred = svm.classes_[scores.argmax(axis=1)]
    out = classification_scores(y[te], pred, scores, svm.classes_, top, class_names, curves)
    out |= {"model": "SVC(kernel='rbf', C=1, gamma='scale')", "train_rows": int(len(tr))}
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


def _fit_linear(X, y, tr, te, top, class_names, curves):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    if len(np.unique(y[tr])) < 2:
        return {"skipped": "fewer than two classes among the training rows"}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lda = LinearDiscriminantAnalysis().fit(X[tr], y[tr])
        proba = lda.predict_proba(X[te])
    pred = lda.classes_[proba.argmax(axis=1)]
    out = classification_scores(y[te], pred, proba, lda.classes_, top, class_names, curves)
    out |= {"model": "LinearDiscriminantAnalysis()", "train_rows": int(len(tr))}
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


def _cluster(X, y, fit_rows, te, config):
    from sklearn.metrics import adjusted_rand_score
    from sklearn.mixture import GaussianMixture

    k = min(config.gmm_components, len(fit_rows))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gmm = GaussianMixture(k, covariance_type="full", reg_covar=1e-4, random_state=config.seed)
        gmm.fit(X[fit_rows])
        clusters = gmm.predict(X[te])
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
    sil_idx = _subsample(np.arange(len(te)), 3000, rng)
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


@torch.no_grad()
def posterior(model, features: np.ndarray, batch_size: int = 65536):
    """Posterior means and log-variances (n, latent) of raw features."""
    module = model.module.eval()
    x = torch.as_tensor(model.scaler.transform(features), dtype=torch.float32)
    mus, lvs = [], []
    for i in range(0, x.shape[0], batch_size):
        mu, lv = module.encode(x[i : i + batch_size])
        mus.append(mu)
        lvs.append(lv)
    return torch.cat(mus).numpy().astype(np.float64), torch.cat(lvs).numpy().astype(np.float64)


def latent_health(mu: np.ndarray, logvar: np.ndarray) -> dict:
    """Mean KL to the prior per dimension and the active dimensions."""
    kl = -0.5 * (1 + logvar - mu**2 - np.exp(logvar))
    variance = mu.var(axis=0)
    return {
        "kl_per_dim": [round(float(v), 5) for v in kl.mean(axis=0)],
        "kl_total": float(kl.sum(axis=1).mean()),
        "variance_of_mean": [round(float(v), 5) for v in variance],
        "active_dims": int(np.sum(variance > ACTIVE_THRESHOLD)),
        "latent_dim": int(mu.shape[1]),
        "active_threshold": ACTIVE_THRESHOLD,
    }


def reconstruction_r2(model, features: np.ndarray) -> dict[str, float]:
    """R2 per input in raw units, decoding the posterior mean (deterministic)."""
    from sklearn.metrics import r2_score

    recon = model.reconstruct(features)
    return {
        name: float(r2_score(features[:, j], recon[:, j])) for j, name in enumerate(FEATURE_SHORT)
    }


# --- choosing classes -------------------------------------------------------------------------


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


def withheld_labels(card: dict) -> list[str]:
    """Lithologies whose labels were hidden from a semi-supervised model in training."""
    info = card.get("labels_withheld") or {}
    return list(info.get("classes", [])) if isinstance(info, dict) else list(info)


# --- the evaluation ---------------------------------------------------------------------------


@dataclass
class _SplitCache:
    split: EvalSplit
    svm_train: np.ndarray
    svm_test: np.ndarray
    gmm_fit: np.ndarray
    lab_train: np.ndarray
    lab_test: np.ndarray
    coverage: dict


def _prepare(split: EvalSplit, data: TrainingData, config: EvalConfig) -> _SplitCache:
    rng = np.random.default_rng(config.seed)
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
    return _SplitCache(
        split,
        _subsample(lab_train, config.svm_train_rows, rng),
        _subsample(lab_test, config.svm_test_rows, rng),
        _subsample(np.flatnonzero(split.train), config.gmm_rows, rng),
        lab_train,
        lab_test,
        coverage,
    )


def _score_space(*args, **kwargs) -> dict:
    # Small dense problems (10-D, a few thousand rows): multi-threaded BLAS spends more
    # time synchronising than computing (a 20-component GMM fits five times faster on
    # one thread on two cores).
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _score_space_impl(*args, **kwargs)


def _score_space_impl(
    X: np.ndarray,
    data: TrainingData,
    cache: _SplitCache,
    config: EvalConfig,
    top: list[int],
    zs: list[int],
    curves: dict,
    skipped: dict,
) -> dict:
    """Classification, clustering and zero-shot scores of one representation."""
    out: dict = {"dim": int(X.shape[1])}
    if skipped.get("labels"):
        return out
    Xs = _standardise(X, cache.split.train)
    y = data.labels
    names = data.class_names
    if len(cache.lab_train) == 0 or len(cache.lab_test) == 0:
        return out
    curves["svm"], curves["linear"] = {}, {}
    out["svm"] = _fit_svm(Xs, y, cache.svm_train, cache.svm_test, config, top, names, curves["svm"])
    out["linear"] = _fit_linear(
        Xs, y, cache.lab_train, cache.lab_test, top, names, curves["linear"]
    )
    out["clustering"] = _cluster(Xs, y, cache.gmm_fit, cache.lab_test, config)
    if zs:
        rng = np.random.default_rng(config.seed + 1)
        labelled = y >= 0
        out["zero_shot"] = _zero_shot(
            Xs, y, cache.split.train & labelled, cache.split.test & labelled, zs, names, rng
        )
    return out


def _head_scores(model, data, cache, top, curves) -> dict:
    te = cache.lab_test
    proba = model.predict_proba(data.features[te])
    index = {n: i for i, n in enumerate(data.class_names)}
    model_to_data = np.array([index.get(n, -1) for n in model.class_names], dtype=np.int64)
    pred = model_to_data[proba.argmax(axis=1)]
    keep = model_to_data >= 0
    out = classification_scores(
        data.labels[te], pred, proba[:, keep], model_to_data[keep], top, data.class_names, curves
    )
    out["model"] = "the semi-supervised model's own classification head"
    return out


def _model_info(m: NamedModel, run_dir: Path | None) -> dict:
    card = m.model.card
    path = m.path
    shown = None
    if path is not None:
        shown = str(path)
        if run_dir is not None:
            try:
                shown = str(Path(path).resolve().relative_to(run_dir.resolve()))
            except ValueError:
                shown = str(Path(path).resolve())
    training = card.get("training", {})
    return {
        "checkpoint": shown,
        "kind": m.kind,
        "recipe": m.recipe,
        "epochs": training.get("epochs"),
        "seed": card.get("seed"),
        "latent_dim": m.model.module.latent_dim,
        "trained_on": (card.get("data") or {}).get("path"),
        "trained_on_sha256": (card.get("data") or {}).get("sha256"),
        "rows_trained": (card.get("data") or {}).get("rows_trained"),
        "held_out_boreholes": len((card.get("split") or {}).get("holdout_boreholes") or []),
        "labels_withheld": withheld_labels(card),
        "wall_time_s": card.get("wall_time_s"),
    }


def evaluate(
    models,
    data,
    config: EvalConfig | None = None,
    *,
    run_dir: str | os.PathLike | None = None,
    quiet: bool = True,
    baseline: bool = True,
) -> dict:
    """Score each model's embeddings (and the scaled inputs as a baseline, unless
    ``baseline`` is False: ensembles score it once, not once per pack).

    ``models``: checkpoint paths (``"NAME=PATH"`` allowed), :class:`NamedModel` objects
    or a mapping name -> TrainedModel. ``data``: a table path, DataFrame or
    :class:`TrainingData`. Returns the ``metrics.json`` dictionary (plus a
    ``"_roc_curves"`` entry that :func:`write_metrics` writes to its own file).
    """
    config = config or EvalConfig()
    start = time.perf_counter()
    models = as_named_models(models)
    data = as_training_data(data)
    say = (lambda *_: None) if quiet else print
    run_dir = Path(run_dir) if run_dir is not None else None

    notice = synthetic_notice(data.source)
    trained_synthetic = [m.name for m in models if synthetic_notice(m.model.card["data"]["path"])]
    synthetic = bool(notice or trained_synthetic)
    skipped: dict[str, str] = {}
    if data.n_labelled == 0:
        skipped["labels"] = (
            "the table has no lithology labels ('Principal' absent or empty): classification, "
            "clustering, zero-shot and head metrics are skipped"
        )

    # One split per distinct held-out set; the baseline uses the first model's.
    caches: dict[tuple, _SplitCache] = {}
    model_cache: dict[str, _SplitCache] = {}
    warnings_out: list[str] = []
    for m in models:
        split = resolve_split(data, m.model.card.get("split"), config)
        if split.key not in caches:
            caches[split.key] = _prepare(split, data, config)
            for w in split.warnings:
                warnings_out.append(f"{m.name}: {w}")
        model_cache[m.name] = caches[split.key]
    if len(caches) > 1:
        warnings_out.append(
            "the models were trained with different held-out boreholes: each is scored on its "
            f"own; the {BASELINE!r} baseline uses the split of {models[0].name!r}"
        )
    primary = model_cache[models[0].name]
    for cache in caches.values():
        if cache.coverage["classes_without_training_rows"]:
            k = len(cache.coverage["classes_without_training_rows"])
            warnings_out.append(
                f"{k} lithologies have rows only in held-out boreholes: no classifier can "
                "predict them (they still count in balanced accuracy and macro F1)"
            )
        if cache.coverage["classes_without_held_out_rows"]:
            k = len(cache.coverage["classes_without_held_out_rows"])
            warnings_out.append(
                f"{k} lithologies have no rows in the held-out boreholes: they are not scored"
            )
    if skipped:
        warnings_out.extend(skipped.values())
    if data.n_labelled and len(primary.lab_test) == 0:
        skipped["held_out_labels"] = "no labelled rows in the held-out boreholes"
        warnings_out.append(skipped["held_out_labels"])

    top = top_classes(data.labels, config.top_classes) if data.n_labelled else []
    # Zero-shot classes: given, else withheld in training, else chosen.
    withheld = sorted({c for m in models for c in withheld_labels(m.model.card)})
    if config.zero_shot_classes:
        zs_names, zs_source = list(config.zero_shot_classes), "given"
    elif withheld:
        zs_names, zs_source = withheld, "labels withheld from the semi-supervised models"
    elif data.n_labelled:
        zs_names = choose_zero_shot_classes(
            data.labels, data.class_names, primary.split.test, config.zero_shot_n, config.seed
        )
        zs_source = "chosen by seed (lithology labels the semi-supervised encoders did see)"
    else:
        zs_names, zs_source = [], "none"
    index = {n: i for i, n in enumerate(data.class_names)}
    unknown = [n for n in zs_names if n not in index]
    if unknown:
        raise LilyVAEError(f"zero-shot class {unknown[0]!r} is not a lithology of {data.source}")
    zs = sorted(index[n] for n in zs_names)

    subjects: dict[str, dict] = {}
    curves: dict[str, dict] = {}

    # Baseline: the six inputs, scaled on the training rows only.
    if baseline:
        t0 = time.perf_counter()
        scaler = DistributionAwareScaler().fit(data.features[primary.split.train])
        base = {"kind": "baseline", "recipe": None, "description": "the six scaled inputs"}
        curves[BASELINE] = {}
        base |= _score_space(
            scaler.transform(data.features),
            data,
            primary,
            config,
            top,
            zs,
            curves[BASELINE],
            skipped,
        )
        base["seconds"] = round(time.perf_counter() - t0, 2)
        subjects[BASELINE] = base
        say(f"  scored {BASELINE} (baseline) in {base['seconds']:.1f} s")

    for m in models:
        t0 = time.perf_counter()
        cache = model_cache[m.name]
        test = cache.split.test
        entry = {"kind": m.kind, "recipe": m.recipe, "held_out": cache.split.held_out}
        entry["reconstruction_r2"] = reconstruction_r2(m.model, data.features[test])
        mu_all, logvar_all = posterior(m.model, data.features)
        entry["latent"] = latent_health(mu_all[test], logvar_all[test])
        curves[m.name] = {}
        entry |= _score_space(mu_all, data, cache, config, top, zs, curves[m.name], skipped)
        if "zero_shot" in entry:
            saw = m.kind == "semisupervised" and not set(zs_names) <= set(
                withheld_labels(m.model.card)
            )
            entry["zero_shot"]["encoder_saw_labels"] = saw
        if m.kind == "semisupervised" and not skipped:
            curves[m.name]["head"] = {}
            entry["head"] = _head_scores(m.model, data, cache, top, curves[m.name]["head"])
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        subjects[m.name] = entry
        say(f"  scored {m.name} in {entry['seconds']:.1f} s")

    held_out = all(model_cache[m.name].split.held_out for m in models)
    metrics = {
        "format": METRICS_FORMAT,
        "format_version": METRICS_VERSION,
        "synthetic": synthetic,
        "synthetic_notice": notice
        or (
            f"models {', '.join(trained_synthetic)} were trained on SYNTHETIC data"
            if trained_synthetic
            else None
        ),
        "data": data.provenance()
        | {
            "boreholes": None if data.boreholes is None else int(len(np.unique(data.boreholes))),
        },
        "evaluation": {
            "mode": "held-out boreholes" if held_out else "IN-SAMPLE",
            "split": primary.split.description,
            "held_out_boreholes": list(primary.split.holdout_boreholes),
            "rows_train": int(primary.split.train.sum()),
            "rows_test": int(primary.split.test.sum()),
            "labelled_rows_train": int(len(primary.lab_train)),
            "labelled_rows_test": int(len(primary.lab_test)),
            "svm_train_rows": int(len(primary.svm_train)),
            "svm_test_rows": int(len(primary.svm_test)),
            "gmm_fit_rows": int(len(primary.gmm_fit)),
            "top_classes": [data.class_names[c] for c in top],
            "zero_shot_classes": [data.class_names[c] for c in zs],
            "zero_shot_source": zs_source,
            "coverage": primary.coverage,
            "config": asdict(config),
            "warnings": warnings_out,
            "skipped": skipped,
        },
        "models": {m.name: _model_info(m, run_dir) for m in models},
        "subjects": subjects,
        "wall_time_s": None,
    }
    metrics["wall_time_s"] = round(time.perf_counter() - start, 2)
    metrics["_roc_curves"] = {"fpr": [round(float(v), 4) for v in ROC_GRID], "subjects": curves}
    return metrics


# --- tables (shared by the Markdown file, the printed summary and the report) ------------------


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]
    note: str = ""


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"
    return str(v)


def _get(d: dict | None, *keys):
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def metric_tables(metrics: dict) -> list[Table]:
    """The evaluation as tables (values formatted as text)."""
    ev = metrics["evaluation"]
    subjects = metrics["subjects"]
    tag = f"{SYNTHETIC_LABEL} data. " if metrics.get("synthetic") else ""
    where = "held-out boreholes" if ev["mode"] != "IN-SAMPLE" else "IN-SAMPLE (see warnings)"
    tables = []

    rows = []
    for name, s in subjects.items():
        row = [name, s.get("kind"), s.get("recipe") or "-", s.get("dim")]
        for clf in ("svm", "linear"):
            row += [
                _fmt(_get(s, clf, k))
                for k in ("accuracy", "balanced_accuracy", "macro_f1", "mean_roc_auc")
            ]
        rows.append(row)
    tables.append(
        Table(
            "Lithology classification from embeddings",
            ["subject", "kind", "recipe", "dim"]
            + [f"SVM {k}" for k in ("acc", "bal. acc", "macro F1", "mean AUC")]
            + [f"linear {k}" for k in ("acc", "bal. acc", "macro F1", "mean AUC")],
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
    )

    recon = [
        [name] + [_fmt(s["reconstruction_r2"].get(f)) for f in FEATURE_SHORT]
        for name, s in subjects.items()
        if s.get("reconstruction_r2")
    ]
    if recon:
        tables.append(
            Table(
                "Reconstruction R2 per feature (raw units)",
                ["model", *FEATURE_SHORT],
                recon,
                f"{tag}Decoding the posterior mean (deterministic), on {where}.",
            )
        )

    rows = []
    for name, s in subjects.items():
        lat = s.get("latent") or {}
        rows.append(
            [
                name,
                _fmt(_get(s, "clustering", "ari")),
                f"{lat['active_dims']} of {lat['latent_dim']}" if lat else "-",
                _fmt(lat.get("kl_total")) if lat else "-",
                " ".join(f"{v:.2f}" for v in lat.get("kl_per_dim", [])) if lat else "-",
            ]
        )
    gmm = _get(ev, "config", "gmm_components")
    tables.append(
        Table(
            "Clustering and latent health",
            ["subject", "GMM ARI", "active dims", "KL (nats/row)", "KL per dimension"],
            rows,
            f"{tag}ARI: a {gmm}-component Gaussian mixture fitted on {ev['gmm_fit_rows']:,} "
            "training rows, its clusters on the held-out rows compared with lithology. A "
            f"dimension is active when the variance of its posterior mean exceeds "
            f"{ACTIVE_THRESHOLD}.",
        )
    )

    heads = [
        [name]
        + [
            _fmt(_get(s, "head", k))
            for k in ("accuracy", "balanced_accuracy", "macro_f1", "mean_roc_auc")
        ]
        for name, s in subjects.items()
        if s.get("head")
    ]
    if heads:
        tables.append(
            Table(
                "Semi-supervised classification head",
                ["model", "accuracy", "bal. acc", "macro F1", "mean AUC"],
                heads,
                f"{tag}The model's own head, on all labelled rows of {where}.",
            )
        )

    zrows = []
    for name, s in subjects.items():
        z = s.get("zero_shot")
        if not z or "skipped" in z:
            continue
        zrows.append(
            [
                name,
                _fmt(z["nearest_centroid_accuracy"]),
                _fmt(z["nearest_centroid_balanced_accuracy"]),
                _fmt(z["chance"]),
                _fmt(z["compactness"]),
                _fmt(z["silhouette"]),
                _fmt(z.get("encoder_saw_labels", False)),
            ]
        )
    if zrows:
        tables.append(
            Table(
                "Zero-shot lithologies (no classifier was fitted on them)",
                [
                    "subject",
                    "NC accuracy",
                    "NC bal. acc",
                    "chance",
                    "compactness",
                    "silhouette",
                    "encoder saw labels",
                ],
                zrows,
                f"{tag}Classes: {', '.join(ev['zero_shot_classes'])} ({ev['zero_shot_source']}). "
                "No classifier was fitted on them. Nearest centroid (NC): centroids from "
                "training-borehole rows, held-out rows assigned to the nearest one among these "
                "classes. Compactness: mean distance to the own centroid over mean distance to "
                "the nearest other one (lower is better); silhouette on held-out rows.",
            )
        )

    aucs = []
    for name, s in subjects.items():
        roc = _get(s, "svm", "roc_auc")
        if roc:
            aucs.append([name] + [_fmt(roc.get(c)) for c in ev["top_classes"]])
    if aucs:
        tables.append(
            Table(
                "SVM one-vs-rest ROC AUC per lithology",
                ["subject", *ev["top_classes"]],
                aucs,
                f"{tag}The {len(ev['top_classes'])} most frequent lithologies, on {where}.",
            )
        )
    return tables


def _md_escape(text) -> str:
    return str(text).replace("|", "\\|")


def markdown_report(metrics: dict) -> str:
    ev = metrics["evaluation"]
    lines = ["# lilyvae evaluation", ""]
    if metrics.get("synthetic"):
        lines += [
            f"**{SYNTHETIC_LABEL} DATA.** {metrics.get('synthetic_notice') or ''} These numbers "
            "describe the synthetic data set, not LILY.",
            "",
        ]
    lines += [f"**Mode: {ev['mode']}.** {ev['split']}.", ""]
    if ev["warnings"]:
        lines += ["Warnings:", ""] + [f"- {w}" for w in ev["warnings"]] + [""]
    d = metrics["data"]
    lines += [
        f"Data: `{d['path']}` (sha256 `{str(d['sha256'])[:16]}`), {d['rows_used']:,} rows "
        f"used, {d['rows_dropped']:,} dropped, {d['n_classes']} lithologies, "
        f"{d.get('boreholes')} boreholes.",
        "",
    ]
    for t in [summary_table(metrics), *metric_tables(metrics)]:
        lines += [f"## {t.title}", ""]
        lines.append("| " + " | ".join(_md_escape(c) for c in t.columns) + " |")
        lines.append("|" + "|".join("---" for _ in t.columns) + "|")
        for row in t.rows:
            lines.append("| " + " | ".join(_md_escape(_fmt(v)) for v in row) + " |")
        lines += ["", t.note, ""]
    cov = ev["coverage"]
    lines += [
        "## Lithologies and the split",
        "",
        f"{cov['classes_in_table']} lithologies in the table, {cov['classes_in_training_rows']} "
        f"in training-borehole rows, {cov['classes_in_held_out_rows']} in held-out rows.",
        "",
        "Only in held-out boreholes (no classifier can predict them): "
        + (", ".join(cov["classes_without_training_rows"]) or "none"),
        "",
        "Not in held-out boreholes (not scored): "
        + (", ".join(cov["classes_without_held_out_rows"]) or "none"),
        "",
    ]
    if ev["skipped"]:
        lines += ["Skipped: " + "; ".join(ev["skipped"].values()), ""]
    cfg = ev["config"]
    lines += [
        f"Parameters: SVM {cfg['svm_train_rows']:,}/{cfg['svm_test_rows']:,} rows asked "
        f"({ev['svm_train_rows']:,}/{ev['svm_test_rows']:,} used), GMM "
        f"{cfg['gmm_components']} components on {ev['gmm_fit_rows']:,} rows, seed "
        f"{cfg['seed']}; evaluation took {metrics['wall_time_s']:.1f} s.",
        "",
    ]
    return "\n".join(lines)


def summary_table(metrics: dict) -> Table:
    """One row per subject with the headline numbers."""
    ev = metrics["evaluation"]
    rows = []
    for name, s in metrics["subjects"].items():
        lat = s.get("latent")
        z = s.get("zero_shot") or {}
        rows.append(
            [
                name,
                s.get("kind"),
                s.get("recipe") or "-",
                _fmt(_get(s, "svm", "balanced_accuracy")),
                _fmt(_get(s, "linear", "balanced_accuracy")),
                _fmt(_get(s, "svm", "mean_roc_auc")),
                _fmt(_get(s, "clustering", "ari")),
                f"{lat['active_dims']}/{lat['latent_dim']}" if lat else "-",
                _fmt(_get(s, "head", "balanced_accuracy")) if s.get("head") else "-",
                _fmt(z.get("nearest_centroid_balanced_accuracy")) if "skipped" not in z else "-",
            ]
        )
    tag = f"{SYNTHETIC_LABEL} data. " if metrics.get("synthetic") else ""
    return Table(
        "Summary",
        [
            "subject",
            "kind",
            "recipe",
            "SVM bal. acc",
            "linear bal. acc",
            "SVM mean AUC",
            "GMM ARI",
            "active dims",
            "head bal. acc",
            "zero-shot NC bal. acc",
        ],
        rows,
        f"{tag}{ev['mode']}: {ev['split']}. SVM: {ev['svm_train_rows']:,} training and "
        f"{ev['svm_test_rows']:,} scored rows, seed {ev['config']['seed']}. 'features' is the "
        "baseline of the six scaled inputs.",
    )


def summary_text(metrics: dict) -> str:
    """A short plain-text summary for the terminal."""
    ev = metrics["evaluation"]
    out = []
    if metrics.get("synthetic"):
        out.append(f"*** {SYNTHETIC_LABEL} DATA: these numbers do not describe LILY ***")
    out.append(f"mode: {ev['mode']} - {ev['split']}")
    for w in ev["warnings"]:
        out.append(f"WARNING: {w}")
    table = summary_table(metrics)
    cells = [table.columns] + [[str(v) for v in row] for row in table.rows]
    widths = [max(len(r[j]) for r in cells) for j in range(len(table.columns))]
    for i, row in enumerate(cells):
        out.append(
            "  ".join(
                v.ljust(w) if j == 0 else v.rjust(w)
                for j, (v, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append(
        f"(balanced accuracy on held-out rows; SVM: {ev['svm_train_rows']:,} training / "
        f"{ev['svm_test_rows']:,} scored rows, seed {ev['config']['seed']})"
    )
    return "\n".join(out)


METRICS_FILE = "metrics.json"
METRICS_MD = "metrics.md"
ROC_FILE = "roc_curves.json"


def write_metrics(metrics: dict, output_dir: str | os.PathLike) -> dict[str, Path]:
    """Write ``metrics.json``, ``metrics.md`` and ``roc_curves.json`` into ``output_dir``."""
    out = Path(output_dir)
    metrics = dict(metrics)
    curves = metrics.pop("_roc_curves", None)
    paths = {"metrics": write_json_atomic(out / METRICS_FILE, _clean(metrics))}
    paths["markdown"] = write_text_atomic(out / METRICS_MD, markdown_report(metrics))
    if curves is not None:
        paths["roc_curves"] = write_text_atomic(out / ROC_FILE, to_json(_clean(curves)))
    return paths


def _clean(obj):
    """JSON-safe: NaN/inf to None, numpy scalars to Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return _finite(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def read_metrics(path: str | os.PathLike) -> dict:
    path = Path(path)
    if path.is_dir():
        path = path / METRICS_FILE
    if not path.is_file():
        raise LilyVAEError(f"{path}: no such metrics file (run lilyvae evaluate first)")
    return read_json_file(path, "metrics file", METRICS_FORMAT)
