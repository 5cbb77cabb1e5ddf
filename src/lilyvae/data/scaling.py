"""Scaling: the distribution-aware transform the models see.

Magnetic susceptibility and natural gamma have long tails and (for MS) negative values,
so they get a signed log1p; colour channels are non-negative and right-skewed, so they
get log1p; bulk density is left as is. All six are then standardised. Parameters
serialise to JSON, never to a pickle.
"""

from __future__ import annotations

import os

import numpy as np

from lilyvae.data.schema import FEATURE_COLS
from lilyvae.errors import LilyVAEError
from lilyvae.files import read_json_file, write_json_atomic

#: Per-feature transform before standardisation, in FEATURE_COLS order.
DEFAULT_TRANSFORMS: tuple[str, ...] = (
    "identity",
    "signed_log1p",
    "signed_log1p",
    "log1p",
    "log1p",
    "log1p",
)

_FORWARD = {
    "identity": lambda v: v,
    "signed_log1p": lambda v: np.sign(v) * np.log1p(np.abs(v)),
    "log1p": np.log1p,
}
_INVERSE = {
    "identity": lambda v: v,
    "signed_log1p": lambda v: np.sign(v) * np.expm1(np.abs(v)),
    "log1p": np.expm1,
}


class DistributionAwareScaler:
    """Per-feature log transform, then standardisation (scikit-learn style).

    ``fit`` learns ``mean_`` and ``scale_`` (population standard deviation; a constant
    feature gets scale 1) of the transformed features and returns ``self``.
    """

    def __init__(
        self,
        transforms: tuple[str, ...] = DEFAULT_TRANSFORMS,
        feature_names: tuple[str, ...] = FEATURE_COLS,
    ):
        self.transforms = tuple(transforms)
        self.feature_names = tuple(feature_names)

    # -- validation ---------------------------------------------------------------
    def _check_input(self, X, what: str) -> np.ndarray:
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(self.transforms):
            raise LilyVAEError(
                f"{what}: expected a 2-D array with {len(self.transforms)} columns "
                f"({', '.join(self.feature_names)}), got shape {arr.shape}"
            )
        if not np.isfinite(arr).all():
            raise LilyVAEError(f"{what}: input holds missing or non-finite values")
        return arr

    def _check_fitted(self) -> None:
        if not hasattr(self, "mean_"):
            raise LilyVAEError("DistributionAwareScaler is not fitted; call fit() first")

    def _log_transform(self, arr: np.ndarray) -> np.ndarray:
        out = np.empty_like(arr)
        for j, name in enumerate(self.transforms):
            col = arr[:, j]
            if name == "log1p" and (col <= -1).any():
                raise LilyVAEError(
                    f"feature {self.feature_names[j]!r} has values <= -1, outside log1p's domain"
                )
            out[:, j] = _FORWARD[name](col)
        return out

    # -- scikit-learn style API ---------------------------------------------------
    def fit(self, X) -> DistributionAwareScaler:
        arr = self._check_input(X, "fit")
        if arr.shape[0] == 0:
            raise LilyVAEError("fit: no rows to fit the scaler on")
        logged = self._log_transform(arr)
        # Overflow is checked below, by column, rather than warned about here.
        with np.errstate(over="ignore", invalid="ignore"):
            mean = logged.mean(axis=0)
            scale = logged.std(axis=0)
            scale = np.where(scale > 0, scale, 1.0)
            widest = np.abs(logged - mean).max(axis=0) / scale
        self._check_finite_fit(arr, mean, scale, widest)
        self.mean_ = mean
        self.scale_ = scale
        self.n_samples_seen_ = int(arr.shape[0])
        return self

    def _check_finite_fit(self, arr, mean, scale, widest) -> None:
        """Values near float64's limit (1e308; 1e200 squared in the variance) make a
        column's mean or scale infinite, which would scale every value of it to 0 or
        NaN: refuse them, naming the column."""
        bad = ~(np.isfinite(mean) & np.isfinite(scale) & np.isfinite(widest))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise LilyVAEError(
                f"column {self.feature_names[j]!r} holds values too large to scale (largest "
                f"magnitude {np.abs(arr[:, j]).max():.3g}): its mean or standard deviation "
                "overflows; remove or correct those rows"
            )

    def transform(self, X) -> np.ndarray:
        self._check_fitted()
        arr = self._check_input(X, "transform")
        return (self._log_transform(arr) - self.mean_) / self.scale_

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, Z) -> np.ndarray:
        self._check_fitted()
        arr = np.asarray(Z, dtype=np.float64)
        logged = arr * self.scale_ + self.mean_
        out = np.empty_like(logged)
        for j, name in enumerate(self.transforms):
            out[:, j] = _INVERSE[name](logged[:, j])
        return out

    # -- serialisation ------------------------------------------------------------
    def to_dict(self) -> dict:
        self._check_fitted()
        return {
            "type": "DistributionAwareScaler",
            "feature_names": list(self.feature_names),
            "transforms": list(self.transforms),
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
            "n_samples_seen": self.n_samples_seen_,
        }

    @classmethod
    def from_dict(cls, params: dict, source: str = "scaler parameters") -> DistributionAwareScaler:
        try:
            transforms = tuple(params["transforms"])
            names = tuple(params["feature_names"])
            mean = np.asarray(params["mean"], dtype=np.float64)
            scale = np.asarray(params["scale"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise LilyVAEError(f"{source}: malformed scaler parameters ({exc})") from None
        unknown = [t for t in transforms if t not in _FORWARD]
        if unknown or not (len(transforms) == len(names) == mean.size == scale.size):
            raise LilyVAEError(f"{source}: inconsistent scaler parameters")
        # A scale of 0 or a non-finite parameter would turn every row into NaN or inf.
        bad = ~(np.isfinite(mean) & np.isfinite(scale) & (scale > 0))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise LilyVAEError(
                f"{source}: scaler parameters of column {names[j]!r} are unusable (mean "
                f"{mean[j]:g}, scale {scale[j]:g}; the scale must be a positive finite number)"
            )
        scaler = cls(transforms=transforms, feature_names=names)
        scaler.mean_ = mean
        scaler.scale_ = scale
        scaler.n_samples_seen_ = int(params.get("n_samples_seen", 0))
        return scaler

    def save(self, path: str | os.PathLike) -> None:
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> DistributionAwareScaler:
        params = read_json_file(path, "scaler parameters file")
        return cls.from_dict(params, source=str(path))

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "mean_") else "unfitted"
        return f"DistributionAwareScaler({state}, transforms={self.transforms})"


def fit_scaler(features: np.ndarray, source: str | None = None) -> DistributionAwareScaler:
    """Fit the default scaler on raw features in FEATURE_COLS order; ``source`` (the
    table's name) prefixes the one-line error of features that cannot be scaled."""
    try:
        return DistributionAwareScaler().fit(features)
    except LilyVAEError as exc:
        if source is None:
            raise
        raise LilyVAEError(f"{source}: {exc}") from None
