"""The faults real files have, added on purpose to one hole's readings in one file.

Gaps (bins an instrument did not measure); GRA readings and whole bins outside
[0.3, 4.0] g/cm3 (empty liner, disturbed core, spikes); susceptibility drift; colours and
whole bins outside [0, 255]; ``Principal`` that disagrees with GRA's; lithology votes
that tie inside a bin; missing cells (measurements, ``Principal``, depths, holes); and
non-numeric junk in the MS and G columns. Each is counted (:class:`ArtefactCounts`) for
the sidecar, so tests can check the builder against the counts; the longest hole of each
file is forced to hold every fault its file can have, whatever the scale.

The random draws happen in a fixed order (the order of the steps in :func:`hole_rows`):
the same seed gives the same files.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lilyvae.data.lily.release import LILY_TABLES, MEASUREMENT_COLUMNS
from lilyvae.data.lily.rules import depth_bin_index
from lilyvae.synthetic.counts import BIN_M
from lilyvae.synthetic.lily_files.readings import VALUE_DECIMALS, instrument_noise, readings
from lilyvae.synthetic.measurements import MEASUREMENT_NOISE, SyntheticLily

#: Artefact rates: per bin ("..._bins") or per cell/reading. Each artefact occurs at
#: least once in every file that can hold it, whatever the scale.
RATES = {
    "gap_bins": {"GRA": 0.002, "MS": 0.002, "NGR": 0.01, "RGB": 0.02},
    "tie_bins": 0.01,
    "relabelled_bins": 0.02,  # MS, NGR, RGB: Principal disagrees with GRA
    "gra_void_bins": 0.001,  # GRA about 0.02-0.25 (empty liner)
    "gra_dense_bins": 0.0003,  # GRA above 4.0
    "gra_spike_readings": 0.002,
    "rgb_bright_bins": 0.0005,  # a channel above 255
    "rgb_negative_bins": 0.0005,  # a channel below 0
    "missing_value_cells": 0.002,
    "missing_principal_cells": 0.003,
    "missing_depth_cells": 0.0002,
    "missing_hole_cells": 0.0001,
    "junk_cells": {"MS": 0.0005, "RGB": 0.0002},
}
JUNK_TOKENS = ("OVER", "ERR", "--", "1.2.3", "#VALUE!", "n.d.")
#: Column that gets junk in each file that has any.
JUNK_COLUMN = {"MS": MEASUREMENT_COLUMNS["MS"][0], "RGB": "G"}


def pick(rng: np.random.Generator, n: int, rate: float, force: bool = False) -> np.ndarray:
    """Sorted positions of a Binomial(n, rate) draw of ``n`` items (at least one if force)."""
    if n <= 0 or rate <= 0:
        return np.empty(0, dtype=np.int64)
    k = int(rng.binomial(n, min(rate, 1.0)))
    if force:
        k = max(k, 1)
    return np.sort(rng.choice(n, size=k, replace=False))


class ArtefactCounts:
    """Counts of every artefact written, per file, for the sidecar."""

    def __init__(self):
        self.data: dict[str, dict[str, int]] = {t: {} for t in LILY_TABLES}

    def add(self, table: str, key: str, n: int) -> None:
        d = self.data[table]
        d[key] = d.get(key, 0) + int(n)


@dataclass
class HoleDraft:
    """One hole's readings in one file while its artefacts are added.

    ``values`` has one column per measurement of the file; ``cls`` is the lithology of
    each reading (a row of the generator's ``classes``); ``bin_of_row`` indexes the
    hole's ``n_bins`` bins that have readings.
    """

    table: str
    depth: np.ndarray
    cls: np.ndarray
    values: np.ndarray
    rng: np.random.Generator
    counts: ArtefactCounts
    force: bool
    bin_of_row: np.ndarray | None = None
    n_bins: int = 0

    def pick(self, n: int, rate: float) -> np.ndarray:
        return pick(self.rng, n, rate, self.force)

    def count(self, key: str, n: int) -> None:
        self.counts.add(self.table, key, n)

    def bins_with(self, rate: float, exclude=()) -> tuple[np.ndarray, np.ndarray]:
        """Bins drawn at ``rate`` (less ``exclude``), and the mask of their readings."""
        chosen = self.pick(self.n_bins, rate)
        chosen = chosen[~np.isin(chosen, exclude)]
        return chosen, np.isin(self.bin_of_row, chosen)

    def find_bins(self) -> np.ndarray:
        """Number the bins that have readings; returns their bin indices."""
        bin_ids, self.bin_of_row = np.unique(
            depth_bin_index(self.depth, BIN_M), return_inverse=True
        )
        self.n_bins = bin_ids.size
        return bin_ids


def drop_gap_bins(h: HoleDraft) -> None:
    """Gaps: whole bins this instrument did not measure."""
    bin_ids = h.find_bins()
    gap = h.pick(bin_ids.size, RATES["gap_bins"][h.table])
    keep = ~np.isin(h.bin_of_row, gap)
    h.count("gap_bins", gap.size)
    h.depth, h.cls, h.values = h.depth[keep], h.cls[keep], h.values[keep]
    h.find_bins()


def add_density_faults(h: HoleDraft) -> None:
    """GRA: disturbed core (as in the synthetic table), empty liner, dense junk, spikes."""
    rng, vals, n_bins = h.rng, h.values, h.n_bins
    disturbed = rng.random(n_bins) < MEASUREMENT_NOISE["gra_disturbed_prob"]
    factor = np.where(disturbed, rng.uniform(0.2, 0.9, n_bins), 1.0)
    vals[:, 0] *= factor[h.bin_of_row]
    void, sel = h.bins_with(RATES["gra_void_bins"])
    vals[sel, 0] = rng.uniform(0.02, 0.25, int(sel.sum()))
    dense, sel = h.bins_with(RATES["gra_dense_bins"], void)
    vals[sel, 0] = rng.uniform(4.05, 4.8, int(sel.sum()))
    spikes = h.pick(h.depth.size, RATES["gra_spike_readings"])
    up = rng.random(spikes.size) < 0.5
    vals[spikes, 0] = np.where(
        up, vals[spikes, 0] + rng.uniform(1.5, 3.0, spikes.size), 0.05 + 0.2 * vals[spikes, 0]
    )
    h.count("gra_void_bins", void.size)
    h.count("gra_dense_bins", dense.size)
    h.count("gra_spike_readings", spikes.size)


def add_susceptibility_drift(h: HoleDraft) -> None:
    """MS: rare bins whose readings drift down (as in the synthetic table)."""
    drift = h.rng.random(h.n_bins) < MEASUREMENT_NOISE["ms_drift_prob"]
    shift = np.minimum(h.rng.exponential(MEASUREMENT_NOISE["ms_drift_scale"], h.n_bins), 500.0)
    h.values[:, 0] -= np.where(drift, shift, 0.0)[h.bin_of_row]


def add_colour_faults(h: HoleDraft) -> None:
    """RGB: bins with a channel above 255, and bins with blue below 0."""
    rng, vals = h.rng, h.values
    bright, sel = h.bins_with(RATES["rgb_bright_bins"])
    # The value is drawn before the channel (the right-hand side is evaluated first).
    vals[sel, int(rng.integers(0, 3))] = rng.uniform(256.0, 280.0, int(sel.sum()))
    negative, sel = h.bins_with(RATES["rgb_negative_bins"], bright)
    vals[sel, 2] = rng.uniform(-8.0, -0.5, int(sel.sum()))
    h.count("rgb_bright_bins", bright.size)
    h.count("rgb_negative_bins", negative.size)


def relabel_bins(h: HoleDraft, n_classes: int) -> None:
    """MS, NGR, RGB: bins whose ``Principal`` disagrees with GRA's (the builder keeps GRA's)."""
    relabel, sel = h.bins_with(RATES["relabelled_bins"])
    new_cls = h.rng.integers(0, n_classes, h.n_bins)
    h.cls[sel] = new_cls[h.bin_of_row[sel]]
    h.count("relabelled_bins", relabel.size)


def tie_votes(h: HoleDraft, n_classes: int) -> np.ndarray:
    """Tied lithology votes: half of a bin's readings get another lithology (one reading
    loses its label when the count is odd), so the alphabetical rule decides. Returns the
    mask of readings whose ``Principal`` is left blank."""
    principal_blank = np.zeros(h.depth.size, dtype=bool)
    counts = np.bincount(h.bin_of_row, minlength=h.n_bins)
    candidates = np.flatnonzero(counts >= 2)
    ties = candidates[h.pick(candidates.size, RATES["tie_bins"])]
    order = np.argsort(h.bin_of_row, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    for b in ties:
        rows = order[starts[b] : starts[b + 1]]
        half = rows.size // 2
        first = h.cls[rows[half]]
        other = (first + 1 + int(h.rng.integers(0, n_classes - 1))) % n_classes
        h.cls[rows] = first
        h.cls[rows[rows.size - half :]] = other
        if rows.size % 2:
            principal_blank[rows[0]] = True
    h.count("tie_bins", ties.size)
    return principal_blank


def blank_cells(h: HoleDraft, principal_blank: np.ndarray) -> dict:
    """Missing cells and junk; the hole's rows as :func:`hole_rows` returns them."""
    n = h.depth.size
    vals = np.round(h.values, VALUE_DECIMALS[h.table])
    for j in range(vals.shape[1]):
        miss = h.pick(n, RATES["missing_value_cells"])
        vals[miss, j] = np.nan
        h.count("missing_value_cells", miss.size)
    principal_blank[h.pick(n, RATES["missing_principal_cells"])] = True
    h.count("missing_principal_cells", int(principal_blank.sum()))
    depth_out = h.depth.copy()
    miss = h.pick(n, RATES["missing_depth_cells"])
    depth_out[miss] = np.nan
    h.count("missing_depth_cells", miss.size)
    hole_blank = np.zeros(n, dtype=bool)
    hole_blank[h.pick(n, RATES["missing_hole_cells"])] = True
    h.count("missing_hole_cells", int(hole_blank.sum()))
    junk = np.zeros(n, dtype=bool)
    if h.table in JUNK_COLUMN:
        junk[h.pick(n, RATES["junk_cells"][h.table])] = True
        h.count("junk_cells", int(junk.sum()))
    return {
        "depth": h.depth,
        "depth_out": depth_out,
        "cls": np.where(principal_blank, -1, h.cls),
        "values": vals,
        "hole_blank": hole_blank,
        "junk": junk,
    }


def hole_rows(
    lily: SyntheticLily,
    hole: dict,
    table: str,
    rng: np.random.Generator,
    counts: ArtefactCounts,
    force: bool = False,
) -> dict:
    """One hole's readings in one table, with the table's artefacts.

    Returns ``depth``, ``depth_out`` (with missing cells), ``cls`` (-1: blank
    ``Principal``), ``values``, ``hole_blank`` and ``junk`` (masks), one entry per
    reading. With ``force`` every artefact occurs at least once.
    """
    r = readings(lily, hole, table)
    values = instrument_noise(table, r["values"], rng)
    if values.ndim == 1:
        values = values[:, None]
    h = HoleDraft(table, r["depth"], r["cls"], values, rng, counts, force)
    n_classes = len(lily.classes)
    drop_gap_bins(h)
    if table == "GRA":
        add_density_faults(h)
    if table == "MS":
        add_susceptibility_drift(h)
    if table == "RGB":
        add_colour_faults(h)
    if table != "GRA":
        relabel_bins(h, n_classes)
    principal_blank = tie_votes(h, n_classes)
    return blank_cells(h, principal_blank)
