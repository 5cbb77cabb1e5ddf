"""Reading and writing tables, and turning a training table into model inputs.

:func:`load_training_data` is the one loader every stage uses: it reads a CSV or Parquet
table (:func:`read_table`), keeps the rows whose six inputs are finite, and encodes the
lithology labels (:class:`TrainingData`). With ``keep_partial`` it also keeps rows that
lack some inputs (a bin without a colour scan), their missing inputs NaN; a model
trained with ``missing="mask"`` uses them (:meth:`TrainingData.rows_for`). The column
names are in :mod:`lilyvae.data.schema`; held-out boreholes in :mod:`lilyvae.data.splits`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.csv_text import write_csv
from lilyvae.data.provenance import UNKNOWN, Provenance, table_provenance
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, LABEL_COL
from lilyvae.data.table_checks import (
    check_column_names,
    check_csv_layout,
    check_rows,
    place_names,
    scan_csv,
)
from lilyvae.errors import LilyVAEError, first_line
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


def read_table(
    path: str | os.PathLike, columns: list[str] | None = None, *, check: bool = False
) -> pd.DataFrame:
    """Read a CSV or Parquet table (chosen by extension) with clear one-line errors.

    A CSV's ragged rows, a last line cut off mid-line and a column name given twice are
    always refused (:mod:`lilyvae.data.table_checks`). ``check`` also refuses bad rows of
    a training table: text in a measurement column, an empty Borehole_ID, a repeated
    (Borehole_ID, Depth_Bin) key; an empty measurement cell stays a missing input.
    """
    if Path(path).is_dir():
        raise LilyVAEError(f"{path}: is a directory, not a table file (.csv or .parquet)")
    fmt = table_format(path)
    if not Path(path).is_file():
        raise missing_table_error(path)
    lines = None
    try:
        if fmt == "csv":
            layout = scan_csv(path)
            if layout is not None:
                check_csv_layout(layout, path)
                lines = layout.lines
            df = pd.read_csv(path, dtype={BOREHOLE_COL: str, LABEL_COL: str})
        else:
            import pyarrow.parquet as pq  # only for Parquet: keeps CSV commands light

            check_column_names(pq.read_schema(path).names, path)
            df = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise LilyVAEError(f"{path}: the file is empty") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise LilyVAEError(f"{path}: cannot read the table ({first_line(exc)})") from None
    if columns is not None:
        require_columns(df, columns, path)
    if check:
        check_rows(df, path, lines)
    return df


def table_lines(path: str | os.PathLike, n_rows: int) -> np.ndarray:
    """Per row of a table file, how a message names its place (``line N`` of a CSV,
    ``row N`` otherwise): for errors found after reading."""
    lines = None
    if not Path(path).is_file():
        raise LilyVAEError(f"{path}: not a table file")
    if table_format(path) == "csv":
        layout = scan_csv(path)
        lines = None if layout is None else layout.lines
    return place_names(n_rows, lines)


def write_table(df: pd.DataFrame, path: str | os.PathLike, fmt: str | None = None) -> None:
    """Write CSV or Parquet, by ``fmt`` or else by extension.

    ``fmt`` lets an atomic writer put the table under a temporary name that has no
    table extension; :func:`write_table_atomic` does that.
    """
    fmt = fmt or table_format(path)
    if fmt == "csv":
        write_csv(df, path)
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
    is missing (such rows still train the unsupervised terms). ``features`` is all
    finite unless the table was read with ``keep_partial``: then a missing input is NaN
    (and every row has at least one input). ``origin`` says whether the table is
    SYNTHETIC (:mod:`lilyvae.data.provenance`); it travels into the cards.
    """

    features: np.ndarray  # (n, 6) float64, raw units; NaN = missing (keep_partial only)
    labels: np.ndarray  # (n,) int64, -1 = unlabelled
    class_names: tuple[str, ...]
    boreholes: np.ndarray | None  # (n,) object, or None when the table has no Borehole_ID
    rows_read: int
    rows_dropped: int
    source: str
    sha256: str | None
    origin: Provenance = UNKNOWN
    # (n,) float64 Depth_Bin (NaN where not a number), or None when the table has none
    depths: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_labelled(self) -> int:
        return int((self.labels >= 0).sum())

    @property
    def observed(self) -> np.ndarray:
        """(n, 6) bool: True where an input is present."""
        return np.isfinite(self.features)

    @property
    def complete(self) -> np.ndarray:
        """(n,) bool: True for rows with all six inputs."""
        return self.observed.all(axis=1)

    @property
    def n_partial(self) -> int:
        """Rows that lack at least one input (0 unless read with ``keep_partial``)."""
        return int(self.n_rows - self.complete.sum())

    def rows_for(self, missing: str) -> TrainingData:
        """The rows a model trains on: every row for ``missing="mask"``; for ``"drop"``
        (the reference's way) only the complete rows, the others counted as dropped.
        Returns ``self`` when nothing changes."""
        if missing not in ("drop", "mask"):
            raise LilyVAEError(f"missing must be 'drop' or 'mask', not {missing!r}")
        self.require_every_input()
        if missing == "mask" or self.n_partial == 0:
            return self
        if not self.complete.any():
            raise LilyVAEError(
                f"{self.source}: no usable rows ({self.rows_read} read, all with a missing or "
                "non-finite input; missing='mask' trains on rows with some inputs)"
            )
        complete = self.subset(self.complete)
        # In the memory order of a table read without its partial rows: the scaler's
        # sums depend on it, and a 'drop' model must train to the same bits either way.
        order = "F" if self.features.flags.f_contiguous else "C"
        features = np.require(complete.features, requirements=order)
        return dataclasses.replace(
            complete, features=features, rows_dropped=self.rows_dropped + self.n_partial
        )

    def require_every_input(self) -> None:
        """Refuse rows in which some input column is empty throughout: no model, however
        it treats missing inputs, can learn an input it never sees."""
        seen = self.observed.any(axis=0)
        if self.n_rows and not seen.all():
            name = FEATURE_COLS[int(np.flatnonzero(~seen)[0])]
            raise LilyVAEError(
                f"{self.source}: input column {name!r} is empty in every row: no model can be "
                "trained on an input it never sees (fill the column, or use a table that has it)"
            )

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
            origin=self.origin,
            depths=None if self.depths is None else self.depths[mask],
        )

    def provenance(self) -> dict:
        """The ``data`` section of a model card and of ``metrics.json``."""
        out = {
            "path": self.source,
            "sha256": self.sha256,
            "rows_read": self.rows_read,
            "rows_dropped": self.rows_dropped,
            "rows_used": self.n_rows,
            "rows_labelled": self.n_labelled,
            "n_classes": len(self.class_names),
        } | self.origin.to_dict()
        # Only where there are some: records of complete tables stay as they were.
        partial = self.n_partial
        if partial:
            out["rows_partial"] = partial
        return out


def feature_values(df: pd.DataFrame) -> np.ndarray:
    """The six inputs of every row (n, 6) float64, NaN where one is missing, not a
    number, or not finite."""
    values = df[list(FEATURE_COLS)].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    return np.where(np.isfinite(values), values, np.nan)


def finite_feature_mask(df: pd.DataFrame) -> np.ndarray:
    """True for rows whose six inputs are all present, numeric and finite."""
    return np.isfinite(feature_values(df)).all(axis=1)


def training_data_from_frame(
    df: pd.DataFrame,
    source: str = "<frame>",
    sha256: str | None = None,
    class_names: tuple[str, ...] | None = None,
    origin: Provenance = UNKNOWN,
    *,
    keep_partial: bool = False,
) -> TrainingData:
    """Select usable rows and encode labels.

    Rows with a missing or non-finite input are dropped and counted; with
    ``keep_partial`` only rows without any input are, and a missing input is NaN. Labels are
    indexed in sorted order of their names, as the reference's LabelEncoder did, so
    index i of a classifier head is the i-th name in sorted order. Pass
    ``class_names`` to encode against an existing list (labels not in it become -1).
    ``origin``: the table's provenance (a DataFrame's is not known unless given).
    """
    require_columns(df, FEATURE_COLS, source)
    rows_read = len(df)
    values = feature_values(df)
    present = np.isfinite(values)
    keep = present.any(axis=1) if keep_partial else present.all(axis=1)
    used = df.loc[keep]
    if len(used) == 0:
        what = "no input" if keep_partial else "a missing or non-finite input"
        raise LilyVAEError(f"{source}: no usable rows ({rows_read} read, all with {what})")
    # Read again from the kept rows, as before partial rows existed: the array's memory
    # order (and so the scaler's sums, and every trained bit) stays what it was.
    coerce = "coerce" if keep_partial else "raise"
    features = used[list(FEATURE_COLS)].apply(pd.to_numeric, errors=coerce).to_numpy(np.float64)
    if keep_partial:
        features = np.where(np.isfinite(features), features, np.nan)
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
    depths = None
    if DEPTH_COL in used:
        depths = pd.to_numeric(used[DEPTH_COL], errors="coerce").to_numpy(np.float64)
    return TrainingData(
        features=features,
        labels=labels,
        class_names=tuple(class_names),
        boreholes=boreholes,
        rows_read=rows_read,
        rows_dropped=int(rows_read - len(used)),
        source=source,
        sha256=sha256,
        origin=origin,
        depths=depths,
    )


def load_training_data(path: str | os.PathLike, *, keep_partial: bool = False) -> TrainingData:
    """Read a training table and return its usable rows, encoded labels, fingerprint
    and provenance (SYNTHETIC when a sidecar or build manifest beside it says so); with
    ``keep_partial``, also the rows that lack some inputs."""
    df = read_table(path, check=True)
    require_columns(df, FEATURE_COLS, path)
    return training_data_from_frame(
        df,
        source=str(path),
        sha256=sha256_file(path),
        origin=table_provenance(path),
        keep_partial=keep_partial,
    )


def as_training_data(data, keep_partial: bool = False) -> TrainingData:
    """A table path, DataFrame or :class:`TrainingData` as TrainingData (with
    ``keep_partial``, a table's rows lacking some input too): what every entry point
    that takes "a table" reads it with."""
    if isinstance(data, TrainingData):
        return data
    if isinstance(data, (str, os.PathLike)):
        return load_training_data(data, keep_partial=keep_partial)
    return training_data_from_frame(data, keep_partial=keep_partial)
