"""Novelty: how unlike the training bins a bin is, and the index of analog bins.

Two measures, both computed in one pass with the prediction:

- the mean distance from a bin's standardised embedding to its :data:`K_NOVELTY` nearest
  training bins (far from everything the model learned from);
- the reconstruction error of its scaled inputs (the decoder cannot rebuild them: an
  input the encoder maps somewhere ordinary, but that it cannot explain).

Each is divided by its 99th percentile on in-distribution held-out bins, and the novelty
score is the larger ratio (1 = as unusual as the 1% most unusual ordinary bins, in the
more telling of the two). Bins whose score is above the score's 99th percentile on
those held-out bins are flagged. Not the VAE's likelihood alone, which is known to rate
some out-of-distribution inputs as likely.

The training bins sit in an :class:`AnalogIndex`: standardised embeddings with each bin's
borehole, depth and lithology, saved as plain arrays in a ``.npz`` (loaded with
``allow_pickle=False``) and searched exactly (a KD-tree on the index's principal axes),
so that the same search gives the novelty distances and the ``--analogs`` neighbours.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lilyvae.errors import LilyVAEError
from lilyvae.files import write_atomic

#: Neighbours whose mean distance is the embedding's novelty measure.
K_NOVELTY = 5
#: Most training bins in the index (an even draw when there are more): the search's
#: cost grows with it, and neighbouring 20 cm bins are near copies anyway.
MAX_INDEX_ROWS = 50_000
#: Quantiles of the in-distribution score kept as thresholds; FLAG_QUANTILE flags.
THRESHOLD_QUANTILES = (0.95, 0.99, 0.999)
FLAG_QUANTILE = 0.99
INDEX_FORMAT = "lilyvae-analog-index"
_TREE_LOCK = threading.Lock()


@dataclass
class AnalogIndex:
    """Training bins: standardised embeddings and what each bin was."""

    embedding: np.ndarray  # (m, latent) float32, standardised
    mean: np.ndarray
    scale: np.ndarray
    boreholes: np.ndarray  # (m,) str
    depths: np.ndarray  # (m,) float64
    lithology: np.ndarray  # (m,) str ("" where not described)
    model_sha256: str
    _tree: object = None
    _coded: dict = field(default_factory=dict)

    def coded(self, name: str) -> tuple[list[str], np.ndarray]:
        """(distinct values, the code of each bin) of ``boreholes`` or ``lithology``; found
        once per index (every chunk of a prediction asks)."""
        if name not in self._coded:
            values, codes = np.unique(getattr(self, name), return_inverse=True)
            self._coded[name] = ([str(v) for v in values], codes.astype(np.int64))
        return self._coded[name]

    def standardise(self, embedding: np.ndarray) -> np.ndarray:
        return ((np.asarray(embedding, np.float64) - self.mean) / self.scale).astype(np.float32)

    def search(
        self, embedding: np.ndarray, k: int, threads: int = -1
    ) -> tuple[np.ndarray, np.ndarray]:
        """(distances, indices), each (n, k), nearest first: the exact k nearest bins,
        searched by ``threads`` threads (-1: one per core)."""
        k = min(k, len(self.embedding))
        if len(embedding) == 0:
            return np.empty((0, k)), np.empty((0, k), dtype=np.int64)
        if self._tree is None:
            with _TREE_LOCK:  # predict searches from two threads: the tree is made once
                if self._tree is None:
                    self._tree = _RotatedTree(self.embedding)
        return self._tree.query(self.standardise(embedding), k, threads)

    def save_to(self, fh) -> None:
        """Write the index as plain arrays (no object arrays: it loads without pickle)."""
        np.savez(
            fh,
            format=np.array(INDEX_FORMAT),
            embedding=self.embedding,
            mean=self.mean,
            scale=self.scale,
            boreholes=self.boreholes.astype(str),
            depths=self.depths,
            lithology=self.lithology.astype(str),
            model_sha256=np.array(self.model_sha256),
        )

    def save(self, path: str | os.PathLike) -> Path:
        def writer(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                self.save_to(fh)

        return write_atomic(path, writer)

    @classmethod
    def load(cls, path: str | os.PathLike, model_sha256: str) -> AnalogIndex:
        path = Path(path)
        if not path.is_file():
            raise LilyVAEError(f"{path}: the analog index is missing (run `lilyvae calibrate`)")
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["format"]) != INDEX_FORMAT:
                    raise LilyVAEError(f"{path}: not a lilyvae analog index")
                index = cls(
                    z["embedding"],
                    z["mean"],
                    z["scale"],
                    z["boreholes"],
                    z["depths"],
                    z["lithology"],
                    str(z["model_sha256"]),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise LilyVAEError(f"{path}: not a readable analog index ({exc})") from None
        if index.model_sha256 != model_sha256:
            raise LilyVAEError(f"{path}: the analog index was built for another model")
        return index


class _RotatedTree:
    """A KD-tree (SciPy's cKDTree, several times faster than scikit-learn's here) over
    the index turned onto its principal axes.

    Turning changes no distance, but a KD-tree splits along coordinate axes, and the
    embedding's variance is uneven across directions that are not the axes: on the
    principal axes the first splits cut where the points spread most and the search
    prunes sooner (about a quarter faster on a 10-D embedding). The search is exact;
    distances agree with a search in the original axes to rounding (1e-15)."""

    def __init__(self, embedding: np.ndarray):
        from scipy.spatial import cKDTree

        points = np.asarray(embedding, np.float64)
        self.centre = points.mean(axis=0)
        _, _, axes = np.linalg.svd(points - self.centre, full_matrices=False)
        self.rotation = axes.T
        # Leaves of 32 split at the sliding midpoint: an eighth faster than SciPy's
        # defaults (16, median splits) on a 50,000-bin 10-D index, and as exact.
        self.tree = cKDTree(
            (points - self.centre) @ self.rotation, leafsize=32, balanced_tree=False
        )

    def query(self, points: np.ndarray, k: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        turned = (np.asarray(points, np.float64) - self.centre) @ self.rotation
        distances, indices = self.tree.query(turned, k=k, workers=threads)
        if k == 1:  # cKDTree drops the neighbour axis for a single neighbour
            distances, indices = distances[:, None], indices[:, None]
        return distances, indices.astype(np.int64, copy=False)


def build_index(embedding, boreholes, depths, lithology, model_sha256: str, seed: int = 0):
    """The index of the reference bins (at most :data:`MAX_INDEX_ROWS`, evenly drawn)."""
    n = len(embedding)
    if n == 0:
        raise LilyVAEError("no training bins to compare new bins with")
    keep = np.arange(n)
    if n > MAX_INDEX_ROWS:
        keep = np.sort(np.random.default_rng(seed).choice(n, MAX_INDEX_ROWS, replace=False))
    emb = np.asarray(embedding, np.float64)[keep]
    mean = emb.mean(axis=0)
    scale = emb.std(axis=0)
    scale = np.where(scale > 1e-12, scale, 1.0)
    return AnalogIndex(
        ((emb - mean) / scale).astype(np.float32),
        mean,
        scale,
        np.asarray(boreholes).astype(str)[keep],
        np.asarray(depths, np.float64)[keep],
        np.asarray(lithology).astype(str)[keep],
        model_sha256,
    )


def novelty_components(knn_distances: np.ndarray, recon_error: np.ndarray) -> np.ndarray:
    """(n, 2): the mean distance to the nearest K_NOVELTY bins, and the reconstruction
    error."""
    knn = np.asarray(knn_distances)[:, :K_NOVELTY].mean(axis=1)
    return np.stack([knn, np.asarray(recon_error, np.float64)], axis=1)


def fit_novelty(components: np.ndarray) -> dict:
    """Scales and thresholds from in-distribution held-out bins' components."""
    if len(components) == 0:
        raise LilyVAEError("no in-distribution bins to set the novelty thresholds on")
    scales = np.percentile(components, 99, axis=0)
    scales = np.where(scales > 1e-12, scales, 1.0)
    score = (components / scales).max(axis=1)
    thresholds = {f"{q:g}": float(np.quantile(score, q)) for q in THRESHOLD_QUANTILES}
    return {
        "measures": ["mean distance to 5 nearest training bins", "reconstruction error"],
        "scales": [float(s) for s in scales],
        "thresholds": thresholds,
        "flag_quantile": FLAG_QUANTILE,
        "bins": int(len(components)),
    }


def novelty_score(components: np.ndarray, fitted: dict) -> np.ndarray:
    return (np.asarray(components) / np.asarray(fitted["scales"])).max(axis=1)


def novelty_flag(score: np.ndarray, fitted: dict) -> np.ndarray:
    return np.asarray(score) > fitted["thresholds"][f"{fitted['flag_quantile']:g}"]
