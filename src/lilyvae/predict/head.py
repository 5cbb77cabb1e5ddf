"""A lithology head for a model that has none (the unsupervised VAE), kept without pickle.

Linear discriminant analysis on the standardised embedding, the evaluation's linear
classifier, fitted on labelled bins of the boreholes the model trained on. Its
probabilities are a softmax of a linear function of the embedding (a multinomial logistic
form), so it is saved as numbers (the standardisation, coefficients and intercepts) in
the calibration's JSON and rebuilt from them, never unpickled. LDA rather than a fitted
logistic regression: it is fitted in closed form, in a second where a 139-class logistic
regression takes a minute.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from lilyvae.errors import LilyVAEError

#: Most bins the head is fitted on (an even draw of the labelled reference bins).
MAX_FIT_ROWS = 50_000


@dataclass(frozen=True)
class LinearHead:
    mean: np.ndarray  # (latent,)
    scale: np.ndarray  # (latent,)
    coef: np.ndarray  # (fitted classes, latent)
    intercept: np.ndarray  # (fitted classes,)
    classes: np.ndarray  # (fitted classes,) indices into the model's class names
    n_classes: int

    def logits(self, embedding: np.ndarray) -> np.ndarray:
        """(n, n_classes) logits; a class the head never saw gets -inf (probability 0)."""
        z = (np.asarray(embedding, dtype=np.float64) - self.mean) / self.scale
        out = np.full((len(z), self.n_classes), -np.inf, dtype=np.float64)
        out[:, self.classes] = z @ self.coef.T + self.intercept
        return out

    def to_dict(self) -> dict:
        return {
            "model": "linear discriminant analysis on the standardised embedding",
            "probabilities": "softmax(((x - mean) / scale) @ coef.T + intercept)",
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "coef": self.coef.tolist(),
            "intercept": self.intercept.tolist(),
            "classes": self.classes.tolist(),
            "n_classes": self.n_classes,
        }

    @classmethod
    def from_dict(cls, d: dict, source: str) -> LinearHead:
        try:
            head = cls(
                np.asarray(d["mean"], dtype=np.float64),
                np.asarray(d["scale"], dtype=np.float64),
                np.asarray(d["coef"], dtype=np.float64),
                np.asarray(d["intercept"], dtype=np.float64),
                np.asarray(d["classes"], dtype=np.int64),
                int(d["n_classes"]),
            )
        except (KeyError, TypeError, ValueError):
            raise LilyVAEError(f"{source}: damaged head section") from None
        k, dim = head.coef.shape if head.coef.ndim == 2 else (-1, -1)
        if (
            head.mean.shape != (dim,)
            or head.scale.shape != (dim,)
            or head.intercept.shape != (k,)
            or head.classes.shape != (k,)
            or (k > 0 and (head.classes.min() < 0 or head.classes.max() >= head.n_classes))
        ):
            raise LilyVAEError(f"{source}: head section's sizes do not agree")
        return head


def fit_linear_head(
    embedding: np.ndarray, labels: np.ndarray, n_classes: int, seed: int = 0
) -> LinearHead:
    """Fit the head on labelled rows (labels >= 0) of ``embedding``."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    labelled = np.flatnonzero(np.asarray(labels) >= 0)
    if len(labelled) > MAX_FIT_ROWS:
        rng = np.random.default_rng(seed)
        labelled = np.sort(rng.choice(labelled, MAX_FIT_ROWS, replace=False))
    y = np.asarray(labels)[labelled]
    classes = np.unique(y)
    if len(classes) < 2:
        raise LilyVAEError("fewer than two lithologies among the bins the head is fitted on")
    X = np.asarray(embedding, dtype=np.float64)[labelled]
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # collinearity notes: the fit is still usable
        fit = LinearDiscriminantAnalysis().fit((X - mean) / scale, y)
    coef, intercept = fit.coef_, fit.intercept_
    if len(classes) == 2:  # scikit-learn keeps one row for two classes
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return LinearHead(mean, scale, coef, intercept, fit.classes_.astype(np.int64), n_classes)
