"""What several figures derive from the models, computed once per drawing and shared
through ``FigureInputs.memo``: a model's embedding of some rows, its GMM clusters, and
the model the down-core logs show.

The clusters follow the evaluation's clustering score: a Gaussian mixture with its
number of components (``metrics.json``'s, else 20), fitted with its seed on the
standardised embeddings of rows of training boreholes, so the clusters of held-out rows
are predictions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from lilyvae.data.schema import BOREHOLE_COL
from lilyvae.model.embeddings import NamedModel, embedded_names, embedding_matrix
from lilyvae.report.figures.spec import FigureInputs

#: Rows the figures' Gaussian mixtures are fitted on, at most (a 20-component mixture on
#: 10 dimensions changes little beyond a few thousand rows, and each costs a second).
CLUSTER_FIT_ROWS = 5000


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


def cluster_settings(inputs: FigureInputs) -> tuple[int, int]:
    """(components, fit rows) of the figures' Gaussian mixtures."""
    config = ((inputs.metrics or {}).get("evaluation") or {}).get("config") or {}
    rows = min(int(config.get("gmm_rows", CLUSTER_FIT_ROWS)), CLUSTER_FIT_ROWS)
    return int(config.get("gmm_components", 20)), rows


def fit_sample(inputs: FigureInputs) -> np.ndarray:
    """Rows of training boreholes the figures' mixtures and principal axes are fitted
    on: up to the mixture's fit rows, drawn with the seed (once per drawing)."""
    if "fit_sample" not in inputs.memo:
        pool = training_rows(inputs)
        n = cluster_settings(inputs)[1]
        rng = np.random.default_rng(inputs.options.seed)
        inputs.memo["fit_sample"] = np.sort(rng.choice(pool, size=min(n, len(pool)), replace=False))
    return inputs.memo["fit_sample"]


@dataclass(frozen=True)
class Clustering:
    """A Gaussian mixture on a model's standardised embedding."""

    gmm: object
    mean: np.ndarray
    sd: np.ndarray

    def predict(self, embedding: np.ndarray) -> np.ndarray:
        return self.gmm.predict((embedding - self.mean) / self.sd)


def clustering(inputs: FigureInputs, m: NamedModel) -> Clustering:
    """The model's Gaussian mixture (fitted once per drawing)."""
    key = ("clustering", m.name)
    if key not in inputs.memo:
        from sklearn.mixture import GaussianMixture
        from threadpoolctl import threadpool_limits

        components = cluster_settings(inputs)[0]
        seed = inputs.options.seed
        fit = fit_sample(inputs)
        X = embedding_of(inputs, m, fit)
        mean, sd = X.mean(axis=0), X.std(axis=0)
        sd = np.where(sd > 1e-12, sd, 1.0)
        # One BLAS thread: small dense problems (see evaluation.scores.score_space).
        with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gmm = GaussianMixture(
                min(components, len(fit)),
                covariance_type="full",
                reg_covar=1e-4,
                random_state=seed,
            ).fit((X - mean) / sd)
        inputs.memo[key] = Clustering(gmm, mean, sd)
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
