"""The LILY property tables: which ones the reference predicted, their file names, and
the 267 variables it scored (``resources/lily_properties.csv``). The schema of those
files, read by the property test and written by the SYNTHETIC generator alike."""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np
import pandas as pd

#: The 14 LILY tables whose variables the reference predicted.
PROPERTY_TABLES: tuple[str, ...] = (
    "AVS",
    "CARB",
    "GE",
    "ICP",
    "IW",
    "JR6A",
    "KAPPA",
    "MAD",
    "PEN",
    "PWB",
    "PWC",
    "SRMD",
    "TCON",
    "TOR",
)
#: Depth columns a table of unknown layout may use, in order of preference.
DEPTH_CANDIDATES = ("Depth CSF-A (m)", "Top depth CSF-A (m)")


def property_file(table: str) -> str:
    return f"{table}_DataLITH.csv"


@functools.lru_cache(maxsize=1)
def reference_variables() -> pd.DataFrame:
    """The 267 variables the reference scored: table, variable, depth_column, n_matched_bins."""
    res = resources.files("lilyvae").joinpath("resources", "lily_properties.csv")
    with res.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return df.assign(n_matched_bins=df["n_matched_bins"].astype(np.int64))
