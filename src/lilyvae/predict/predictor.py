"""The :class:`Predictor`: a calibrated model applied to a new core, bin by bin.

    from lilyvae.predict import Predictor
    result = Predictor("models/semisup.pt").predict("newcore.csv", level=0.9, analogs=5)
    result.table          # one row per input bin, in input order
    result.scores         # the blind-well test, when the core has a described lithology

The core is processed in chunks of bins (one pass of the networks per chunk), so memory
stays bounded whatever its length.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lilyvae.data.lithology import class_groups
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, LABEL_COL
from lilyvae.data.tables import feature_values
from lilyvae.errors import LilyVAEError
from lilyvae.predict import conformal
from lilyvae.predict.calibration import (
    Calibration,
    index_path,
    member_logits,
    probabilities,
    read_calibration,
)
from lilyvae.predict.inputs import read_core
from lilyvae.predict.members import forward, load_model_set
from lilyvae.predict.novelty import (
    K_NOVELTY,
    AnalogIndex,
    novelty_components,
    novelty_flag,
    novelty_score,
)

#: Bins per pass of the networks.
CHUNK_BINS = 131_072
TOP = 3


class Stopwatch(dict):
    """Seconds spent per stage, summed over the stage's turns (``with watch("x"): ...``)."""

    @contextmanager
    def __call__(self, stage: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self[stage] = self.get(stage, 0.0) + time.perf_counter() - start


@dataclass
class CorePrediction:
    """What :meth:`Predictor.predict` returns."""

    table: pd.DataFrame  # the output table, one row per input bin, input order
    group_proba: np.ndarray  # (n, groups) float32, NaN where a bin could not be read
    group_names: tuple[str, ...]
    core: pd.DataFrame  # the input as read (Borehole_ID, depth, inputs, Principal)
    level: float
    calibrated: bool
    synthetic: bool
    model: str
    scores: dict | None = None
    notes: list[str] = field(default_factory=list)
    #: Wall seconds per stage of the prediction (and of ``write_prediction``'s outputs).
    seconds: Stopwatch = field(default_factory=Stopwatch)

    @property
    def label(self) -> str:
        """How every output names these probabilities."""
        parts = ["calibrated" if self.calibrated else "UNCALIBRATED (raw model probabilities)"]
        if self.synthetic:
            parts.append("SYNTHETIC data")
        return ", ".join(parts)


@dataclass
class _Chunk:
    """Per-bin results of one chunk (arrays of the chunk's length)."""

    columns: dict
    group_proba: np.ndarray
    proba: np.ndarray  # calibrated class probabilities (scoring reads them)
    sets: np.ndarray


class Predictor:
    """A model (``M.pt`` or an ensemble directory) with its calibration."""

    def __init__(self, model: str | os.PathLike, *, uncalibrated: bool = False):
        self.models = load_model_set(model)
        self.calibration: Calibration | None = None
        self.index: AnalogIndex | None = None
        if not uncalibrated:
            self.calibration = read_calibration(self.models)
            self.index = AnalogIndex.load(index_path(self.models), self.models.sha256)
        elif self.models.kind != "semisupervised":
            raise LilyVAEError(
                f"{self.models.path}: an unsupervised model has no lithology head; its "
                "calibration provides one (run `lilyvae calibrate`), so it cannot predict "
                "--uncalibrated"
            )
        if self.calibration is not None:
            cal = self.calibration
            self.class_names, self.group_names = cal.class_names, cal.group_names
            self.class_group = cal.class_group
        else:
            self.class_names = self.models.class_names
            self.class_group, self.group_names = class_groups(self.class_names)

    @property
    def calibrated(self) -> bool:
        return self.calibration is not None

    def _sets(self, probs, level: float):
        if self.calibration is None:
            return None
        q = conformal.threshold(self.calibration.conformal["class"], level)
        return conformal.prediction_sets(probs.calibrated, q)

    def _chunk(self, features: np.ndarray, level: float, analogs: int, watch) -> _Chunk:
        with watch("networks"):
            fwd = forward(self.models, features)
        heads = None if self.calibration is None else self.calibration.heads
        temperature = None if self.calibration is None else self.calibration.temperature
        with watch("probabilities and sets"):
            logits = member_logits(fwd, heads)
            probs = probabilities(logits, self.class_group, len(self.group_names), temperature)
            sets = self._sets(probs, level)
        with watch("class and group columns"):
            columns = _class_columns(probs.calibrated, sets, self.class_names, level)
            columns |= _group_columns(probs.group_calibrated, self.group_names)
        if self.index is not None:
            k = max(K_NOVELTY, analogs)
            with watch("nearest training bins"):
                distances, neighbours = self.index.search(fwd.embedding, k)
            with watch("novelty and analog columns"):
                score = novelty_score(
                    novelty_components(distances, fwd.recon_error), self.calibration.novelty
                )
                columns["novelty"] = score
                columns["novel"] = novelty_flag(score, self.calibration.novelty)
                if analogs:
                    columns |= _analog_columns(self.index, distances, neighbours, analogs)
        if probs.disagreement is not None:
            columns["ensemble_disagreement"] = probs.disagreement
        return _Chunk(columns, probs.group_calibrated, probs.calibrated, sets)

    def predict(
        self,
        core,
        level: float = 0.9,
        analogs: int = 0,
        chunk_bins: int = CHUNK_BINS,
    ) -> CorePrediction:
        """Predict every bin of ``core`` (a path: table, LIMS folder or LAS; or a frame)."""
        from lilyvae.predict.scoring import RowPieces, blind_well_scores

        level = conformal.check_level(level)
        if analogs < 0:
            raise LilyVAEError(f"--analogs must be 0 or more, not {analogs}")
        if analogs and self.index is None:
            raise LilyVAEError("--analogs needs the calibration's analog index (run calibrate)")
        watch = Stopwatch()
        with watch("read"):
            frame = read_core(core) if not isinstance(core, pd.DataFrame) else _checked(core)
            values = feature_values(frame)
        present = np.isfinite(values)
        usable = present.any(axis=1) if self.models.missing == "mask" else present.all(axis=1)
        rows = np.flatnonzero(usable)
        if len(rows) == 0:
            raise LilyVAEError("the core has no bin with the inputs the model needs")
        labels = _labels(frame, self.class_names)
        pieces = RowPieces() if labels is not None else None
        borehole, position = _places(frame)
        parts, groups = [], np.full((len(frame), len(self.group_names)), np.nan, np.float32)
        for start in range(0, len(rows), chunk_bins):
            take = rows[start : start + chunk_bins]
            chunk = self._chunk(values[take], level, analogs, watch)
            with watch("assemble"):
                parts.append(pd.DataFrame(chunk.columns, index=take))
                groups[take] = chunk.group_proba
            if pieces is not None:
                with watch("blind-well test"):
                    pieces.add(
                        chunk.proba,
                        chunk.sets,
                        labels[take],
                        self.class_group,
                        borehole[take],
                        position[take],
                    )
        with watch("assemble"):
            table = _assemble(frame, parts, self)
        notes = []
        if len(rows) < len(frame):
            notes.append(f"{len(frame) - len(rows):,} bins lack an input the model needs: empty")
        result = CorePrediction(
            table,
            groups,
            self.group_names,
            frame,
            level,
            self.calibrated,
            self.models.synthetic,
            self.models.path.name,
            notes=notes,
            seconds=watch,
        )
        if pieces is not None:
            with watch("blind-well test"):
                result.scores = blind_well_scores(pieces, self.calibrated, level)
        return result


def _checked(frame: pd.DataFrame) -> pd.DataFrame:
    from lilyvae.data.schema import FEATURE_COLS
    from lilyvae.data.tables import require_columns
    from lilyvae.predict.inputs import check_core

    require_columns(frame, (BOREHOLE_COL, DEPTH_COL, *FEATURE_COLS), "data")
    keep = [BOREHOLE_COL, DEPTH_COL, *FEATURE_COLS] + [LABEL_COL] * (LABEL_COL in frame)
    frame = frame[keep].reset_index(drop=True).copy()
    frame[BOREHOLE_COL] = frame[BOREHOLE_COL].astype(str)
    check_core(frame, "data")
    return frame


def _places(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per bin: a code for its borehole, and its place in it (0 = the borehole's first
    bin; a borehole's bins are together, in depth order)."""
    codes = pd.factorize(frame[BOREHOLE_COL])[0]
    index = np.arange(len(codes))
    starts = np.r_[0, np.flatnonzero(np.diff(codes)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(codes)]))
    return codes.astype(np.int64), index - first


def _labels(frame: pd.DataFrame, class_names) -> np.ndarray | None:
    """Class index of each bin's described lithology (-1: none, or one the model does
    not know); None when the core has no description at all."""
    if LABEL_COL not in frame.columns:
        return None
    names = frame[LABEL_COL].fillna("").astype(str).str.strip()
    if not (names != "").any():
        return None
    index = {c: i for i, c in enumerate(class_names)}
    return np.array([index.get(n, -1) if n else -2 for n in names], dtype=np.int64)


def _set_strings(names: np.ndarray, sets: np.ndarray) -> np.ndarray:
    """The ``;``-joined set of each row, its classes in the model's (alphabetical) order.
    Neighbouring bins mostly share a set: each distinct set is joined once."""
    packed = np.packbits(sets, axis=1)
    keys = np.ascontiguousarray(packed).view(np.dtype((np.void, packed.shape[1]))).ravel()
    distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    joined = np.array([";".join(names[sets[i]]) for i in first], dtype=object)
    return joined[inverse.ravel()]


def _top_classes(proba: np.ndarray, k: int) -> np.ndarray:
    """(n, k) the k most likely classes of each row, most likely first, ties to the lower
    class index (as a stable sort of -proba would give). k passes of argmax: a partial
    sort of 139 classes per row is some twenty times slower."""
    remaining = np.array(proba, copy=True)
    rows = np.arange(len(remaining))
    order = np.empty((len(remaining), k), dtype=np.int64)
    for j in range(k):
        order[:, j] = remaining.argmax(axis=1)
        remaining[rows, order[:, j]] = -np.inf
    return order


def _class_columns(proba, sets, class_names, level) -> dict:
    names = np.asarray(class_names, dtype=object)
    size = None if sets is None else sets.sum(axis=1)
    k = min(TOP, proba.shape[1])
    order = _top_classes(proba, k)
    top_p = np.take_along_axis(proba, order, axis=1)

    # Categoricals: a million bins of repeated names would be a million Python strings.
    def named(j):
        return pd.Categorical.from_codes(order[:, j], categories=list(class_names))

    cols = {"lithology": named(0), "probability": top_p[:, 0].astype(np.float64)}
    for j in range(k):
        cols[f"lithology_{j + 1}"] = named(j)
        cols[f"probability_{j + 1}"] = top_p[:, j].astype(np.float64)
    if size is not None:
        cols[f"set_{level:g}"] = _set_strings(names, sets)
        cols["set_size"] = size
    return cols


def _group_columns(group_proba, group_names) -> dict:
    best = group_proba.argmax(axis=1)
    return {
        "group": pd.Categorical.from_codes(best, categories=list(group_names)),
        "group_probability": group_proba[np.arange(len(best)), best].astype(np.float64),
    }


def _analog_columns(index: AnalogIndex, distances, neighbours, k: int) -> dict:
    boreholes, borehole_codes = index.coded("boreholes")
    lithology, lithology_codes = index.coded("lithology")
    cols = {}
    for j in range(min(k, neighbours.shape[1])):
        nb = neighbours[:, j]
        cols[f"analog_{j + 1}_borehole"] = pd.Categorical.from_codes(
            borehole_codes[nb], categories=boreholes
        )
        cols[f"analog_{j + 1}_depth"] = index.depths[nb]
        cols[f"analog_{j + 1}_lithology"] = pd.Categorical.from_codes(
            lithology_codes[nb], categories=lithology
        )
        cols[f"analog_{j + 1}_distance"] = distances[:, j]
    return cols


def _assemble(frame: pd.DataFrame, parts: list[pd.DataFrame], predictor: Predictor):
    body = pd.concat(parts).reindex(range(len(frame)))
    head = pd.DataFrame({BOREHOLE_COL: frame[BOREHOLE_COL], DEPTH_COL: frame[DEPTH_COL]})
    if LABEL_COL in frame.columns:
        head["described"] = frame[LABEL_COL]
    out = pd.concat([head, body], axis=1)
    out["probabilities"] = "calibrated" if predictor.calibrated else "UNCALIBRATED"
    if predictor.models.synthetic:
        out["data"] = "SYNTHETIC"
    return out
