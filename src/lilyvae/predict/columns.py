"""The columns of the output table, chunk by chunk: most likely classes and groups, the
prediction set, the analogs.

Names repeated a million times are categoricals (a code per bin, each name once): a
million bins of Python or Arrow strings would be most of the table's memory.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lilyvae.predict.novelty import AnalogIndex

#: Most likely classes given, with their probabilities.
TOP = 3


def constant(value: str, n: int) -> pd.Categorical:
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), categories=[value])


class SetNames:
    """The ``;``-joined name of each distinct prediction set met so far (its classes in
    the model's alphabetical order), and a code for it. Neighbouring bins mostly share
    a set: each distinct set is joined once, and the column is a categorical."""

    def __init__(self, class_names):
        self.class_names = np.asarray(class_names, dtype=object)
        self.code_of: dict[bytes, int] = {}
        self.names: list[str] = []

    def encode(self, sets: np.ndarray) -> np.ndarray:
        """The code of each row's set ((n, classes) bool)."""
        packed = np.ascontiguousarray(np.packbits(sets, axis=1))
        keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        codes = np.empty(len(distinct), dtype=np.int64)
        new_rows = []
        for j, key in enumerate(distinct):
            # A key not met before gets the next code, in the order its name is added.
            codes[j] = code = self.code_of.setdefault(key.tobytes(), len(self.code_of))
            if code == len(self.names) + len(new_rows):
                new_rows.append(first[j])
        self.names.extend(self._joined(sets[new_rows]))
        return codes[inverse.ravel()]

    def _joined(self, sets: np.ndarray) -> list[str]:
        """The ``;``-joined names of each row's set, from one pass over all the rows'
        members (a set's classes come out of ``nonzero`` in class order)."""
        rows, classes = np.nonzero(sets)
        names = self.class_names[classes].tolist()
        ends = np.cumsum(np.bincount(rows, minlength=len(sets))).tolist()
        return [";".join(names[a:b]) for a, b in zip([0, *ends][:-1], ends, strict=True)]

    def categorical(self, codes: pd.Series) -> pd.Categorical | np.ndarray:
        """The names of ``codes`` (NaN: a bin without a prediction)."""
        codes = codes.fillna(-1).to_numpy(np.int64)
        if len(set(self.names)) < len(self.names):  # a class name with ";" in it
            names = np.array([*self.names, None], dtype=object)
            return names[codes]
        return pd.Categorical.from_codes(codes, categories=self.names)


def top_classes(proba: np.ndarray, k: int) -> np.ndarray:
    """(n, k) the k most likely classes of each row, most likely first, ties to the lower
    class index (as a stable sort of -proba would give). k passes of argmax: a partial
    sort of 139 classes per row is some twenty times slower."""
    rows = np.arange(len(proba))
    order = np.empty((len(proba), k), dtype=np.int64)
    taken = np.empty((len(proba), k), dtype=proba.dtype)
    # Each pass hides its winners from the next in ``proba`` itself (a copy of a chunk's
    # bins x 139 would cost more than the passes), and the values are put back after.
    try:
        for j in range(k):
            order[:, j] = proba.argmax(axis=1)
            taken[:, j] = proba[rows, order[:, j]]
            proba[rows, order[:, j]] = -np.inf
    finally:
        for j in reversed(range(k)):
            proba[rows, order[:, j]] = taken[:, j]
    return order


def class_columns(proba, sets, class_names, level, set_names: SetNames) -> dict:
    size = None if sets is None else sets.sum(axis=1)
    k = min(TOP, proba.shape[1])
    order = top_classes(proba, k)
    top_p = np.take_along_axis(proba, order, axis=1)

    # Categoricals: a million bins of repeated names would be a million Python strings.
    def named(j):
        return pd.Categorical.from_codes(order[:, j], categories=list(class_names))

    cols = {"lithology": named(0), "probability": top_p[:, 0].astype(np.float64)}
    for j in range(k):
        cols[f"lithology_{j + 1}"] = named(j)
        cols[f"probability_{j + 1}"] = top_p[:, j].astype(np.float64)
    if size is not None:
        cols[f"set_{level:g}"] = set_names.encode(sets)
        cols["set_size"] = size
    return cols


def group_columns(group_proba, group_names) -> dict:
    best = group_proba.argmax(axis=1)
    return {
        "group": pd.Categorical.from_codes(best, categories=list(group_names)),
        "group_probability": group_proba[np.arange(len(best)), best].astype(np.float64),
    }


def analog_columns(index: AnalogIndex, distances, neighbours, k: int) -> dict:
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
