"""An out-of-distribution interval injected into a SYNTHETIC table, so that novelty
detection can be tested: a stretch of one borehole gets a lithology that no other
borehole has, with measurements outside the population the models train on (denser,
far more magnetic and radioactive, and paler than any synthetic bin).

The interval is recorded (borehole, top, base, bins, lithology) in the table's
``.synthetic.json`` sidecar, where the evaluation and the demo find which bins are new.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.provenance import synthetic_sidecar_path
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, GRA, LABEL_COL, MS, NGR
from lilyvae.data.tables import read_table, write_table_atomic
from lilyvae.errors import LilyVAEError
from lilyvae.files import read_json_file, write_json_atomic

#: The lithology of the injected interval (no real LILY lithology has this name).
NOVEL_LITHOLOGY = "injected novel lithology"
#: Bins of the injected interval, at most (a third of the borehole when it is shorter).
NOVEL_BINS = 60
#: Ranges of the injected measurements: beyond the synthetic (and real) populations'
#: usual values on every input at once.
NOVEL_RANGES = {
    GRA: (3.2, 3.6),
    MS: (9000.0, 14000.0),
    NGR: (260.0, 330.0),
    "R": (245.0, 254.0),
    "G": (5.0, 12.0),
    "B": (245.0, 254.0),
}


def inject_novel_interval(
    df: pd.DataFrame, borehole: str | None = None, seed: int = 0, bins: int = NOVEL_BINS
) -> tuple[pd.DataFrame, dict]:
    """A copy of ``df`` with one interval of ``borehole`` (default: the borehole with the
    most bins) replaced by the novel lithology; and the record of the interval."""
    if borehole is None:
        borehole = str(df[BOREHOLE_COL].value_counts().idxmax())
    rows = np.flatnonzero(df[BOREHOLE_COL].astype(str).to_numpy() == borehole)
    if len(rows) < 3:
        raise LilyVAEError(f"borehole {borehole}: too few bins for a novel interval")
    n = min(bins, max(1, len(rows) // 3))
    rng = np.random.default_rng(seed)
    start = int(rng.integers(0, len(rows) - n + 1))
    chosen = rows[start : start + n]
    out = df.copy()
    for column, (low, high) in NOVEL_RANGES.items():
        out.loc[out.index[chosen], column] = rng.uniform(low, high, n)
    out[LABEL_COL] = out[LABEL_COL].astype(object)
    out.loc[out.index[chosen], LABEL_COL] = NOVEL_LITHOLOGY
    depths = out[DEPTH_COL].to_numpy(np.float64)[chosen]
    record = {
        "borehole": borehole,
        "top_m": float(depths.min()),
        "base_m": float(depths.max()),
        "bins": int(n),
        "lithology": NOVEL_LITHOLOGY,
        "ranges": {k: list(v) for k, v in NOVEL_RANGES.items()},
    }
    return out, record


def novel_mask(df: pd.DataFrame, record: dict) -> np.ndarray:
    """True for the bins of the injected interval ``record`` describes."""
    depth = df[DEPTH_COL].to_numpy(np.float64)
    return (
        (df[BOREHOLE_COL].astype(str).to_numpy() == record["borehole"])
        & (depth >= record["top_m"] - 1e-9)
        & (depth <= record["base_m"] + 1e-9)
    )


def add_novel_interval(path: str | os.PathLike, seed: int = 0) -> dict:
    """Inject the interval into a written synthetic table and record it in its sidecar."""
    path = Path(path)
    sidecar = synthetic_sidecar_path(path)
    record_file = read_json_file(sidecar, "synthetic sidecar")
    table, record = inject_novel_interval(read_table(path), seed=seed)
    write_table_atomic(table, path)
    from lilyvae.files import sha256_file

    record_file["sha256"] = sha256_file(path)
    record_file["novel_interval"] = record
    write_json_atomic(sidecar, record_file)
    return record
