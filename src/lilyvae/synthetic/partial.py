"""Bins without colour, in the real proportions (``lilyvae synth --partial``,
``lilyvae synth-lily --partial``).

In the real data GRA, MS and NGR join on 403,391 bins of 524 boreholes, but only
238,767 bins of 304 boreholes also have colour (the reference's own counts): colour
line scans came later, so 220 boreholes have none at all, and boreholes that were
scanned miss stretches. :class:`PartialColour` adds both to a synthetic data set
(:class:`~lilyvae.synthetic.measurements.SyntheticLily`), leaving it as it is:

- gaps: runs of bins of its boreholes (log-normal lengths, median 7 bins, about a
  core section) whose colour is missing, :data:`GAP_FRACTION` of its bins, each
  borehole keeping at least one bin with colour;
- boreholes without any colour scan: :data:`REAL_BOREHOLES_WITHOUT_COLOUR` boreholes
  of earlier expeditions, made by the same generator (sizes and top depths drawn from
  the real boreholes'), so that bins without colour are
  :data:`REAL_BINS_WITHOUT_COLOUR` / :data:`REAL_BINS_WITH_COLOUR` of those with.

The reference gives totals only: how the bins without colour split between gaps and
unscanned boreholes is not known; :data:`GAP_FRACTION` is this generator's assumption.
Everything is drawn from streams of its own, so the default table of a seed is
unchanged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, COLOUR_COLS
from lilyvae.synthetic.counts import BIN_M, real_boreholes
from lilyvae.synthetic.measurements import SyntheticLily

#: The reference's counts: bins of GRA x MS x NGR with colour, without, and the
#: boreholes that have none (524 - 304).
REAL_BINS_WITH_COLOUR = 238_767
REAL_BINS_WITHOUT_COLOUR = 403_391 - 238_767
REAL_BOREHOLES_WITHOUT_COLOUR = 524 - 304
#: Share of a colour-scanned borehole's bins without colour (an assumption, see above).
GAP_FRACTION = 0.04
#: Gap lengths in bins: log-normal with this median and sigma, at most GAP_MAX_BINS.
GAP_MEDIAN_BINS = 7.0
GAP_SIGMA = 0.8
GAP_MAX_BINS = 50
#: Second entropy word of the streams of this layer (after the data set's seed).
PARTIAL_STREAM = 0x70617274  # "part"
#: Expeditions of the boreholes never colour-scanned (before colour reached LILY), and
#: the first site number (sites are numbered on from it); holes per site.
COLOURLESS_EXPEDITIONS = ("320", "321", "323", "324", "327", "329")
COLOURLESS_EXPEDITIONS += ("330", "335", "336", "342", "345")
FIRST_SITE = 1331
HOLES_PER_SITE = (2, 4)


def colour_gaps(row_ptr: np.ndarray, target: int, rng: np.random.Generator) -> np.ndarray:
    """(rows,) bool: runs of bins without colour, about ``target`` bins in all, each in
    one borehole (``row_ptr[b]:row_ptr[b+1]`` are borehole b's rows), chosen in
    proportion to its rows; every borehole keeps at least one bin with colour."""
    sizes = np.diff(row_ptr)
    gap = np.zeros(int(row_ptr[-1]), dtype=bool)
    if target <= 0:
        return gap
    n_runs = int(2.5 * target / GAP_MEDIAN_BINS) + 8
    lengths = np.exp(np.log(GAP_MEDIAN_BINS) + GAP_SIGMA * rng.standard_normal(n_runs))
    lengths = np.clip(np.rint(lengths), 1, GAP_MAX_BINS).astype(np.int64)
    where = rng.choice(len(sizes), size=n_runs, p=sizes / sizes.sum())
    lengths = np.minimum(lengths, sizes[where] - 1)
    starts = row_ptr[where] + np.floor(rng.random(n_runs) * (sizes[where] - lengths + 1))
    added = 0
    for start, length in zip(starts.astype(np.int64), lengths, strict=True):
        if added >= target:
            break
        run = gap[start : start + length]
        added += int(length - run.sum())
        run[:] = True
    for b in np.flatnonzero(sizes > 0):  # overlapping runs may cover a whole borehole
        if gap[row_ptr[b] : row_ptr[b + 1]].all():
            gap[row_ptr[b]] = False
    return gap


def colourless_boreholes(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """``n`` boreholes of the earlier expeditions, as
    :func:`~lilyvae.synthetic.counts.real_boreholes` lists boreholes: their relative
    sizes and top depths drawn from the real boreholes'."""
    ids = []
    site = FIRST_SITE
    per_expedition = -(-n // len(COLOURLESS_EXPEDITIONS))
    for exp in COLOURLESS_EXPEDITIONS:
        mine = 0
        while mine < per_expedition and len(ids) < n:
            holes = int(rng.integers(HOLES_PER_SITE[0], HOLES_PER_SITE[1] + 1))
            for letter in "ABCD"[: min(holes, per_expedition - mine)]:
                ids.append(f"{exp}-U{site}-{letter}")
            mine += holes
            site += 1
    ids = ids[:n]
    real = real_boreholes()
    drawn = real.iloc[rng.integers(0, len(real), len(ids))]
    return pd.DataFrame(
        {
            BOREHOLE_COL: ids,
            "n_samples": drawn["n_samples"].to_numpy(),
            "min_depth": drawn["min_depth"].to_numpy(),
            "max_depth": drawn["max_depth"].to_numpy(),
        }
    )


class PartialColour:
    """A synthetic data set with its bins without colour: gaps in its boreholes' colour
    scans (:attr:`gap`) and boreholes never colour-scanned (:attr:`colourless`, a
    data set of their own). It answers what the raw files' writer asks of a data set
    (``boreholes``, ``classes``, ``true_values``, ``class_index_at``,
    ``colour_scanned``) for the boreholes of both."""

    def __init__(
        self,
        lily: SyntheticLily,
        *,
        gap_fraction: float = GAP_FRACTION,
        present: tuple[int, float] = (0, 0.0),
    ):
        """``present``: (boreholes, bins) without colour that the caller's output has
        already (the raw files' extra holes and random gaps in the RGB file): they count
        towards the real proportions, as ``gap_fraction`` replaces :data:`GAP_FRACTION`."""
        self.lily = lily
        entropy = np.random.SeedSequence([lily.seed, PARTIAL_STREAM])
        rng_gaps, rng_holes, rng_seed = (np.random.default_rng(s) for s in entropy.spawn(3))
        self.gap = colour_gaps(lily.strat.row_ptr, round(gap_fraction * lily.rows), rng_gaps)
        n_gap = int(self.gap.sum())
        ratio = REAL_BINS_WITHOUT_COLOUR / REAL_BINS_WITH_COLOUR
        boreholes = colourless_boreholes(
            rng_holes, max(REAL_BOREHOLES_WITHOUT_COLOUR - int(present[0]), 1)
        )
        wanted = round((lily.rows - n_gap - present[1]) * ratio - n_gap - present[1])
        rows = max(wanted, len(boreholes), 139)
        seed = int(rng_seed.integers(0, 2**31))  # not the data set's: its own noise
        self.colourless = SyntheticLily(
            rows=rows, seed=seed, boreholes=boreholes, version=lily.version
        )
        self._colourless_ids = set(self.colourless.boreholes[BOREHOLE_COL])
        self.gap_fraction = gap_fraction
        self.classes = lily.classes
        self.seed = lily.seed

    @property
    def boreholes(self) -> pd.DataFrame:
        """Every borehole, the colour-scanned ones first (as SyntheticLily lists them)."""
        return pd.concat([self.lily.boreholes, self.colourless.boreholes], ignore_index=True)

    def has_colour_scan(self, borehole_id: str) -> bool:
        return borehole_id not in self._colourless_ids

    def _owner(self, borehole_id: str) -> SyntheticLily:
        return self.lily if self.has_colour_scan(borehole_id) else self.colourless

    def true_values(self, borehole_id: str, depths, variability: bool = True) -> np.ndarray:
        return self._owner(borehole_id).true_values(borehole_id, depths, variability)

    def class_index_at(self, borehole_id: str, depths) -> np.ndarray:
        return self._owner(borehole_id).class_index_at(borehole_id, depths)

    def colour_scanned(self, borehole_id: str, depths) -> np.ndarray:
        """Whether the colour scan covers each depth (m) of a borehole: never for a
        borehole without one, nowhere in a gap, everywhere else."""
        depths = np.asarray(depths, dtype=np.float64).ravel()
        if not self.has_colour_scan(borehole_id):
            return np.zeros(depths.size, dtype=bool)
        b = self.lily._borehole(borehole_id)
        lo, hi = self.lily.strat.row_ptr[b], self.lily.strat.row_ptr[b + 1]
        first = self.lily.strat.row_bin[lo]
        row = np.clip(np.rint(depths / BIN_M).astype(np.int64) - first, 0, hi - lo - 1)
        return ~self.gap[lo + row]

    def table(self) -> pd.DataFrame:
        """The data set's table with R, G, B empty in the gaps, then the rows of the
        boreholes without a colour scan (R, G, B empty)."""
        scanned = self.lily.table()
        scanned.loc[self.gap, list(COLOUR_COLS)] = np.nan
        unscanned = self.colourless.table()
        unscanned[list(COLOUR_COLS)] = np.nan
        return pd.concat([scanned, unscanned], ignore_index=True)

    def record(self) -> dict:
        """What the sidecar says about the bins without colour."""
        n_gap = int(self.gap.sum())
        return {
            "what": "bins without colour: gaps in the colour scans of the table's boreholes, "
            "and boreholes of earlier expeditions never colour-scanned",
            "bins_with_colour": int(self.lily.rows - n_gap),
            "bins_without_colour": int(n_gap + self.colourless.rows),
            "gap_bins": n_gap,
            "boreholes_with_colour": int(len(self.lily.boreholes)),
            "boreholes_without_colour": int(len(self.colourless.boreholes)),
            "colourless_seed": int(self.colourless.seed),
            "parameters": {
                "reference_bins_with_colour": REAL_BINS_WITH_COLOUR,
                "reference_bins_without_colour": REAL_BINS_WITHOUT_COLOUR,
                "reference_boreholes_without_colour": REAL_BOREHOLES_WITHOUT_COLOUR,
                "gap_fraction": self.gap_fraction,
                "gap_median_bins": GAP_MEDIAN_BINS,
                "gap_sigma": GAP_SIGMA,
                "gap_max_bins": GAP_MAX_BINS,
                "colourless_expeditions": list(COLOURLESS_EXPEDITIONS),
            },
        }
