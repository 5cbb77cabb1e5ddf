"""Intervals of a metric over members: how much it varies, and how well its mean is known."""

from __future__ import annotations

import math

import numpy as np

LEVEL = 0.95


def interval(values, method: str = "percentile", level: float = LEVEL) -> dict:
    """Mean, standard deviation and a ``level`` interval of ``values`` (NaN/None dropped).

    ``method="percentile"``: the central ``level`` range of the values themselves (for
    bootstrap members: how much one model's metric varies with its training sample and
    seed). ``method="t"``: Student's t interval of the mean (for a few seeds per cell).
    """
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    out = {"n": int(len(v)), "mean": None, "sd": None, "low": None, "high": None}
    if len(v) == 0:
        return out
    out["mean"] = float(v.mean())
    if len(v) < 2:
        return out
    sd = float(v.std(ddof=1))
    out["sd"] = sd
    tail = (1.0 - level) / 2.0
    if method == "percentile":
        low, high = np.percentile(v, [100 * tail, 100 * (1 - tail)])
    elif method == "t":
        from scipy.stats import t

        half = float(t.ppf(1 - tail, len(v) - 1)) * sd / math.sqrt(len(v))
        low, high = out["mean"] - half, out["mean"] + half
    else:
        raise ValueError(f"unknown interval method {method!r}")
    out["low"], out["high"] = float(low), float(high)
    return out


INTERVAL_NOTES = {
    "percentile": "low/high: the 2.5th and 97.5th percentiles of the members' values (how "
    "much one model's metric varies with its training sample and seed); mean_low/mean_high: "
    "Student's t 95% interval of the mean over members",
    "t": "low/high: Student's t 95% interval of the mean over the cell's seeds",
}
