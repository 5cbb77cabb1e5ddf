"""Paired differences: whether one method beats another scored on the same resamples.

When two methods are scored on the same resamples (the same draws of held-out
boreholes, or the same ensemble members), much of each score's spread is shared: a
resample of hard boreholes lowers both. Two intervals side by side keep that shared
spread twice and can overlap while one method is ahead on every resample. The
difference per resample cancels it, so its interval says what the comparison needs:
whether the gap between the two methods is told apart from 0. A verdict is given only
where the difference's 95% interval excludes 0.
"""

from __future__ import annotations

import numpy as np

LEVEL = 0.95
#: What a comparison says, by the sign of its difference's interval (1 above 0, -1
#: below, 0 containing it).
SAID = {1: "beats", -1: "is beaten by", 0: "no verdict"}
NO_VERDICT = "no verdict (the difference's interval contains 0)"


def paired_difference(values_a, values_b, point_a: float, point_b: float) -> dict:
    """``a`` minus ``b``: the difference of the two point scores, and the central 95%
    range of the per-resample differences (resamples where either is missing are
    dropped); ``low`` and ``high`` are None when none is left."""
    diff = np.asarray(values_a, dtype=np.float64) - np.asarray(values_b, dtype=np.float64)
    diff = diff[np.isfinite(diff)]
    out = {"difference": float(point_a - point_b), "low": None, "high": None}
    if len(diff):
        tail = 100 * (1 - LEVEL) / 2
        out["low"], out["high"] = (float(v) for v in np.percentile(diff, [tail, 100 - tail]))
    return out | {"rounds": int(len(diff))}


def direction(entry: dict) -> int:
    """1 when the difference's interval lies above 0, -1 below, 0 when it contains 0
    (or there is none)."""
    low, high = entry.get("low"), entry.get("high")
    if low is None or high is None:
        return 0
    if low > 0:
        return 1
    if high < 0:
        return -1
    return 0


def difference_text(entry: dict, digits: int = 3) -> str:
    """``+0.052 [+0.021, +0.083]``: the difference and its interval."""
    if entry.get("low") is None or entry.get("high") is None:
        return f"{entry['difference']:+.{digits}f} (no interval)"
    return (
        f"{entry['difference']:+.{digits}f} "
        f"[{entry['low']:+.{digits}f}, {entry['high']:+.{digits}f}]"
    )
