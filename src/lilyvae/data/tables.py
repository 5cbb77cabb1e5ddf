"""Reading and writing tables, and turning a training table into model inputs.

:func:`load_training_data` is the one loader every stage uses: it reads a CSV or Parquet
table (:func:`read_table`), keeps the rows whose six inputs are finite, and encodes the
lithology labels (:class:`TrainingData`). The column names are in
:mod:`lilyvae.data.schema`; held-out boreholes in :mod:`lilyvae.data.splits`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, FEATURE_COLS, LABEL_COL
from lilyvae.errors import LilyVAEError
from lilyvae.files import sha256_file, write_atomic


def missing_table_error(path: str | os.PathLike) -> LilyVAEError:
    """The one-line error for a table that does not exist. A newcomer typing the
    specification's commands has no ``data/`` folder yet: say where tables come from."""
    return LilyVAEError(
        f"{path}: no such file; build it from the LILY download with "
        f"`lilyvae build-dataset --lily-dir DIR --output {path}`, write a SYNTHETIC "
        "table with `lilyvae synth --output synthetic.csv`, or run `lilyvae demo`"
    )


def table_format(path: str | os.PathLike) -> str:
    """``"csv"`` or ``"parquet"`` from the file name; anything else is an error."""
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise LilyVAEError(
        f"{path}: unknown table extension {suffix or '(none)'!r}; use .csv or .parquet"
    )


def read_table(path: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV or Parquet table (chosen by extension) with clear one-line errors."""
    fmt = table_format(path)
    if not Path(path).is_file():
        raise missing_table_error(path)
    try:
        if fmt == "csv":
            df = pd.read_csv(path, dtype={BOREHOLE_COL: str, LABEL_COL: str})
        else:
            df = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise LilyVAEError(f"{path}: the file is empty") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LilyVAEError(f"{path}: cannot read the table ({first_line})") from None
    if columns is not None:
        require_columns(df, columns, path)
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None) -> None:
    """Write CSV or Parquet, by ``fmt`` or else by extension.

    ``fmt`` lets an atomic writer put the table under a temporary name that has no
    table extension; :func:`write_table_atomic` does that.
    """
    fmt = fmt or table_format(path)
    if fmt == "csv":
        df.to_csv(path, index=False)
    else:
        df.to_parquet(path, index=False)


def write_table_atomic(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a CSV or Parquet table (by extension) so that no half-written file appears."""
    fmt = table_format(path)
    return write_atomic(path, lambda tmp: write_table(df, tmp, fmt))


def require_columns(df: pd.DataFrame, columns, path) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        names = ", ".join(repr(c) for c in missing)
        raise LilyVAEError(f"{path}: missing input column(s) {names}")


@dataclass(frozen=True)
class TrainingData:
    """Model inputs taken from a table: raw features, label indices, bookkeeping.

    ``labels`` holds an index into ``class_names`` per row, or -1 where ``Principal``
    is missing (such rows still train the unsupervised terms).
    """

    features: np.ndarray  # (n, 6) float64, raw units, all finite
    labels: np.ndarray  # (n,) int64, -1 = unlabelled
    class_names: tuple[str, ...]
    boreholes: np.ndarray | None  # (n,) object, or None when the table has no Borehole_ID
    rows_read: int
    rows_dropped: int
    source: str
    sha256: str | None

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_labelled(self) -> int:
        return int((self.labels >= 0).sum())

    def subset(self, mask: np.ndarray) -> TrainingData:
        """The rows where ``mask`` is true, with the same class list."""
        return TrainingData(
            features=self.features[mask],
            labels=self.labels[mask],
            class_names=self.class_names,
            boreholes=None if self.boreholes is None else self.boreholes[mask],
            rows_read=self.rows_read,
            rows_dropped=self.rows_dropped,
            source=self.source,
            sha256=self.sha256,
        )

    def provenance(self) -> dict:
        return {
            "path": self.source,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_dropped": self.rows_dropped,
            "rows_used": self.n_rows,
            "rows_labelled": self.n_labelled,
            "n_classes": len(self.class_names),
        }


def finite_feature_mask(df: pd.DataFrame) -> np.ndarray:
    """True for rows whose six inputs are all present, numeric and finite."""
    values = df[list(FEATURE_COLS)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    return np.isfinite(values).all(axis=1)


def training_data_from_frame(
    df: pd.DataFrame,
    source: str = "<frame>",
    sha256: str | None = None,
    class_names: tuple[str, ...] | None = None,
) -> TrainingData:
    """Select usable rows and encode labels.

    Rows with a missing or non-finite input are dropped and counted. Labels are
    indexed in sorted order of their names, as the reference's LabelEncoder did, so
    index i of a classifier head is the i-th name in sorted order. Pass
    ``class_names`` to encode against an existing list (labels not in it become -1).
    """
    require_columns(df, FEATURE_COLS, source)
    rows_read = len(df)
    keep = finite_feature_mask(df)
    used = df.loc[keep]
    if len(used) == 0:
        raise LilyVAEError(
            f"{source}: no usable rows ({rows_read} read, all with a missing or non-finite input)"
        )
    features = used[list(FEATURE_COLS)].apply(pd.to_numeric).to_numpy(np.float64)
    if LABEL_COL in used.columns:
        names = used[LABEL_COL].astype("string").str.strip()
        names = names.mask(names == "")
    else:
        names = pd.Series(pd.NA, index=used.index, dtype="string")
    if class_names is None:
        class_names = tuple(sorted(names.dropna().unique()))
    # Categorical codes are -1 for missing names and names outside class_names.
    labels = pd.Categorical(names, categories=list(class_names)).codes.astype(np.int64)
    boreholes = used[BOREHOLE_COL].astype(str).to_numpy() if BOREHOLE_COL in used else None
    return TrainingData(
        features=features,
        labels=labels,
        class_names=tuple(class_names),
        boreholes=boreholes,
        rows_read=rows_read,
        rows_dropped=int(rows_read - len(used)),
        source=source,
        sha256=sha256,
    )


def load_training_data(path: str | os.PathLike) -> TrainingData:
    """Read a training table and return its usable rows, encoded labels and fingerprint."""
    df = read_table(path)
    require_columns(df, FEATURE_COLS, path)
    return training_data_from_frame(df, source=str(path), sha256=sha256_file(path))
