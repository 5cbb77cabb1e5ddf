"""One hole's readings in one file: each instrument samples at its own spacing.

GRA and MS read every 2.5 cm, NGR every 10 cm, the RGB line scan every 0.5 cm (8, 8, 2
and 40 readings per 20 cm bin). Each reading is the true value at its depth
(:meth:`lilyvae.synthetic.measurements.SyntheticLily.true_values`) plus instrument noise
scaled so that the mean of a bin has about the noise of a row of the synthetic table
(:data:`lilyvae.synthetic.measurements.MEASUREMENT_NOISE`).
"""

from __future__ import annotations

import math

import numpy as np

from lilyvae.synthetic.counts import BIN_M
from lilyvae.synthetic.measurements import MEASUREMENT_NOISE, SyntheticLily

#: Spacing of readings (m) and offset of the first reading below a borehole's top bin
#: edge: GRA and MS every 2.5 cm, NGR every 10 cm (between edges), RGB every 0.5 cm.
SPACING_M = {"GRA": 0.025, "MS": 0.025, "NGR": 0.1, "RGB": 0.005}
FIRST_OFFSET_M = {"GRA": 0.0, "MS": 0.0, "NGR": 0.05, "RGB": 0.0}
#: Decimals written per column.
DEPTH_DECIMALS = 3
VALUE_DECIMALS = {"GRA": 3, "MS": 2, "NGR": 3, "RGB": 2}

#: Per-reading noise (multiplier of the per-bin scales of MEASUREMENT_NOISE is
#: sqrt(readings per bin), so a bin mean has the table's noise).
RGB_READING_SD = {"shared": 0.1, "channel": 0.04}


def bin_of(depth: np.ndarray) -> np.ndarray:
    """The builder's rule: round half to even of the float64 quotient depth / 0.2."""
    return np.rint(depth / BIN_M).astype(np.int64)


def readings(lily: SyntheticLily, hole: dict, table: str) -> dict:
    """Noiseless readings of one hole at the instrument's spacing (before artefacts)."""
    spacing = SPACING_M[table]
    per_bin = int(round(BIN_M / spacing))
    top_edge = (hole["first_bin"] - 0.5) * BIN_M + FIRST_OFFSET_M[table]
    k = np.arange(hole["n_bins"] * per_bin)
    depth = np.round(top_edge + k * spacing, DEPTH_DECIMALS)
    depth = depth[depth >= 0.0]
    if table == "RGB":  # no colour readings where the data set has no colour scan
        scanned = lily.colour_scanned(hole["source"], depth)
        if not scanned.all():
            depth = depth[scanned]
    values = lily.true_values(hole["source"], depth)
    classes = lily.class_index_at(hole["source"], depth)
    return {"depth": depth, "values": values, "cls": classes.astype(np.int64)}


def instrument_noise(table: str, values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Instrument noise of single readings: a bin's mean has about the table's noise."""
    p = MEASUREMENT_NOISE
    root = math.sqrt(BIN_M / SPACING_M[table])
    n = values.shape[0]
    if table == "GRA":
        return values[:, 0] + p["gra_sd"] * root * rng.standard_normal(n)
    if table == "MS":
        ms = values[:, 1]
        scale = (p["ms_scale_abs"] + p["ms_scale_rel"] * np.abs(ms)) * root
        return ms + scale * rng.standard_t(p["ms_t_df"], n)
    if table == "NGR":
        ngr = values[:, 2]
        sd = (p["ngr_sd_abs"] + p["ngr_sd_sqrt"] * np.sqrt(ngr)) * root
        return ngr + sd * rng.standard_normal(n)
    rgb = values[:, 3:]
    factor = (
        1.0
        + RGB_READING_SD["shared"] * rng.standard_normal((n, 1))
        + RGB_READING_SD["channel"] * rng.standard_normal((n, 3))
    )
    return rgb * factor
