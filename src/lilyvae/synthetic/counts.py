"""Counts: the real facts shipped with the package, and how the synthetic data scales them.

The real row counts per borehole (``resources/boreholes.csv``, the 296 real boreholes)
and per lithology (``resources/lithology_classes.csv``, the 139 real lithologies) are
used as they are for the default 238,506 rows, and scaled by largest-remainder rounding
(:func:`scale_counts`) for any other size; every borehole and every lithology keeps at
least one row (so at least 296 rows).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from lilyvae.errors import LilyVAEError

#: Rows of the real training table.
DEFAULT_ROWS = 238_506

#: Depth bin (m) of the table: every synthetic depth is a multiple of it.
BIN_M = 0.2


def _read_resource(name: str) -> pd.DataFrame:
    with resources.files("lilyvae").joinpath("resources", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"Borehole_ID": str, "Principal": str, "Group": str})


def real_classes() -> pd.DataFrame:
    """The 139 real lithologies: ``Principal``, ``Group``, ``Count`` (real row counts)."""
    return _read_resource("lithology_classes.csv")


def real_boreholes() -> pd.DataFrame:
    """The 296 real boreholes: ``Borehole_ID``, ``n_samples``, ``min_depth``, ``max_depth``."""
    return _read_resource("boreholes.csv")


def minimum_rows() -> int:
    """Smallest table size: one row for every real borehole and every lithology."""
    return max(len(real_boreholes()), len(real_classes()))


def scale_counts(counts, total: int) -> np.ndarray:
    """Scale integer ``counts`` to sum to ``total``, each at least 1 (largest remainder).

    Every entry first gets one row; the other ``total - len(counts)`` rows are shared in
    proportion to ``counts - 1``, floors first, then one more to the largest remainders
    (ties: earlier entries first). When ``total == sum(counts)`` this returns ``counts``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    k = counts.size
    if total < k:
        raise LilyVAEError(f"cannot give each of {k} entries a row with only {total} rows")
    weights = (counts - 1).astype(np.float64)
    spare = total - k
    if weights.sum() <= 0:
        weights = np.ones(k)
    quota = weights * spare / weights.sum()
    base = np.floor(quota).astype(np.int64)
    left = int(spare - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:left]] += 1
    return base + 1


def check_rows(rows, boreholes: int | None = None) -> int:
    """Rows of a synthetic table (None: the real table's); an error below the minimum
    (one row for every borehole, the real 296 unless ``boreholes`` says how many, and
    every lithology)."""
    if rows is None:
        return DEFAULT_ROWS
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)):
        raise LilyVAEError(f"rows must be a whole number, got {rows!r}")
    rows = int(rows)
    if rows <= 0:
        raise LilyVAEError(f"rows must be positive, got {rows}")
    low = minimum_rows() if boreholes is None else max(boreholes, len(real_classes()))
    if rows < low:
        raise LilyVAEError(
            f"rows={rows} is too few: the synthetic table needs at least {low} rows "
            "(one for every borehole and every lithology)"
        )
    return rows


def check_seed(seed, name: str = "--seed") -> int:
    """A seed as an int; an error, naming it ``name`` (the option a user typed), unless
    a whole number >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise LilyVAEError(f"{name} must be a whole number >= 0, not {seed!r}")
    if seed < 0:
        raise LilyVAEError(f"{name} must be >= 0, not {seed}")
    return int(seed)
