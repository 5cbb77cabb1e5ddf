"""The shape every metric table has, and the small rules of filling one: how a value
is written, how a score is looked up in ``metrics.json``, and the SYNTHETIC tag.
Shared by the evaluation's tables and the missing-colour tables."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lilyvae.evaluation.config import SYNTHETIC_LABEL


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list]
    note: str = ""


def format_value(v, digits: int = 3) -> str:
    """A table cell: n/a for missing or non-finite, yes/no, thousands separators."""
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"
    return str(v)


def lookup(d: dict | None, *keys):
    """``d[k0][k1]...``, or None where a level is missing."""
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def synthetic_tag(metrics: dict) -> str:
    """The start of every table note on synthetic data."""
    return f"{SYNTHETIC_LABEL} data. " if metrics.get("synthetic") else ""
