"""What several figures derive from the models, computed once per drawing and shared
through ``FigureInputs.memo``: a model's embedding of some rows, its GMM clusters, and
the model the down-core logs show.

The clusters are the evaluation's: its Gaussian mixture, fitted by its own function
(:func:`~lilyvae.evaluation.scores.fit_mixture`) on the rows it draws
(:func:`~lilyvae.evaluation.splits.subsamples`) with the settings and seed that
``metrics.json`` records, on the embeddings standardised over the rows of training
boreholes as it standardises them (in float64, as its posterior means are); so the
clusters of held-out rows are predictions, and the figures' clusters are the ones the
clustering score (ARI) was computed on. Where the evaluation ran in the same process
(the demo), its fitted mixtures are handed over (:func:`adopt_mixtures`) and used
when their rows are the figures' own, instead of being fitted again.
"""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from lilyvae.data.schema import BOREHOLE_COL
from lilyvae.evaluation.config import EvalConfig
from lilyvae.evaluation.scores import (
    FittedMixture,
    fit_mixture,
    mixture_digest,
    standardisation,
)
from lilyvae.evaluation.splits import subsamples
from lilyvae.model.embeddings import NamedModel, embedded_names, embedding_matrix
from lilyvae.report.figures.figure_spec import FigureInputs


def precomputed_embeddings(inputs: FigureInputs) -> set[str]:
    """Models whose embeddings the given embedded table holds for the same rows."""
    if "precomputed" not in inputs.memo:
        emb, table = inputs.embeddings, inputs.table
        names: set[str] = set()
        if emb is not None and len(emb) == len(table):
            same = (
                BOREHOLE_COL not in table.columns
                or BOREHOLE_COL not in emb.columns
                or (
                    emb[BOREHOLE_COL].astype(str).to_numpy()
                    == table[BOREHOLE_COL].astype(str).to_numpy()
                ).all()
            )
            names = set(embedded_names(emb)) if same else set()
        inputs.memo["precomputed"] = names
    return inputs.memo["precomputed"]


def embedding_of(inputs: FigureInputs, m: NamedModel, rows: np.ndarray) -> np.ndarray:
    """The model's embedding (posterior means) of ``rows`` (indices into the valid
    rows), from the embedded table where it holds them."""
    if m.name in precomputed_embeddings(inputs):
        key = ("embedding", m.name)
        if key not in inputs.memo:
            inputs.memo[key] = embedding_matrix(inputs.embeddings, m.name)[inputs.valid]
        return inputs.memo[key][rows]
    return m.model.embed(inputs.features[rows])


def training_rows(inputs: FigureInputs) -> np.ndarray:
    """Rows of boreholes the models trained on (all rows when none were held out)."""
    train = ~inputs.scored
    return np.flatnonzero(train if train.any() else np.ones(len(inputs.frame), bool))


def evaluation_config(inputs: FigureInputs) -> EvalConfig:
    """The evaluation's settings as ``metrics.json`` records them (its defaults, with
    the figures' seed, where the run has no metrics)."""
    recorded = ((inputs.metrics or {}).get("evaluation") or {}).get("config") or {}
    fields = {"svm_train_rows", "svm_test_rows", "gmm_components", "gmm_rows", "seed"}
    given = {k: int(v) for k, v in recorded.items() if k in fields and v is not None}
    return EvalConfig(**({"seed": inputs.options.seed} | given))


def cluster_settings(inputs: FigureInputs) -> tuple[int, int]:
    """(components, fit rows) of the evaluation's Gaussian mixtures."""
    config = evaluation_config(inputs)
    return min(config.gmm_components, len(fit_sample(inputs))), len(fit_sample(inputs))


def fit_sample(inputs: FigureInputs) -> np.ndarray:
    """The rows of training boreholes the evaluation fitted its Gaussian mixtures on,
    drawn again by its own function with its seed; the principal axes are fitted on
    them too."""
    if "fit_sample" not in inputs.memo:
        train = np.zeros(len(inputs.frame), bool)
        train[training_rows(inputs)] = True
        labelled = inputs.labels.notna().to_numpy()
        inputs.memo["fit_sample"] = subsamples(train, labelled, evaluation_config(inputs))[2]
    return inputs.memo["fit_sample"]


#: Fewest rows (fit rows x models) whose mixtures are worth a worker process (which
#: imports scikit-learn first): below this they take about a second here.
SIDE_PROCESS_MIN_ROWS = 10_000


def _mixture_problem(inputs: FigureInputs, m: NamedModel):
    """(the standardised rows the mixture is fitted on, components, seed, mean, sd)."""
    config = evaluation_config(inputs)
    # Every row embedded at once and then indexed, and standardised in float64, as the
    # evaluation does (a float32 mean and sd differ from its own in the fourth digit).
    embedding = embedding_of(inputs, m, np.arange(len(inputs.frame))).astype(np.float64)
    mean, sd = standardisation(embedding, training_rows(inputs))
    X = (embedding[fit_sample(inputs)] - mean) / sd
    return X, config.gmm_components, config.seed, mean, sd


def fit_mixture_one_thread(X: np.ndarray, components: int, seed: int):
    """The evaluation's mixture on one BLAS thread, as the evaluation fits it (small
    dense problems); what a worker process runs."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return fit_mixture(X, components, seed)


def adopt_mixtures(inputs: FigureInputs, mixtures: dict[str, FittedMixture] | None) -> int:
    """Use the evaluation's fitted mixtures (``evaluate(mixtures=...)``, by model name)
    as the models' clusterings where each was fitted on exactly the rows, components
    and seed the figures would fit (equal :func:`~lilyvae.evaluation.scores.mixture_digest`);
    any other is passed over and fitted here. Returns how many were adopted."""
    adopted = 0
    for m in inputs.models:
        given = (mixtures or {}).get(m.name)
        if given is None or ("clustering", m.name) in inputs.memo:
            continue
        X, components, seed, _, _ = _mixture_problem(inputs, m)
        if given.digest == mixture_digest(X, components, seed):
            inputs.memo[("clustering", m.name)] = given
            adopted += 1
    return adopted


def start_clusterings(inputs: FigureInputs, pool) -> int:
    """Start every model's mixture in ``pool`` (worker processes) while this process
    draws, when they are large enough to be worth it; :func:`clustering` collects them
    (the same numbers: the same rows, function, seed and one thread). Returns how many
    were started."""
    if pool is None or len(fit_sample(inputs)) * len(inputs.models) < SIDE_PROCESS_MIN_ROWS:
        return 0
    started = 0
    for m in inputs.models:
        if ("clustering", m.name) in inputs.memo or ("clustering_job", m.name) in inputs.memo:
            continue
        X, components, seed, mean, sd = _mixture_problem(inputs, m)
        job = pool.submit(fit_mixture_one_thread, X, components, seed)
        digest = mixture_digest(X, components, seed)
        inputs.memo[("clustering_job", m.name)] = (job, mean, sd, digest)
        started += 1
    return started


def clustering(inputs: FigureInputs, m: NamedModel) -> FittedMixture:
    """The evaluation's Gaussian mixture of the model's embedding: standardised over
    the rows of training boreholes, fitted on :func:`fit_sample` by the evaluation's
    own function and seed (once per drawing; in a worker when
    :func:`start_clusterings` started it; none at all when :func:`adopt_mixtures`
    took the evaluation's)."""
    key = ("clustering", m.name)
    if key not in inputs.memo:
        gmm = None
        pending = inputs.memo.pop(("clustering_job", m.name), None)
        if pending is not None:
            job, mean, sd, digest = pending
            try:
                gmm = job.result()
            except BrokenProcessPool:  # the worker died (killed, out of memory): here, then
                pass
        if gmm is None:
            X, components, seed, mean, sd = _mixture_problem(inputs, m)
            gmm = fit_mixture_one_thread(X, components, seed)
            digest = mixture_digest(X, components, seed)
        inputs.memo[key] = FittedMixture(gmm, mean, sd, digest)
    return inputs.memo[key]


def clusters_of(inputs: FigureInputs, m: NamedModel, rows: np.ndarray) -> np.ndarray:
    """The GMM cluster (0-based) of each of ``rows`` in the model's embedding."""
    return clustering(inputs, m).predict(embedding_of(inputs, m, rows))


@dataclass(frozen=True)
class PrincipalAxes:
    """The principal axes of a model's embedding and the share of variance of each."""

    mean: np.ndarray
    axes: np.ndarray  # (components, latent)
    explained: np.ndarray

    def project(self, embedding: np.ndarray) -> np.ndarray:
        return (embedding - self.mean) @ self.axes.T


def principal_axes(inputs: FigureInputs, m: NamedModel, n: int = 3) -> PrincipalAxes:
    """The first ``n`` principal axes of the model's embedding of :func:`fit_sample`."""
    key = ("pca", m.name, n)
    if key not in inputs.memo:
        X = embedding_of(inputs, m, fit_sample(inputs))
        mean = X.mean(axis=0)
        _, sv, vt = np.linalg.svd(X - mean, full_matrices=False)
        explained = sv**2 / max(float(np.sum(sv**2)), 1e-300)
        inputs.memo[key] = PrincipalAxes(mean, vt[:n], explained[:n])
    return inputs.memo[key]


def downcore_model(inputs: FigureInputs) -> NamedModel:
    """The model the down-core logs show: a semi-supervised one (it also predicts
    lithology) if any, the one with the most active latent dimensions in the metrics
    (the first among equals)."""
    subjects = (inputs.metrics or {}).get("subjects") or {}

    def active(m: NamedModel) -> int:
        return ((subjects.get(m.name) or {}).get("latent") or {}).get("active_dims", 0)

    semi = [m for m in inputs.models if m.has_head]
    return max(semi or inputs.models, key=active)
