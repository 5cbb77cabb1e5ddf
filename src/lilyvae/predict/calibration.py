"""The calibration file ``M.calibration.json``: what turns a model's raw outputs into
calibrated probabilities, prediction sets and novelty flags, and what it measured.

It is plain JSON (nothing to unpickle): the sha256 of the model it belongs to (a file
for another model is refused), one temperature per level (the lithologies and their 14
groups), for a model without a head the logistic head that stands in for one, the kept
quantile functions of the conformal scores, the novelty scales and thresholds, and the
scores measured on held-out boreholes it was not fitted on. The training bins that
novelty and ``--analogs`` compare with are in ``M.analogs.npz`` beside it.

:func:`probabilities` is the one place raw outputs become probabilities, for the
calibration itself and for prediction.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lilyvae.errors import LilyVAEError
from lilyvae.files import read_json_file
from lilyvae.predict.head import LinearHead
from lilyvae.predict.members import Forward, ModelSet

CALIBRATION_FORMAT = "lilyvae-calibration"
CALIBRATION_VERSION = 1
CALIBRATION_SUFFIX = ".calibration.json"
INDEX_SUFFIX = ".analogs.npz"


def calibration_path(models: ModelSet) -> Path:
    return models.sibling(CALIBRATION_SUFFIX)


def index_path(models: ModelSet) -> Path:
    return models.sibling(INDEX_SUFFIX)


@dataclass
class Calibration:
    model_sha256: str
    class_names: tuple[str, ...]
    group_names: tuple[str, ...]
    class_group: np.ndarray  # (classes,) group index of each class
    temperature: dict  # {"class": T, "group": T}
    conformal: dict  # {"class": quantile table, "group": quantile table}
    novelty: dict
    heads: list[LinearHead] | None = None
    measured: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "format": CALIBRATION_FORMAT,
            "format_version": CALIBRATION_VERSION,
            "model_sha256": self.model_sha256,
            **self.provenance,
            "class_names": list(self.class_names),
            "group_names": list(self.group_names),
            "class_group": self.class_group.tolist(),
            "temperature": self.temperature,
            "conformal": self.conformal,
            "novelty": self.novelty,
            "heads": None if self.heads is None else [h.to_dict() for h in self.heads],
            "measured": self.measured,
        }

    @classmethod
    def from_dict(cls, d: dict, source: str) -> Calibration:
        try:
            heads = d.get("heads")
            cal = cls(
                model_sha256=str(d["model_sha256"]),
                class_names=tuple(d["class_names"]),
                group_names=tuple(d["group_names"]),
                class_group=np.asarray(d["class_group"], dtype=np.int64),
                temperature={k: float(v) for k, v in d["temperature"].items()},
                conformal=dict(d["conformal"]),
                novelty=dict(d["novelty"]),
                heads=None if heads is None else [LinearHead.from_dict(h, source) for h in heads],
                measured=dict(d.get("measured") or {}),
                provenance={k: d[k] for k in ("synthetic", "notice", "model") if k in d},
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise LilyVAEError(f"{source}: damaged calibration file") from None
        if len(cal.class_group) != len(cal.class_names):
            raise LilyVAEError(f"{source}: damaged calibration file (class groups)")
        return cal


def read_calibration(models: ModelSet, path: str | os.PathLike | None = None) -> Calibration:
    """The calibration beside the model; refused when it belongs to another model."""
    path = Path(path) if path is not None else calibration_path(models)
    if not path.is_file():
        raise LilyVAEError(
            f"{models.path}: no calibration ({path.name} is missing); run `lilyvae calibrate "
            f"--model {models.path} --data TABLE` first, or pass --uncalibrated"
        )
    cal = Calibration.from_dict(read_json_file(path, "calibration", CALIBRATION_FORMAT), str(path))
    if cal.model_sha256 != models.sha256:
        raise LilyVAEError(
            f"{path}: belongs to another model (its model sha256 {cal.model_sha256[:12]}... is "
            f"not {models.path.name}'s {models.sha256[:12]}...); calibrate this model"
        )
    if models.class_names and cal.class_names != models.class_names:
        raise LilyVAEError(f"{path}: names other lithologies than the model")
    return cal


@dataclass
class Probabilities:
    """Per-bin probabilities at both levels, raw (averaged over members) and calibrated."""

    raw: np.ndarray  # (n, classes) float32
    calibrated: np.ndarray  # (n, classes) float32 (= raw when uncalibrated)
    group_raw: np.ndarray  # (n, groups)
    group_calibrated: np.ndarray
    disagreement: np.ndarray | None  # (n,) share of members whose top class differs

    def rows(self, rows) -> Probabilities:
        """The same probabilities for some rows only (an index or a mask)."""
        return Probabilities(
            self.raw[rows],
            self.calibrated[rows],
            self.group_raw[rows],
            self.group_calibrated[rows],
            None if self.disagreement is None else self.disagreement[rows],
        )


def member_logits(fwd: Forward, heads: list[LinearHead] | None) -> list[np.ndarray]:
    """Each member's logits: its own head's, or else the fitted logistic head's."""
    if fwd.log_proba is not None:
        return fwd.log_proba
    if heads is None:
        raise LilyVAEError(
            "an unsupervised model has no lithology head: calibrate it first (the calibration "
            "fits a classifier on its embedding)"
        )
    return [h.logits(e) for h, e in zip(heads, fwd.member_embeddings, strict=True)]


def group_sums(proba: np.ndarray, class_group: np.ndarray, n_groups: int) -> np.ndarray:
    onehot = np.zeros((len(class_group), n_groups), dtype=proba.dtype)
    onehot[np.arange(len(class_group)), class_group] = 1
    return proba @ onehot


def softmax(x: np.ndarray, axis: int = 1) -> np.ndarray:
    """Row softmax in float32 (PyTorch's: threaded, and -inf gives probability 0)."""
    return torch.softmax(torch.as_tensor(np.asarray(x, dtype=np.float32)), dim=axis).numpy()


def _log(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(p)


def probabilities(
    logits: list[np.ndarray],
    class_group: np.ndarray,
    n_groups: int,
    temperature: dict | None,
) -> Probabilities:
    """Average the members' softmax, then temper each level (no temperature: raw).

    In float32: these are the largest arrays of a prediction (bins x 139)."""
    member_p = [softmax(np.asarray(lg, dtype=np.float32), axis=1) for lg in logits]
    raw = np.mean(member_p, axis=0, dtype=np.float32) if len(member_p) > 1 else member_p[0]
    disagreement = None
    if len(member_p) > 1:
        top = raw.argmax(axis=1)
        disagreement = np.mean([p.argmax(axis=1) != top for p in member_p], axis=0)
    group_raw = group_sums(raw, class_group, n_groups)
    if temperature is None:
        calibrated, group_cal = raw, group_raw
    else:
        # softmax(log softmax(z) / T) is softmax(z / T): one model needs no log.
        base = logits[0] if len(member_p) == 1 else _log(raw)
        calibrated = softmax(
            np.asarray(base, np.float32) / np.float32(temperature["class"]), axis=1
        )
        group_cal = softmax(_log(group_raw) / np.float32(temperature["group"]), axis=1)
    return Probabilities(raw, calibrated, group_raw, group_cal, disagreement)
