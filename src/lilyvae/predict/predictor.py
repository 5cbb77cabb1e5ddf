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
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

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
from lilyvae.predict.columns import (
    SetNames,
    analog_columns,
    class_columns,
    constant,
    group_columns,
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
from lilyvae.workers import default_workers, torch_threads

#: Bins per chunk. Results do not depend on it but for the last bit of float32 sums (the
#: group probabilities are a matrix product, which BLAS sums in blocks that depend on the
#: number of rows). Small enough that a chunk's (bins x 139) float32 arrays (18 MB) come
#: from the allocator's heap, reused chunk after chunk: at 131,072 bins each was 73 MB of
#: fresh memory from the kernel, and its page faults cost more than the softmaxes.
CHUNK_BINS = 32_768


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
    notes: list[str] = field(default_factory=list)
    #: Wall seconds per stage of the prediction (and of ``write_prediction``'s outputs).
    seconds: Stopwatch = field(default_factory=Stopwatch)
    #: The blind-well test until it is first asked for (see :attr:`scores`).
    blind_well: object = field(default=None, repr=False)
    _scores: dict | None = field(default=None, repr=False)

    @property
    def scores(self) -> dict | None:
        """The blind-well test of a described core (None: the core has no description).
        Computed when first asked for: ``write_prediction`` asks while the figures are
        drawn beside it, where on 2 cores it had kept the other core idle."""
        if self.blind_well is not None:
            test, self.blind_well = self.blind_well, None
            with self.seconds("blind-well test"):
                self._scores = test()
        return self._scores

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

    rows: np.ndarray  # the chunk's rows of the core
    columns: dict
    group_proba: np.ndarray
    proba: np.ndarray  # calibrated class probabilities (scoring reads them)
    sets: np.ndarray
    fwd: object = None  # the networks' outputs, until the novelty columns are made
    search: object = None  # the future of the nearest-neighbour search


@dataclass
class _Pass:
    """One prediction's settings and what its chunks gather."""

    level: float
    analogs: int
    watch: Stopwatch
    searcher: ThreadPoolExecutor
    set_names: SetNames
    groups: np.ndarray  # (bins, groups) group probabilities, NaN where not predicted
    labels: np.ndarray | None  # described class of each bin (see _labels)
    pieces: object = None  # the blind-well test's RowPieces, for a described core
    places: tuple = ()  # (borehole code, place in the borehole) of each bin (see _places)
    columns: _Columns | None = None  # the output table's columns, filled chunk by chunk
    #: Cores for (this thread's PyTorch, None: as it is; the search beside it): see
    #: _share_cores.
    cores: tuple[int | None, int] = (None, 1)


#: Stages of the nearest-neighbour search: in the searcher's thread, and in this one.
BESIDE = "nearest training bins (beside the rest)"
HERE = "nearest training bins (here, instead of waiting)"
#: Bins searched at a time: the share of a chunk's search that either thread takes.
SEARCH_BLOCK = 8192


class _SharedSearch:
    """One chunk's nearest-neighbour search in blocks of :data:`SEARCH_BLOCK` bins, taken
    by whichever thread is free: the searcher's, from when the chunk starts; this
    thread's, when it needs the result and the searcher is not done (instead of waiting:
    on 2 cores the search takes longer than everything else a chunk does)."""

    def __init__(self, index: AnalogIndex, embedding, k: int, threads: int, watch):
        self.index, self.embedding, self.k, self.threads = index, embedding, k, threads
        self.watch = watch
        self.starts = list(range(0, len(embedding), SEARCH_BLOCK))
        self.found: dict[int, tuple] = {}
        self.lock = threading.Lock()
        self.beside = None  # the searcher's future

    def work(self, stage: str) -> None:
        """Search blocks until none is left to take."""
        with self.watch(stage):
            while True:
                with self.lock:
                    if not self.starts:
                        return
                    start = self.starts.pop(0)
                block = self.embedding[start : start + SEARCH_BLOCK]
                self.found[start] = self.index.search(block, self.k, self.threads)

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        """(distances, neighbours) of the whole chunk, in its order."""
        self.work(HERE)
        with self.watch("waiting for the search"):
            self.beside.result()  # its last block
        parts = [self.found[start] for start in sorted(self.found)]  # a chunk has bins
        return np.concatenate([d for d, _ in parts]), np.concatenate([i for _, i in parts])


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

    def _chunk(self, run: _Pass, rows: np.ndarray, features: np.ndarray) -> _Chunk:
        """Start one chunk; its nearest-neighbour search goes on in the searcher's
        thread (SciPy and PyTorch let go of the GIL) until :meth:`_finish` needs it."""
        watch = run.watch
        with watch("networks"):
            fwd = forward(self.models, features)
        search = None
        if self.index is not None:
            k = max(K_NOVELTY, run.analogs)
            search = _SharedSearch(self.index, fwd.embedding, k, run.cores[1], watch)
            search.beside = run.searcher.submit(search.work, BESIDE)
        heads = None if self.calibration is None else self.calibration.heads
        temperature = None if self.calibration is None else self.calibration.temperature
        with watch("probabilities and sets"):
            logits = member_logits(fwd, heads)
            probs = probabilities(logits, self.class_group, len(self.group_names), temperature)
            sets = self._sets(probs, run.level)
        with watch("class and group columns"):
            columns = class_columns(
                probs.calibrated, sets, self.class_names, run.level, run.set_names
            )
            columns |= group_columns(probs.group_calibrated, self.group_names)
        if probs.disagreement is not None:
            columns["ensemble_disagreement"] = probs.disagreement
        return _Chunk(rows, columns, probs.group_calibrated, probs.calibrated, sets, fwd, search)

    def _finish(self, run: _Pass, chunk: _Chunk) -> None:
        """The chunk's novelty and analog columns once its search is done; then keep it."""
        watch, take = run.watch, chunk.rows
        if chunk.search is not None:
            distances, neighbours = chunk.search.result()
            with watch("novelty and analog columns"):
                fitted = self.calibration.novelty
                components = novelty_components(distances, chunk.fwd.recon_error)
                chunk.columns["novelty"] = score = novelty_score(components, fitted)
                chunk.columns["novel"] = novelty_flag(score, fitted)
                if run.analogs:
                    chunk.columns |= analog_columns(self.index, distances, neighbours, run.analogs)
        with watch("assemble"):
            run.columns.fill(chunk.columns)
            run.groups[take] = chunk.group_proba
        if run.pieces is not None:
            borehole, position = run.places
            with watch("blind-well test"):
                run.pieces.add(
                    chunk.proba,
                    chunk.sets,
                    run.labels[take],
                    self.class_group,
                    borehole[take],
                    position[take],
                    best=chunk.columns["lithology"].codes,
                    set_size=chunk.columns.get("set_size"),
                )

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
        groups = np.full((len(frame), len(self.group_names)), np.nan, np.float32)
        with ThreadPoolExecutor(max_workers=1) as searcher:
            run = _Pass(
                level,
                analogs,
                watch,
                searcher,
                SetNames(self.class_names),
                groups,
                _labels(frame, self.class_names),
            )
            run.columns = _Columns(len(rows))
            if run.labels is not None:
                run.pieces, run.places = RowPieces(), _places(frame)
            run.cores = _share_cores(self.index is not None)
            # One chunk ahead: a chunk's search runs while the next goes through the networks.
            # NumPy's BLAS on this thread's share of the cores too: its idle threads spin,
            # and on 2 cores they had taken a third of the search's core (the chunks, with
            # the search beside them, took 8.3 s on a million bins; 5.6 s on one thread).
            with torch_threads(run.cores[0]), threadpool_limits(run.cores[0], user_api="blas"):
                pending = None
                for start in range(0, len(rows), chunk_bins):
                    take = rows[start : start + chunk_bins]
                    chunk = self._chunk(run, take, values[take])
                    if pending is not None:
                        self._finish(run, pending)
                    pending = chunk
                self._finish(run, pending)
        with watch("assemble"):
            table = _assemble(frame, rows, run.columns, self, run.set_names)
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
        if run.pieces is not None:
            result.blind_well = partial(blind_well_scores, run.pieces, self.calibrated, level)
        return result


def _share_cores(searching: bool) -> tuple[int | None, int]:
    """(PyTorch threads here, None: as they are; search threads beside) while the chunks
    go through.

    With a search beside, the two take half the cores each: left to themselves both
    would take every core, and on 2 cores their four threads spin against each other
    (PyTorch's pool waits for its threads by spinning): the chunks took a sixth longer."""
    if not searching:
        return None, 1
    cores = default_workers()
    here = max(1, cores // 2)
    return here, max(1, cores - here)


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
    # Each distinct name is looked up once: a million bins share a few hundred names.
    codes, distinct = pd.factorize(names)
    index = {c: i for i, c in enumerate(class_names)}
    lookup = np.array([index.get(n, -1) if n else -2 for n in distinct], dtype=np.int64)
    return lookup[codes]


class _Columns:
    """The output table's columns, one array of every predicted bin each, filled chunk
    by chunk in order (a categorical column as its codes, with the categories that every
    chunk gives it). Joining the chunks' columns at the end instead wrote them all a
    second time into fresh memory, most of a second on a million bins."""

    def __init__(self, bins: int):
        self.bins, self.filled = bins, 0
        self.arrays: dict[str, np.ndarray] = {}
        self.dtypes: dict[str, pd.CategoricalDtype] = {}

    def fill(self, columns: dict) -> None:
        """The next chunk's columns (name -> array or categorical, all of its length; the
        same names and categories in every chunk)."""
        if self.filled and set(columns) != set(self.arrays):
            raise ValueError("a chunk's columns differ from the first chunk's")
        n = 0
        for name, values in columns.items():
            if isinstance(values, pd.Categorical):
                if values.dtype != self.dtypes.setdefault(name, values.dtype):
                    raise ValueError(f"{name}: the chunks' categories differ")
                values = values.codes
            values = np.asarray(values)
            if name not in self.arrays:
                self.arrays[name] = np.empty(self.bins, dtype=values.dtype)
            n = len(values)
            self.arrays[name][self.filled : self.filled + n] = values
        self.filled += n

    def table(self, index: np.ndarray) -> pd.DataFrame:
        columns = {
            name: pd.Categorical.from_codes(codes, dtype=self.dtypes[name], validate=False)
            if name in self.dtypes
            else codes
            for name, codes in self.arrays.items()
        }
        return pd.DataFrame(columns, index=index, copy=False)  # copy=False: they are new


def _assemble(frame: pd.DataFrame, rows, columns: _Columns, predictor: Predictor, set_names):
    if len(rows) == len(frame):  # every bin predicted
        body = columns.table(pd.RangeIndex(len(frame)))
    else:  # bins without a prediction: empty rows in their places
        body = columns.table(rows).reindex(range(len(frame)))
    set_column = next((c for c in body.columns if c.startswith("set_") and c != "set_size"), None)
    if set_column is not None:
        body[set_column] = set_names.categorical(body[set_column])
    head = pd.DataFrame({BOREHOLE_COL: frame[BOREHOLE_COL], DEPTH_COL: frame[DEPTH_COL]})
    if LABEL_COL in frame.columns:
        head["described"] = frame[LABEL_COL]
    out = pd.concat([head, body], axis=1)
    # One-valued categoricals: a million copies of one string would be ~20 MB each.
    out["probabilities"] = constant(
        "calibrated" if predictor.calibrated else "UNCALIBRATED", len(out)
    )
    if predictor.models.synthetic:
        out["data"] = constant("SYNTHETIC", len(out))
    return out
