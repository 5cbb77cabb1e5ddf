"""The reference's rules for turning readings into 20 cm rows, as constants and NumPy.

A reading's bin index is round half to even of ``depth / bin_size``, the quotient in
float64 exactly as the reference's pandas code computed it; ``Depth_Bin`` is written as
a clean decimal (``round(index * bin_size, decimals of bin_size)``: 188.4, not the
reference's 188.40000000000003), so joins on it are safe. Bins whose mean bulk density or
colour lies outside the ranges below are dropped. The SQL the builder runs
(:mod:`lilyvae.data.lily.sql`) applies the same rules; these functions are the rules'
plain statement (and are what the tests check it against).
"""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from lilyvae.errors import LilyVAEError

#: Bins kept: mean bulk density in g/cm3 within GRA_RANGE, each colour mean within
#: RGB_RANGE (bounds included).
GRA_RANGE = (0.3, 4.0)
RGB_RANGE = (0.0, 255.0)
#: Depth bin in metres (the reference's 20 cm).
DEFAULT_BIN_SIZE = 0.2

#: Why a row is dropped, in the order the reasons are checked (a row counts once).
DROP_REASONS = (
    "missing_borehole_id",
    "missing_or_bad_depth",
    "missing_principal",
    "missing_or_bad_measurement",
)


def check_bin_size(bin_size) -> float:
    """``bin_size`` as a float, or a clear error if it is not a positive finite number."""
    if isinstance(bin_size, bool) or not isinstance(bin_size, (int, float, np.number)):
        raise LilyVAEError(f"--bin-size must be a number, not {bin_size!r}")
    value = float(bin_size)
    if not math.isfinite(value) or value <= 0:
        raise LilyVAEError(f"--bin-size must be a positive number of metres, not {bin_size}")
    return value


def depth_decimals(bin_size: float) -> int:
    """Decimals of ``bin_size`` as written (0.2 -> 1, 0.25 -> 2, 1.0 -> 0; at most 12)."""
    exponent = Decimal(repr(float(bin_size))).normalize().as_tuple().exponent
    return min(max(0, -int(exponent)), 12)


def depth_bin_index(depth, bin_size: float = DEFAULT_BIN_SIZE) -> np.ndarray:
    """The reference's bin index in NumPy: round half to even of float64 depth / bin."""
    return np.rint(np.asarray(depth, dtype=np.float64) / float(bin_size)).astype(np.int64)


def depth_bin_value(index, bin_size: float = DEFAULT_BIN_SIZE) -> np.ndarray:
    """``Depth_Bin`` as written: index * bin_size rounded to the decimals of bin_size."""
    return np.round(np.asarray(index, dtype=np.int64) * float(bin_size), depth_decimals(bin_size))
