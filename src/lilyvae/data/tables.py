"""Data in: the training table's schema, reading it, and turning it into model inputs.

The table is the one the reference system trained on (``vae_training_data_v2_20cm.csv``):
one row per 20 cm depth bin of one borehole, nine columns. The six measurement columns
are the model's inputs, in the order of :data:`FEATURE_COLS`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.errors import LilyVAEError
from lilyvae.files import sha256_file, write_atomic

BOREHOLE_COL = "Borehole_ID"
DEPTH_COL = "Depth_Bin"
LABEL_COL = "Principal"

GRA = "Bulk density (GRA)"
MS = "Magnetic susceptibility (instr. units)"
NGR = "NGR total counts (cps)"

#: The six model inputs, in the order the reference models expect them.
FEATURE_COLS: tuple[str, ...] = (GRA, MS, NGR, "R", "G", "B")

#: Short names for the features, for tables and figures.
FEATURE_SHORT: tuple[str, ...] = ("GRA", "MS", "NGR", "R", "G", "B")

#: The training table's nine columns, in file order.
TABLE_COLUMNS: tuple[str, ...] = (
    BOREHOLE_COL,
    DEPTH_COL,
    GRA,
    LABEL_COL,
    MS,
    NGR,
    "R",
    "G",
    "B",
)

TABLE_SUFFIXES = (".csv", ".parquet")

#: Columns of a borehole table ``<table stem>.boreholes.csv`` written beside a table
#: (by ``build-dataset``, and by the demo for its synthetic table).
BOREHOLE_TABLE_COLUMNS: tuple[str, ...] = (
    BOREHOLE_COL,
    "latitude",
    "longitude",
    "water_depth_m",
    "rows",
    "min_depth_m",
    "max_depth_m",
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
        raise LilyVAEError(f"{path}: no such file")
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


# --- held-out boreholes --------------------------------------------------------------------


@dataclass(frozen=True)
class BoreholeSplit:
    """Boreholes kept out of training, so evaluation scores unseen boreholes.

    Neighbouring 20 cm bins of one borehole are near copies, so a random split of rows
    leaks; a split of whole boreholes does not.
    """

    holdout: tuple[str, ...]
    fraction: float | None = None
    seed: int | None = None
    source: str | None = None  # a split file, when the IDs came from one

    def holdout_mask(self, boreholes: np.ndarray) -> np.ndarray:
        return np.isin(boreholes, np.asarray(self.holdout, dtype=object))

    def to_dict(self) -> dict:
        return {
            "holdout_boreholes": list(self.holdout),
            "fraction": self.fraction,
            "split_seed": self.seed,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, params: dict | None) -> BoreholeSplit | None:
        if not params or not params.get("holdout_boreholes"):
            return None
        return cls(
            tuple(params["holdout_boreholes"]),
            params.get("fraction"),
            params.get("split_seed"),
            params.get("source"),
        )


def _require_boreholes(data: TrainingData) -> np.ndarray:
    if data.boreholes is None:
        raise LilyVAEError(f"{data.source}: a borehole split needs the {BOREHOLE_COL!r} column")
    return data.boreholes


def split_boreholes(data: TrainingData, fraction: float, seed: int = 0) -> BoreholeSplit:
    """Hold out ``fraction`` of the boreholes (at least one, never all), chosen by seed."""
    if not 0 < fraction < 1:
        raise LilyVAEError(f"--holdout-boreholes must be a fraction in (0, 1), not {fraction}")
    ids = np.unique(_require_boreholes(data))
    if len(ids) < 2:
        raise LilyVAEError(f"{data.source}: one borehole only; nothing to hold out")
    n_out = min(max(int(round(fraction * len(ids))), 1), len(ids) - 1)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(ids, size=n_out, replace=False))
    return BoreholeSplit(tuple(str(b) for b in chosen), fraction, seed)


def read_split_file(path: str | os.PathLike, data: TrainingData) -> BoreholeSplit:
    """Held-out borehole IDs from a file: one per line (``#`` comments), or a CSV with
    a ``Borehole_ID`` column. Every ID must occur in the data."""
    path = Path(path)
    if not path.is_file():
        raise LilyVAEError(f"{path}: no such split file")
    text = path.read_text(encoding="utf-8")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if lines and BOREHOLE_COL in [c.strip() for c in lines[0].split(",")]:
        # A CSV with a Borehole_ID column, whatever the file's extension.
        table = pd.read_csv(io.StringIO("\n".join(lines)), dtype=str, skipinitialspace=True)
        ids = table[BOREHOLE_COL].dropna().str.strip().tolist()
    else:
        ids = lines
    if not ids:
        raise LilyVAEError(f"{path}: lists no borehole IDs")
    known = set(_require_boreholes(data))
    unknown = [b for b in ids if b not in known]
    if unknown:
        raise LilyVAEError(f"{path}: borehole {unknown[0]!r} is not in {data.source}")
    if set(ids) >= known:
        raise LilyVAEError(f"{path}: holds out every borehole; nothing is left to train on")
    return BoreholeSplit(tuple(sorted(set(ids))), source=str(path))
