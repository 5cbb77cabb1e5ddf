"""Stratigraphy: where every row of the synthetic table sits -- borehole, depth, lithology.

Holes of one site, and sites of one expedition, lie next to each other on a single
"global core" axis of all rows. Each site draws a sparse Dirichlet preference over the
14 lithology groups (leaning towards what its expedition is known for where
:data:`EXPEDITION_GROUP_HINTS` says so) and, within a group, over its lithologies;
Sinkhorn balancing turns the preferences into a plan (borehole x lithology) whose margins
are the exact counts. Each lithology's rows are cut into beds (log-normal thickness,
median a few bins to ~3 m, up to tens of metres), each bed is dropped at a random place
inside a borehole drawn from the plan, and the beds, sorted by place and concatenated,
are cut into boreholes by their exact row counts. So the global lithology counts and the
borehole counts are exact, beds are runs of consecutive bins, and each borehole is
dominated by a few groups. Within a borehole the beds are finally ordered by a noisy
diagenetic rank (soft sediment above lithified sediment above igneous/metamorphic
basement).

Depth bins are consecutive multiples of 0.2 m starting at the borehole's real minimum
depth (snapped to the grid). (The real depth ranges hold about five rows per 0.2 m, so a
synthetic borehole with its real row count reaches deeper than its real ``max_depth``;
that column is unused.) Each borehole also gets a position
(:mod:`lilyvae.synthetic.geography`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lilyvae.synthetic.counts import (
    BIN_M,
    check_rows,
    check_seed,
    real_boreholes,
    real_classes,
    scale_counts,
)
from lilyvae.synthetic.geography import site_locations
from lilyvae.synthetic.signatures import GROUP_SIGNATURES, lithology_signatures

#: Dirichlet concentration of a site's preference over lithology groups (times the
#: group's global share, plus a floor): small values give sites dominated by few groups.
GROUP_CONCENTRATION = 1.2
#: Dirichlet concentration of a site's preference over the lithologies of one group.
CLASS_CONCENTRATION = 1.5
#: Log-normal sigma of bed thickness (in bins); medians are per group
#: (:data:`lilyvae.synthetic.signatures.GROUP_SIGNATURES`).
BED_SIGMA = 0.9
#: Largest bed, in bins (60 m).
BED_MAX_BINS = 300
#: Standard deviation of the noise added to the diagenetic rank that orders beds.
RANK_NOISE = 0.6
#: Lithology groups an expedition's sites lean towards (what it famously drilled); a site
#: mixes HINT_WEIGHT of these into its random group preference.
EXPEDITION_GROUP_HINTS: dict[str, tuple[str, ...]] = {
    "350": ("Volcaniclastic",),
    "351": ("Volcaniclastic",),
    "352": ("Mafic Igneous",),
    "354": ("Sand",),
    "356": ("Carbonate",),
    "359": ("Carbonate",),
    "360": ("Mafic Igneous",),
    "369": ("Carbonate",),
    "374": ("Clay/Mud",),
    "376": ("Volcaniclastic",),
    "379": ("Clay/Mud",),
}
HINT_WEIGHT = 0.5


@dataclass
class Stratigraphy:
    """Where every row sits: borehole, depth bin and lithology, plus per-borehole facts.

    ``row_class`` / ``row_borehole`` / ``row_bin`` are in output order (boreholes in
    ``boreholes`` order, then depth). ``bed_*`` arrays list the beds (maximal runs of one
    lithology) in the same order; ``bed_ptr[b]:bed_ptr[b+1]`` are borehole b's beds and
    ``row_ptr[b]:row_ptr[b+1]`` its rows.
    """

    classes: pd.DataFrame
    boreholes: pd.DataFrame
    row_class: np.ndarray
    row_borehole: np.ndarray
    row_bin: np.ndarray  # integer bin index; depth = bin * 0.2
    row_ptr: np.ndarray
    bed_class: np.ndarray
    bed_first_bin: np.ndarray
    bed_n_bins: np.ndarray
    bed_ptr: np.ndarray
    site_of_borehole: np.ndarray
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SiteLayout:
    """The boreholes' sites and their places on the global core axis."""

    parts: pd.DataFrame  # columns 0, 1, 2: expedition, site, hole of each borehole
    site_of: np.ndarray  # site index of each borehole
    site_exp: list[str]  # expedition of each site
    axis_order: np.ndarray  # boreholes in axis order
    axis_start: np.ndarray  # first axis row of each borehole


def random_streams(seed: int, n: int = 8) -> list[np.random.Generator]:
    """Independent child streams of one seed: 0-3 stratigraphy, 4-7 measurements, 8 the
    facies of generator version 3 (the first ``n``; the first 8 are the same for any n)."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n)]


def sinkhorn(kernel: np.ndarray, rows: np.ndarray, cols: np.ndarray, iters: int = 300):
    """Scale ``kernel``'s rows and columns until its margins are ``rows`` and ``cols``."""
    u = np.ones(kernel.shape[0])
    v = np.ones(kernel.shape[1])
    for _ in range(iters):
        u = rows / (kernel @ v)
        v = cols / (kernel.T @ u)
    return u[:, None] * kernel * v[None, :]


def site_layout(borehole_ids: pd.Series, n_rows_bh: np.ndarray, rng) -> SiteLayout:
    """Sites from the IDs; axis order: expeditions in random order, sites within, holes
    within sites."""
    parts = borehole_ids.str.split("-", n=2, expand=True)
    exp = parts[0].to_numpy()
    site_key = (parts[0] + "-" + parts[1]).to_numpy()
    site_names, site_of = np.unique(site_key, return_inverse=True)
    exp_names, exp_of = np.unique(exp, return_inverse=True)
    exp_rank = rng.permutation(len(exp_names))[exp_of]
    site_rank = rng.permutation(len(site_names))[site_of]
    hole_rank = rng.random(len(borehole_ids))
    axis_order = np.lexsort((hole_rank, site_rank, exp_rank))
    axis_start = np.empty(len(borehole_ids), dtype=np.int64)
    axis_start[axis_order] = np.cumsum(n_rows_bh[axis_order]) - n_rows_bh[axis_order]
    site_exp = [s.split("-")[0] for s in site_names]
    return SiteLayout(parts, site_of, site_exp, axis_order, axis_start)


def borehole_plan(
    groups: np.ndarray, counts: np.ndarray, layout: SiteLayout, n_rows_bh: np.ndarray, rng
) -> np.ndarray:
    """(borehole, lithology) rows expected: each site's preferences over groups and, within
    groups, over lithologies, balanced to the exact borehole and lithology counts."""
    n_sites = len(layout.site_exp)
    group_names, group_of = np.unique(groups, return_inverse=True)
    group_share = np.bincount(group_of, weights=counts) / counts.sum()
    alpha_g = GROUP_CONCENTRATION * group_share + 0.02
    group_pref = rng.dirichlet(alpha_g, size=n_sites)  # (S, G)
    for i, e in enumerate(layout.site_exp):
        hinted = np.isin(group_names, EXPEDITION_GROUP_HINTS.get(e, ()))
        if hinted.any():
            hint = hinted / hinted.sum()
            group_pref[i] = (1.0 - HINT_WEIGHT) * group_pref[i] + HINT_WEIGHT * hint
    within = counts / np.bincount(group_of, weights=counts)[group_of]
    gam = rng.gamma(CLASS_CONCENTRATION * within + 0.05, size=(n_sites, counts.size))
    gsum = np.zeros((n_sites, len(group_names)))
    np.add.at(gsum.T, group_of, gam.T)
    class_pref = gam / gsum[:, group_of]
    kernel = group_pref[:, group_of] * class_pref
    kernel = kernel[layout.site_of] + 1e-6 * within[None, :]
    return sinkhorn(kernel, n_rows_bh.astype(np.float64), counts)


def bed_lengths(total: int, median: float, rng) -> np.ndarray:
    """Log-normal bed thicknesses (bins) summing to exactly ``total`` (the last one cut)."""
    draw = max(8, int(2.5 * total / median) + 8)
    lengths = np.empty(0, dtype=np.int64)
    while lengths.sum() < total:
        more = np.exp(np.log(median) + BED_SIGMA * rng.standard_normal(draw))
        lengths = np.concatenate(
            [lengths, np.clip(np.rint(more), 1, BED_MAX_BINS).astype(np.int64)]
        )
    cum = np.cumsum(lengths)
    k = int(np.searchsorted(cum, total)) + 1
    lengths = lengths[:k]
    lengths[-1] -= cum[k - 1] - total
    return lengths


def lay_beds(
    counts: np.ndarray,
    bed_median: np.ndarray,
    plan: np.ndarray,
    layout: SiteLayout,
    n_rows_bh: np.ndarray,
    rng,
) -> np.ndarray:
    """Lithology of each row of the global axis: every lithology's beds, each dropped at
    a random place inside a borehole drawn from the plan, in order of place."""
    n_b = len(n_rows_bh)
    bed_cls, bed_len, bed_key = [], [], []
    for c in range(counts.size):
        lengths = bed_lengths(int(counts[c]), bed_median[c], rng)
        k = lengths.size
        p = plan[:, c] / plan[:, c].sum()
        where = rng.choice(n_b, size=k, p=p)
        key = layout.axis_start[where] + rng.random(k) * n_rows_bh[where]
        bed_cls.append(np.full(k, c, dtype=np.int64))
        bed_len.append(lengths)
        bed_key.append(key)
    bed_cls = np.concatenate(bed_cls)
    bed_len = np.concatenate(bed_len)
    order = np.argsort(np.concatenate(bed_key), kind="stable")
    return np.repeat(bed_cls[order], bed_len[order])


def order_beds(
    axis_class: np.ndarray, layout: SiteLayout, n_rows_bh: np.ndarray, rank: np.ndarray, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the axis into boreholes by their exact counts and order each borehole's runs of
    one lithology by noisy diagenetic rank: ``(row_class, row_borehole)`` in output order."""
    rows = axis_class.size
    bh_in_axis = np.repeat(layout.axis_order, n_rows_bh[layout.axis_order])
    change = np.ones(rows, dtype=bool)
    change[1:] = (axis_class[1:] != axis_class[:-1]) | (bh_in_axis[1:] != bh_in_axis[:-1])
    run_start = np.flatnonzero(change)
    run_len = np.diff(np.append(run_start, rows))
    run_class = axis_class[run_start]
    run_bh = bh_in_axis[run_start]
    run_depth_key = rank[run_class] + RANK_NOISE * rng.standard_normal(run_start.size)
    run_order = np.lexsort((run_depth_key, run_bh))
    row_class = np.repeat(run_class[run_order], run_len[run_order])
    row_borehole = np.repeat(run_bh[run_order], run_len[run_order])
    return row_class, row_borehole


def stratigraphy_parameters() -> dict:
    """This layer's parameters, for the sidecar."""
    return {
        "group_concentration": GROUP_CONCENTRATION,
        "class_concentration": CLASS_CONCENTRATION,
        "bed_sigma": BED_SIGMA,
        "bed_max_bins": BED_MAX_BINS,
        "bed_median_bins_by_group": {g: s[7] for g, s in GROUP_SIGNATURES.items()},
        "rank_noise": RANK_NOISE,
        "expedition_group_hints": {k: list(v) for k, v in EXPEDITION_GROUP_HINTS.items()},
        "hint_weight": HINT_WEIGHT,
    }


def borehole_frame(
    bh: pd.DataFrame, layout: SiteLayout, n_rows_bh: np.ndarray, top_bin: np.ndarray, rng
) -> pd.DataFrame:
    """Per borehole: ID, expedition, site, hole, rows, top and bottom bin depths, position."""
    loc = site_locations(layout.site_exp, rng)[layout.site_of]
    return pd.DataFrame(
        {
            "Borehole_ID": bh["Borehole_ID"].to_numpy(),
            "Exp": layout.parts[0].to_numpy(),
            "Site": layout.parts[1].to_numpy(),
            "Hole": layout.parts[2].to_numpy(),
            "n_rows": n_rows_bh,
            "top_depth": np.round(top_bin * BIN_M, 1),
            "bottom_bin_depth": np.round((top_bin + n_rows_bh - 1) * BIN_M, 1),
            "latitude": np.round(loc[:, 0], 5),
            "longitude": np.round(loc[:, 1], 5),
            "water_depth_m": np.round(loc[:, 2], 1),
        }
    )


def build_stratigraphy(
    rows: int | None = None, seed: int = 0, boreholes: pd.DataFrame | None = None
) -> Stratigraphy:
    """Counts, site layout, beds and depth bins of a synthetic table (see module doc).

    ``boreholes`` (``Borehole_ID``, ``n_samples``, ``min_depth``, ``max_depth``, as
    :func:`~lilyvae.synthetic.counts.real_boreholes`) replaces the real 296 boreholes:
    their IDs, relative sizes and top depths."""
    chosen = real_boreholes() if boreholes is None else boreholes
    rows = check_rows(rows, None if boreholes is None else len(chosen))
    seed = check_seed(seed)
    rng_layout, rng_pref, rng_beds, rng_loc = random_streams(seed)[:4]

    classes = real_classes()[["Principal", "Group", "Count"]].copy()
    classes["Count"] = scale_counts(classes["Count"].to_numpy(), rows)
    bh = chosen[["Borehole_ID", "n_samples", "min_depth", "max_depth"]].copy()
    n_rows_bh = scale_counts(bh["n_samples"].to_numpy(), rows)
    n_b = len(bh)
    layout = site_layout(bh["Borehole_ID"], n_rows_bh, rng_layout)
    counts = classes["Count"].to_numpy().astype(np.float64)
    plan = borehole_plan(classes["Group"].to_numpy(), counts, layout, n_rows_bh, rng_pref)
    sig = lithology_signatures(classes["Principal"].tolist(), classes["Group"].tolist())
    axis_class = lay_beds(counts, sig.bed_median, plan, layout, n_rows_bh, rng_beds)
    row_class, row_borehole = order_beds(axis_class, layout, n_rows_bh, sig.rank, rng_beds)

    row_ptr = np.zeros(n_b + 1, dtype=np.int64)
    row_ptr[1:] = np.cumsum(n_rows_bh)
    top_bin = np.rint(bh["min_depth"].to_numpy() / BIN_M).astype(np.int64)
    row_bin = top_bin[row_borehole] + (np.arange(rows) - row_ptr[row_borehole])

    # Beds: maximal runs in output order (neighbouring runs of one lithology merge).
    change = np.ones(rows, dtype=bool)
    change[1:] = (row_class[1:] != row_class[:-1]) | (row_borehole[1:] != row_borehole[:-1])
    bed_start = np.flatnonzero(change)
    bed_ptr = np.zeros(n_b + 1, dtype=np.int64)
    bed_ptr[1:] = np.cumsum(np.bincount(row_borehole[bed_start], minlength=n_b))
    return Stratigraphy(
        classes=classes.reset_index(drop=True),
        boreholes=borehole_frame(bh, layout, n_rows_bh, top_bin, rng_loc),
        row_class=row_class,
        row_borehole=row_borehole,
        row_bin=row_bin,
        row_ptr=row_ptr,
        bed_class=row_class[bed_start],
        bed_first_bin=row_bin[bed_start],
        bed_n_bins=np.diff(np.append(bed_start, rows)),
        bed_ptr=bed_ptr,
        site_of_borehole=layout.site_of,
        params=stratigraphy_parameters(),
    )
