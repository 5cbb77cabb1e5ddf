"""Intervals of a metric over members: how much it varies, and how well its mean is known.

Two rules keep them honest. Fewer than :data:`MIN_VALUES` values give no interval (two
seeds say almost nothing about the spread: Student's t with one degree of freedom
multiplies the standard error by 12.7), and the entry says so. An interval never leaves
the range its metric can take (:func:`metric_range`): an accuracy's stays in [0, 1], an
R^2's at or below 1; a t interval that would cross a bound is cut at it, and says so.
"""

from __future__ import annotations

import math

import numpy as np

LEVEL = 0.95
#: The fewest values an interval is computed from.
MIN_VALUES = 3
NO_INTERVAL = f"fewer than {MIN_VALUES} values: no interval"
CLIPPED = "cut at the metric's range"

#: Metric name endings (as ``members.csv`` names them) and the range of their values.
_RANGES: tuple[tuple[str, tuple[float, float]], ...] = (
    ("accuracy", (0.0, 1.0)),
    ("macro_f1", (0.0, 1.0)),
    ("auc", (0.0, 1.0)),
    ("_ari", (-1.0, 1.0)),  # the adjusted Rand index is at most 1 (and at least -1)
    ("active_dims", (0.0, math.inf)),
    ("kl_total", (0.0, math.inf)),
    ("final_kl", (0.0, math.inf)),
    ("final_class", (0.0, math.inf)),  # a cross-entropy
)


def metric_range(name: str) -> tuple[float, float]:
    """The values a metric can take, from its name: [0, 1] for accuracies, F1 and AUC,
    at most 1 for R^2 (``r2_*``), [-1, 1] for the adjusted Rand index, at least 0 for
    KL divergences, cross-entropies and counts of dimensions; unbounded otherwise."""
    if name.startswith("r2_") or name == "r2":
        return (-math.inf, 1.0)
    for ending, bounds in _RANGES:
        if name.endswith(ending):
            return bounds
    return (-math.inf, math.inf)


def interval(
    values,
    method: str = "percentile",
    level: float = LEVEL,
    bounds: tuple[float, float] = (-math.inf, math.inf),
) -> dict:
    """Mean, standard deviation and a ``level`` interval of ``values`` (NaN/None dropped).

    ``method="percentile"``: the central ``level`` range of the values themselves (for
    bootstrap members: how much one model's metric varies with its training sample and
    seed). ``method="t"``: Student's t interval of the mean (for a few seeds per cell).
    ``bounds``: the metric's range (:func:`metric_range`); the interval is cut at it.
    Fewer than :data:`MIN_VALUES` values: ``low`` and ``high`` are None and ``note``
    says why.
    """
    if method not in INTERVAL_NOTES:
        raise ValueError(f"unknown interval method {method!r}")
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    out = {"n": int(len(v)), "mean": None, "sd": None, "low": None, "high": None}
    if len(v) == 0:
        return out | {"note": NO_INTERVAL}
    out["mean"] = float(v.mean())
    if len(v) >= 2:
        out["sd"] = float(v.std(ddof=1))
    if len(v) < MIN_VALUES:
        return out | {"note": NO_INTERVAL}
    tail = (1.0 - level) / 2.0
    if method == "percentile":
        low, high = (float(x) for x in np.percentile(v, [100 * tail, 100 * (1 - tail)]))
    else:
        from scipy.stats import t

        half = float(t.ppf(1 - tail, len(v) - 1)) * out["sd"] / math.sqrt(len(v))
        low, high = out["mean"] - half, out["mean"] + half
    lo, hi = bounds
    out["low"], out["high"] = max(low, lo), min(high, hi)
    if (out["low"], out["high"]) != (low, high):
        out["note"] = CLIPPED
    return out


def metric_interval(name: str, values, method: str = "percentile") -> dict:
    """:func:`interval` of the metric ``name``, within its range."""
    return interval(values, method, bounds=metric_range(name))


def interval_text(entry: dict) -> str:
    """``[low, high]``, or why there is none, for printed tables."""
    if entry.get("low") is None or entry.get("high") is None:
        return f"no interval (n={entry.get('n', 0)})"
    return f"[{entry['low']:.4g}, {entry['high']:.4g}]"


INTERVAL_NOTES = {
    "percentile": "low/high: the 2.5th and 97.5th percentiles of the members' values (how "
    "much one model's metric varies with its training sample and seed); mean_low/mean_high: "
    f"Student's t 95% interval of the mean over members; none from fewer than {MIN_VALUES} "
    "members; every interval lies within its metric's range",
    "t": "low/high: Student's t 95% interval of the mean over the cell's seeds, cut at the "
    f"metric's range (no accuracy above 1, no R^2 above 1); none from fewer than {MIN_VALUES} "
    "seeds",
}
