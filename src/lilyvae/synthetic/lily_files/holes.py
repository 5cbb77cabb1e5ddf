"""The boreholes of the raw files: the real ones (in every file), and extra holes of real
sites (in only some files, as in the real release, where the join drops them)."""

from __future__ import annotations

import numpy as np

from lilyvae.data.lily.release import LILY_TABLES
from lilyvae.synthetic.counts import BIN_M
from lilyvae.synthetic.measurements import SyntheticLily

#: Extra holes (not in the training table) per real borehole, their length as a fraction
#: of their source hole, and how likely each table is to hold one.
EXTRA_HOLE_FRACTION = 0.3
EXTRA_LENGTH = (0.1, 0.5)
EXTRA_TABLE_PROB = {"GRA": 0.9, "MS": 0.9, "NGR": 0.75, "RGB": 0.3}

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def borehole_holes(lily: SyntheticLily, tables: tuple[str, ...] = LILY_TABLES) -> list[dict]:
    """The data set's boreholes as holes of the files (see :func:`make_holes`), each in
    ``tables``."""
    holes = []
    for row in lily.boreholes.itertuples(index=False):
        first = int(round(row.top_depth / BIN_M))
        holes.append(
            {
                "id": row.Borehole_ID,
                "exp": row.Exp,
                "site": row.Site,
                "hole": row.Hole,
                "source": row.Borehole_ID,
                "first_bin": first,
                "n_bins": int(row.n_rows),
                "lat": float(row.latitude),
                "lon": float(row.longitude),
                "water_depth": float(row.water_depth_m),
                "tables": tuple(tables),
                "extra": False,
            }
        )
    return holes


def make_holes(lily: SyntheticLily, rng: np.random.Generator) -> list[dict]:
    """The real boreholes (in every table) and extra holes of real sites (in some).

    A hole: ``id``, ``exp``, ``site``, ``hole``, ``source`` (the real borehole whose
    values it takes), ``first_bin``, ``n_bins``, ``lat``, ``lon``, ``water_depth``,
    ``tables`` (the files that hold it) and ``extra``.
    """
    holes = borehole_holes(lily)
    used: dict[str, set[str]] = {}
    for hole in holes:
        used.setdefault(f"{hole['exp']}-{hole['site']}", set()).add(hole["hole"])
    n_extra = max(2, int(round(EXTRA_HOLE_FRACTION * len(holes))))
    sources = rng.choice(len(holes), size=n_extra, replace=True)
    for k, s in enumerate(sources):
        src = holes[s]
        site = f"{src['exp']}-{src['site']}"
        letter = next((c for c in _LETTERS if c not in used[site]), None)
        if letter is None:
            continue
        used[site].add(letter)
        frac = rng.uniform(*EXTRA_LENGTH)
        n = max(1, int(round(frac * src["n_bins"])))
        start = src["first_bin"] + int(rng.integers(0, src["n_bins"] - n + 1))
        if k == 0:  # one extra hole in GRA, MS and NGR but not RGB, as in the real data
            tables = ("GRA", "MS", "NGR")
        elif k == 1:  # and one that GRA lacks
            tables = ("MS", "RGB")
        else:
            while True:
                keep = [t for t in LILY_TABLES if rng.random() < EXTRA_TABLE_PROB[t]]
                if 0 < len(keep) < len(LILY_TABLES):
                    break
            tables = tuple(keep)
        holes.append(
            dict(
                src,
                id=f"{site}-{letter}",
                hole=letter,
                first_bin=start,
                n_bins=n,
                tables=tables,
                extra=True,
            )
        )
    return holes
