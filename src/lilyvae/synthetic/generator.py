"""A synthetic, LILY-like training table (the real data cannot ship).

Everything this module writes is SYNTHETIC. It imitates the shape of the real 20 cm
training table built from the IODP LILY database (schema, the 296 real borehole IDs and
their row counts, the 139 real lithology names and their row counts, the marginals of the
six measurements) so that the rest of the package can be exercised end to end, but no
value in it is a measurement.

Design
------
The generator works in three layers, each drawn from its own child stream of
``numpy.random.SeedSequence(seed)``:

1. **Counts.** The real row counts per borehole (``resources/boreholes.csv``) and per
   lithology (``resources/lithology_classes.csv``) are used as they are for the default
   238,506 rows, and scaled by largest-remainder rounding for any other size; every
   borehole and every lithology keeps at least one row (so at least 296 rows).

2. **Stratigraphy** (:func:`build_stratigraphy`). Holes of one site, and sites of one
   expedition, lie next to each other on a single "global core" axis of all rows. Each
   site draws a sparse Dirichlet preference over the 14 lithology groups (leaning towards
   what its expedition is known for where :data:`EXPEDITION_GROUP_HINTS` says so) and,
   within a group, over its lithologies; Sinkhorn balancing turns the preferences into a plan
   (borehole x lithology) whose margins are the exact counts. Each lithology's rows are
   cut into beds (log-normal thickness, median a few bins to ~3 m, up to tens of metres),
   each bed is dropped at a random place inside a borehole drawn from the plan, and the
   beds, sorted by place and concatenated, are cut into boreholes by their exact row
   counts. So the global lithology counts and the borehole counts are exact, beds are
   runs of consecutive bins, and each borehole is dominated by a few groups. Within a
   borehole the beds are finally ordered by a noisy diagenetic rank (soft sediment above
   lithified sediment above igneous/metamorphic basement). Depth bins are consecutive
   multiples of 0.2 m starting at the borehole's real minimum depth (snapped to the grid).
   (The real depth ranges hold about five rows per 0.2 m, so a synthetic borehole with
   its real row count reaches deeper than its real ``max_depth``; that column is unused.)
   Each borehole also gets a plausible ocean position and water depth: a site position
   inside a box near where its expedition drilled (holes of one site share it).

3. **Measurements** (:class:`SyntheticLily`). Every lithology has a fixed physical
   signature (independent of the seed): its group's baseline, adjusted by words in its
   name ("sand" denser and less radioactive, "clay"/"mud" darker and more radioactive,
   "-stone"/"chalk" lithified and denser, "ash"/"tuff" magnetic, ...) and a small fixed
   jitter. The noiseless "true" value at any depth of a borehole
   (:meth:`SyntheticLily.true_values`) is that signature plus a compaction trend (bulk
   density rises with depth), site and hole offsets, and a smooth geological variability
   (an AR(1) field over the 0.2 m bins, interpolated between bin centres). A table row is
   the true value at the bin centre plus measurement noise (white noise, heavy-tailed
   susceptibility noise, rare disturbed-core and drift artefacts); colours saturate
   smoothly below 255. Later code that writes synthetic *raw* LILY files can sample
   :meth:`SyntheticLily.true_values` at each instrument's own spacing and add its own
   instrument noise (:data:`MEASUREMENT_NOISE` gives the per-bin scales used here).

The table has no missing labels and no missing or non-finite inputs, like the real
cleaned table. Generation is vectorised (loops only over lithologies and sites) and takes
well under a second at the default size (writing the CSV takes longer).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, LABEL_COL, TABLE_COLUMNS
from lilyvae.data.tables import table_format, write_table
from lilyvae.errors import LilyVAEError
from lilyvae.files import check_output_path, sha256_file, write_atomic, write_json_atomic

#: Bumped whenever the same seed would give a different table.
GENERATOR_VERSION = "1.0"

#: Rows of the real training table.
DEFAULT_ROWS = 238_506

BIN_M = 0.2

SYNTHETIC_NOTICE = (
    "SYNTHETIC data made by lilyvae's generator (lilyvae.synthetic.generator): it is not real LILY "
    "data and no value in it is a measurement."
)

# -- generator parameters (recorded in the sidecar) -----------------------------------

#: Dirichlet concentration of a site's preference over lithology groups (times the
#: group's global share, plus a floor): small values give sites dominated by few groups.
GROUP_CONCENTRATION = 1.2
#: Dirichlet concentration of a site's preference over the lithologies of one group.
CLASS_CONCENTRATION = 1.5
#: Log-normal sigma of bed thickness (in bins); medians are per group below.
BED_SIGMA = 0.9
#: Largest bed, in bins (60 m).
BED_MAX_BINS = 300
#: Standard deviation of the noise added to the diagenetic rank that orders beds.
RANK_NOISE = 0.6
#: Scale of the fixed per-lithology jitter of signatures (0 = names and groups only).
CLASS_JITTER = 1.0
#: e-folding depth (m) of compaction.
COMPACTION_DEPTH_M = 250.0
#: Lag-one autocorrelation, per 0.2 m bin, of the geological variability field.
VARIABILITY_PHI = 0.9
#: Standard deviations of the variability field (GRA in g/cm3, others in natural log).
VARIABILITY_SD = {"gra": 0.05, "ms": 0.35, "ngr": 0.25, "light": 0.22, "hue": 0.025}
#: Site-level and hole-level offsets (same units as VARIABILITY_SD).
SITE_OFFSET_SD = {"gra": 0.08, "ms": 0.4, "ngr": 0.25, "light": 0.26, "hue": 0.02}
HOLE_OFFSET_SD = {"gra": 0.015, "ms": 0.1, "ngr": 0.05, "light": 0.04, "hue": 0.008}
#: Per-bin measurement noise of the table (what averaging readings leaves).
MEASUREMENT_NOISE = {
    "gra_sd": 0.02,
    "ms_t_df": 3.0,
    "ms_scale_abs": 0.8,
    "ms_scale_rel": 0.03,
    "ngr_sd_abs": 0.25,
    "ngr_sd_sqrt": 0.35,
    "rgb_log_sd_shared": 0.03,
    "rgb_log_sd_channel": 0.01,
    "gra_disturbed_prob": 0.004,
    "ms_drift_prob": 0.003,
    "ms_drift_scale": 120.0,
}
RGB_CAP = 255.0
#: Smooth upper caps of susceptibility and NGR (real maxima about 6,800 and 290).
MS_CAP = 7000.0
NGR_CAP = 300.0
RGB_CAP_POWER = 6.0

#: Physical baseline per lithology group: bulk density at the sea floor (g/cm3), its
#: rise by compaction at depth (g/cm3), magnetic susceptibility (instr. units), NGR (cps),
#: colour lightness (0-255), log hue offsets of R and B against G, median bed thickness
#: (bins) and diagenetic rank (0 soft sediment, 1 lithified, 2 basement).
GROUP_SIGNATURES: dict[str, tuple] = {
    #                               gra0  comp  ms     ngr   light  hueR   hueB  bed rank
    "Carbonate": (1.40, 0.40, 4.0, 3.5, 86.0, 0.03, -0.04, 12, 0),
    "Clay/Mud": (1.43, 0.40, 16.0, 18.0, 41.0, -0.02, -0.01, 10, 0),
    "Biogenic Silica": (1.40, 0.25, 6.0, 6.0, 70.0, 0.02, -0.05, 8, 0),
    "Sand": (1.75, 0.18, 50.0, 16.0, 52.0, 0.03, -0.05, 5, 0),
    "Silt": (1.68, 0.25, 35.0, 20.0, 48.0, 0.01, -0.03, 5, 0),
    "Mafic Igneous": (2.50, 0.05, 900.0, 1.8, 32.0, 0.00, 0.00, 15, 2),
    "Volcaniclastic": (1.75, 0.20, 350.0, 7.0, 45.0, 0.00, 0.01, 3, 0),
    "Conglomerate/Breccia": (2.05, 0.10, 250.0, 10.0, 48.0, 0.02, -0.02, 5, 1),
    "Intermediate/Felsic Igneous": (2.45, 0.00, 400.0, 18.0, 62.0, 0.02, -0.01, 8, 2),
    "Metamorphic": (2.60, 0.00, 120.0, 25.0, 55.0, 0.00, 0.01, 8, 2),
    "Ultramafic": (2.50, 0.00, 1500.0, 0.6, 38.0, -0.02, 0.02, 10, 2),
    "Evaporite": (2.30, 0.00, 3.0, 4.0, 150.0, 0.02, -0.02, 4, 1),
    "Diamict": (2.00, 0.15, 90.0, 18.0, 45.0, 0.00, -0.01, 5, 0),
    "Other": (1.90, 0.10, 150.0, 9.0, 50.0, 0.00, 0.00, 4, 1),
}
_HARD_ROCK_GROUPS = {"Mafic Igneous", "Intermediate/Felsic Igneous", "Metamorphic", "Ultramafic"}

#: Name words that adjust a lithology's signature: (pattern, also for hard rock?, d_gra0,
#: compaction factor, MS factor, NGR factor, lightness factor, variability factor,
#: minimum rank). Sediment-only words are skipped for igneous/metamorphic groups.
NAME_MODIFIERS: tuple[tuple[str, bool, float, float, float, float, float, float, int], ...] = (
    (
        r"stone|chalk|ite\b|tuff|rock|chert|schist|granofels|marble|breccia|conglomerate",
        False,
        0.20,
        0.5,
        0.9,
        1.0,
        1.0,
        1.0,
        1,
    ),
    (r"clay|mud", False, 0.0, 1.0, 1.6, 1.5, 0.8, 1.0, 0),
    (r"silt", False, 0.05, 0.9, 1.2, 0.85, 1.0, 1.0, 0),
    (r"sand", False, 0.12, 0.7, 1.4, 0.7, 1.05, 1.1, 0),
    (r"gravel|pebbly|clast|diamict|debris", False, 0.12, 0.8, 1.5, 1.0, 1.0, 1.5, 0),
    (r"interbedded|\bto\b|/", False, 0.0, 1.0, 1.0, 1.0, 1.0, 1.7, 0),
    (r"nannofossil", False, 0.0, 1.0, 0.9, 0.9, 1.1, 1.0, 0),
    (r"foraminifera", False, 0.08, 0.9, 1.0, 1.0, 1.05, 1.0, 0),
    (r"marl", False, 0.05, 1.0, 2.0, 3.0, 0.75, 1.0, 0),
    (r"diatom|radiolarian|biosiliceous|porcellanite", False, -0.15, 0.8, 0.6, 0.7, 1.0, 1.0, 0),
    (
        r"ash|tuff|tephra|lapilli|volcani|hyaloclastite|agglomerate",
        False,
        0.0,
        1.0,
        2.0,
        1.0,
        0.8,
        1.2,
        0,
    ),
    (r"gabbro", True, 0.2, 1.0, 0.6, 1.0, 1.25, 1.0, 0),
    (r"basalt|boninite|dolerite|diabase", True, 0.0, 1.0, 1.3, 1.0, 0.95, 1.0, 0),
    (r"coal", False, -0.6, 1.0, 0.3, 0.5, 0.4, 1.0, 0),
    (r"chert", False, 0.4, 0.3, 0.5, 1.0, 1.0, 1.0, 0),
    (r"serpentinite|harzburgite|dunite", True, 0.0, 1.0, 1.5, 1.0, 1.0, 1.0, 0),
    (r"very fine|fine", False, -0.03, 1.0, 1.0, 1.05, 1.0, 1.0, 0),
    (r"coarse", False, 0.05, 1.0, 1.1, 0.95, 1.0, 1.2, 0),
    (r"dolostone|gypsum|anhydrite|marble", False, 0.0, 1.0, 1.0, 1.0, 1.1, 1.0, 0),
)
#: Fixed seed of the per-lithology jitter: a lithology's signature never depends on the
#: table's seed, only its sampling does.
SIGNATURE_SEED = 20_231_004

#: Approximate drilling areas (lat, lon, half-height deg, half-width deg, min and max
#: water depth m) per expedition, boxes chosen to lie in the ocean.
EXPEDITION_AREAS: dict[str, tuple[float, float, float, float, float, float]] = {
    "346": (40.5, 134.5, 1.0, 1.0, 900, 3400),  # Japan Sea
    "349": (16.0, 116.0, 1.5, 1.5, 3200, 4400),  # South China Sea basin
    "350": (31.5, 139.5, 0.5, 0.4, 2000, 3300),  # Izu-Bonin rear arc
    "351": (25.8, 133.3, 1.0, 1.0, 4600, 4800),  # Amami Sankaku Basin
    "352": (28.5, 142.7, 0.5, 0.3, 1000, 3500),  # Bonin fore arc
    "353": (15.0, 88.0, 2.0, 2.0, 1200, 2900),  # Bay of Bengal
    "354": (8.0, 86.5, 0.3, 1.5, 3500, 3700),  # Bengal Fan
    "355": (17.3, 68.2, 0.5, 0.5, 3500, 3700),  # Arabian Sea, Laxmi Basin
    "356": (-19.0, 114.5, 0.6, 0.6, 80, 400),  # North West Shelf of Australia
    "359": (4.8, 73.0, 0.3, 0.2, 300, 500),  # Maldives inner sea
    "360": (-32.7, 57.3, 0.1, 0.1, 700, 750),  # Atlantis Bank, SW Indian Ridge
    "361": (-38.0, 24.0, 2.0, 4.0, 2500, 4700),  # off South Africa
    "362": (3.0, 91.0, 1.0, 1.0, 4100, 4200),  # off Sumatra
    "363": (2.0, 142.0, 2.0, 2.0, 800, 3500),  # Western Pacific Warm Pool
    "366": (17.5, 147.2, 0.7, 0.7, 2000, 3500),  # Mariana fore arc
    "367": (18.5, 116.0, 0.8, 0.8, 2000, 3900),  # South China Sea margin
    "368": (18.5, 116.0, 0.8, 0.8, 2000, 3900),
    "368X": (18.5, 116.0, 0.8, 0.8, 2000, 3900),
    "369": (-35.5, 113.0, 0.6, 0.6, 800, 3000),  # Mentelle Basin
    "371": (-30.0, 163.0, 3.0, 3.0, 1200, 3200),  # Tasman Frontier
    "372": (-38.9, 178.8, 0.2, 0.2, 500, 1000),  # Hikurangi slope
    "374": (-75.5, 178.0, 0.8, 3.0, 500, 3500),  # Ross Sea
    "375": (-38.9, 179.1, 0.3, 0.4, 1000, 3500),  # Hikurangi margin
    "376": (-34.87, 179.07, 0.05, 0.05, 1200, 1800),  # Brothers volcano, Kermadec arc
    "379": (-71.5, -106.0, 0.5, 3.0, 3200, 4000),  # Amundsen Sea
}
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

#: Open-ocean boxes for expeditions not listed above (chosen by a hash of the name).
FALLBACK_AREAS: tuple[tuple[float, float, float, float, float, float], ...] = (
    (10.0, -150.0, 5.0, 10.0, 4000, 5500),  # central Pacific
    (25.0, -45.0, 5.0, 8.0, 3000, 5000),  # central North Atlantic
    (-20.0, -20.0, 5.0, 8.0, 3000, 5000),  # South Atlantic
    (-15.0, 80.0, 5.0, 8.0, 3500, 5000),  # central Indian Ocean
)


# -- reading the shipped facts ---------------------------------------------------------
def _read_resource(name: str) -> pd.DataFrame:
    with resources.files("lilyvae").joinpath("resources", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"Borehole_ID": str, "Principal": str, "Group": str})


def real_classes() -> pd.DataFrame:
    """The 139 real lithologies: ``Principal``, ``Group``, ``Count`` (real row counts)."""
    return _read_resource("lithology_classes.csv")


def real_boreholes() -> pd.DataFrame:
    """The 296 real boreholes: ``Borehole_ID``, ``n_samples``, ``min_depth``, ``max_depth``."""
    return _read_resource("boreholes.csv")


def minimum_rows() -> int:
    """Smallest table size: one row for every real borehole and every lithology."""
    return max(len(real_boreholes()), len(real_classes()))


def scale_counts(counts, total: int) -> np.ndarray:
    """Scale integer ``counts`` to sum to ``total``, each at least 1 (largest remainder).

    Every entry first gets one row; the other ``total - len(counts)`` rows are shared in
    proportion to ``counts - 1``, floors first, then one more to the largest remainders
    (ties: earlier entries first). When ``total == sum(counts)`` this returns ``counts``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    k = counts.size
    if total < k:
        raise LilyVAEError(f"cannot give each of {k} entries a row with only {total} rows")
    weights = (counts - 1).astype(np.float64)
    spare = total - k
    if weights.sum() <= 0:
        weights = np.ones(k)
    quota = weights * spare / weights.sum()
    base = np.floor(quota).astype(np.int64)
    left = int(spare - base.sum())
    order = np.argsort(-(quota - base), kind="stable")
    base[order[:left]] += 1
    return base + 1


def _check_rows(rows) -> int:
    if rows is None:
        return DEFAULT_ROWS
    if isinstance(rows, bool) or not isinstance(rows, (int, np.integer)):
        raise LilyVAEError(f"rows must be a whole number, got {rows!r}")
    rows = int(rows)
    if rows <= 0:
        raise LilyVAEError(f"rows must be positive, got {rows}")
    low = minimum_rows()
    if rows < low:
        raise LilyVAEError(
            f"rows={rows} is too few: the synthetic table needs at least {low} rows "
            "(one for every real borehole and every lithology)"
        )
    return rows


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise LilyVAEError(f"seed must be a non-negative whole number, got {seed!r}")
    return int(seed)


# -- lithology signatures --------------------------------------------------------------
@dataclass(frozen=True)
class Signatures:
    """Fixed physical signature of each lithology (arrays in class order)."""

    gra0: np.ndarray
    compaction: np.ndarray
    log_ms: np.ndarray
    log_ngr: np.ndarray
    log_light: np.ndarray
    hue: np.ndarray  # (C, 3) log offsets of R, G, B
    variability: np.ndarray  # multiplier of the variability field
    bed_median: np.ndarray  # bins
    rank: np.ndarray  # diagenetic rank 0, 1, 2


def lithology_signatures(names, groups, jitter: float = CLASS_JITTER) -> Signatures:
    """Signatures from group baselines, name words and a fixed jitter."""
    n = len(names)
    base = np.array(
        [GROUP_SIGNATURES.get(g, GROUP_SIGNATURES["Other"]) for g in groups], dtype=np.float64
    )
    gra0, comp = base[:, 0].copy(), base[:, 1].copy()
    ms, ngr, light = base[:, 2].copy(), base[:, 3].copy(), base[:, 4].copy()
    var = np.ones(n)
    rank = base[:, 8].astype(np.int64)
    for i, (name, group) in enumerate(zip(names, groups, strict=True)):
        hard_rock = group in _HARD_ROCK_GROUPS
        for pattern, for_rock, dg, fc, fm, fn, fl, fv, min_rank in NAME_MODIFIERS:
            if (for_rock or not hard_rock) and re.search(pattern, name):
                gra0[i] += dg
                comp[i] *= fc
                ms[i] *= fm
                ngr[i] *= fn
                light[i] *= fl
                var[i] *= fv
                rank[i] = max(rank[i], min_rank)
    rng = np.random.default_rng(SIGNATURE_SEED)
    z = rng.standard_normal((n, 6)) * jitter
    hue = np.zeros((n, 3))
    hue[:, 0] = base[:, 5] + 0.025 * z[:, 4]
    hue[:, 2] = base[:, 6] + 0.025 * z[:, 5]
    return Signatures(
        gra0=gra0 + 0.05 * z[:, 0],
        compaction=comp,
        log_ms=np.log(ms) + 0.3 * z[:, 1],
        log_ngr=np.log(ngr) + 0.18 * z[:, 2],
        log_light=np.log(light) + 0.12 * z[:, 3],
        hue=hue,
        variability=var,
        bed_median=base[:, 7],
        rank=rank,
    )


# -- locations -------------------------------------------------------------------------
def _area_for(expedition: str) -> tuple[float, float, float, float, float, float]:
    if expedition in EXPEDITION_AREAS:
        return EXPEDITION_AREAS[expedition]
    h = sum(ord(ch) * (i + 1) for i, ch in enumerate(expedition))
    return FALLBACK_AREAS[h % len(FALLBACK_AREAS)]


def _site_locations(site_exp: list[str], rng: np.random.Generator) -> np.ndarray:
    """(n_sites, 3): latitude, longitude, water depth (m below sea level)."""
    out = np.empty((len(site_exp), 3))
    u = rng.random((len(site_exp), 3))
    for i, exp in enumerate(site_exp):
        lat, lon, dlat, dlon, wmin, wmax = _area_for(exp)
        out[i, 0] = lat + (2 * u[i, 0] - 1) * dlat
        lon_i = lon + (2 * u[i, 1] - 1) * dlon
        out[i, 1] = (lon_i + 180.0) % 360.0 - 180.0
        out[i, 2] = wmin + u[i, 2] * (wmax - wmin)
    return out


# -- stratigraphy ----------------------------------------------------------------------
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


def _sinkhorn(kernel: np.ndarray, rows: np.ndarray, cols: np.ndarray, iters: int = 300):
    u = np.ones(kernel.shape[0])
    v = np.ones(kernel.shape[1])
    for _ in range(iters):
        u = rows / (kernel @ v)
        v = cols / (kernel.T @ u)
    return u[:, None] * kernel * v[None, :]


def _streams(seed: int) -> list[np.random.Generator]:
    """Independent child streams of one seed: 0-3 stratigraphy, 4-7 measurements."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]


def build_stratigraphy(rows: int | None = None, seed: int = 0) -> Stratigraphy:
    """Counts, site layout, beds and depth bins of a synthetic table (see module doc)."""
    rows = _check_rows(rows)
    seed = _check_seed(seed)
    rng_layout, rng_pref, rng_beds, rng_loc = _streams(seed)[:4]

    classes = real_classes()[["Principal", "Group", "Count"]].copy()
    classes["Count"] = scale_counts(classes["Count"].to_numpy(), rows)
    bh = real_boreholes()[["Borehole_ID", "n_samples", "min_depth", "max_depth"]].copy()
    n_rows_bh = scale_counts(bh["n_samples"].to_numpy(), rows)
    n_b, n_c = len(bh), len(classes)

    parts = bh["Borehole_ID"].str.split("-", n=2, expand=True)
    exp = parts[0].to_numpy()
    site_key = (parts[0] + "-" + parts[1]).to_numpy()
    site_names, site_of = np.unique(site_key, return_inverse=True)
    exp_names, exp_of = np.unique(exp, return_inverse=True)
    site_exp = [s.split("-")[0] for s in site_names]

    # Axis order: expeditions in random order, sites within, holes within sites.
    exp_rank = rng_layout.permutation(len(exp_names))[exp_of]
    site_rank = rng_layout.permutation(len(site_names))[site_of]
    hole_rank = rng_layout.random(n_b)
    axis_order = np.lexsort((hole_rank, site_rank, exp_rank))
    axis_start = np.empty(n_b, dtype=np.int64)
    axis_start[axis_order] = np.cumsum(n_rows_bh[axis_order]) - n_rows_bh[axis_order]

    # Site preferences over groups and, within groups, over lithologies.
    group_names, group_of = np.unique(classes["Group"].to_numpy(), return_inverse=True)
    counts = classes["Count"].to_numpy().astype(np.float64)
    group_share = np.bincount(group_of, weights=counts) / counts.sum()
    alpha_g = GROUP_CONCENTRATION * group_share + 0.02
    group_pref = rng_pref.dirichlet(alpha_g, size=len(site_names))  # (S, G)
    for i, e in enumerate(site_exp):
        hinted = np.isin(group_names, EXPEDITION_GROUP_HINTS.get(e, ()))
        if hinted.any():
            hint = hinted / hinted.sum()
            group_pref[i] = (1.0 - HINT_WEIGHT) * group_pref[i] + HINT_WEIGHT * hint
    within = counts / np.bincount(group_of, weights=counts)[group_of]
    gam = rng_pref.gamma(CLASS_CONCENTRATION * within + 0.05, size=(len(site_names), n_c))
    gsum = np.zeros((len(site_names), len(group_names)))
    np.add.at(gsum.T, group_of, gam.T)
    class_pref = gam / gsum[:, group_of]
    kernel = group_pref[:, group_of] * class_pref
    kernel = kernel[site_of] + 1e-6 * within[None, :]
    plan = _sinkhorn(kernel, n_rows_bh.astype(np.float64), counts)

    # Beds of each lithology, each placed in a borehole drawn from the plan.
    sig = lithology_signatures(classes["Principal"].tolist(), classes["Group"].tolist())
    bed_cls, bed_len, bed_key = [], [], []
    for c in range(n_c):
        total = int(counts[c])
        med = sig.bed_median[c]
        draw = max(8, int(2.5 * total / med) + 8)
        lengths = np.empty(0, dtype=np.int64)
        while lengths.sum() < total:
            more = np.exp(np.log(med) + BED_SIGMA * rng_beds.standard_normal(draw))
            lengths = np.concatenate(
                [lengths, np.clip(np.rint(more), 1, BED_MAX_BINS).astype(np.int64)]
            )
        cum = np.cumsum(lengths)
        k = int(np.searchsorted(cum, total)) + 1
        lengths = lengths[:k]
        lengths[-1] -= cum[k - 1] - total
        p = plan[:, c] / plan[:, c].sum()
        where = rng_beds.choice(n_b, size=k, p=p)
        key = axis_start[where] + rng_beds.random(k) * n_rows_bh[where]
        bed_cls.append(np.full(k, c, dtype=np.int64))
        bed_len.append(lengths)
        bed_key.append(key)
    bed_cls = np.concatenate(bed_cls)
    bed_len = np.concatenate(bed_len)
    order = np.argsort(np.concatenate(bed_key), kind="stable")
    axis_class = np.repeat(bed_cls[order], bed_len[order])  # length == rows

    # Cut the axis into boreholes by their exact counts.
    bh_in_axis = np.repeat(axis_order, n_rows_bh[axis_order])
    # Runs of one lithology inside one borehole, reordered by noisy diagenetic rank.
    change = np.ones(rows, dtype=bool)
    change[1:] = (axis_class[1:] != axis_class[:-1]) | (bh_in_axis[1:] != bh_in_axis[:-1])
    run_start = np.flatnonzero(change)
    run_len = np.diff(np.append(run_start, rows))
    run_class = axis_class[run_start]
    run_bh = bh_in_axis[run_start]
    run_depth_key = sig.rank[run_class] + RANK_NOISE * rng_beds.standard_normal(run_start.size)
    run_order = np.lexsort((run_depth_key, run_bh))
    row_class = np.repeat(run_class[run_order], run_len[run_order])
    row_borehole = np.repeat(run_bh[run_order], run_len[run_order])

    row_ptr = np.zeros(n_b + 1, dtype=np.int64)
    row_ptr[1:] = np.cumsum(n_rows_bh)
    top_bin = np.rint(bh["min_depth"].to_numpy() / BIN_M).astype(np.int64)
    row_bin = top_bin[row_borehole] + (np.arange(rows) - row_ptr[row_borehole])

    # Beds: maximal runs in output order (neighbouring runs of one lithology merge).
    change = np.ones(rows, dtype=bool)
    change[1:] = (row_class[1:] != row_class[:-1]) | (row_borehole[1:] != row_borehole[:-1])
    bed_start = np.flatnonzero(change)
    bed_n = np.diff(np.append(bed_start, rows))
    bed_bh = row_borehole[bed_start]
    bed_ptr = np.zeros(n_b + 1, dtype=np.int64)
    bed_ptr[1:] = np.cumsum(np.bincount(bed_bh, minlength=n_b))

    loc = _site_locations(site_exp, rng_loc)[site_of]
    boreholes = pd.DataFrame(
        {
            "Borehole_ID": bh["Borehole_ID"].to_numpy(),
            "Exp": exp,
            "Site": parts[1].to_numpy(),
            "Hole": parts[2].to_numpy(),
            "n_rows": n_rows_bh,
            "top_depth": np.round(top_bin * BIN_M, 1),
            "bottom_bin_depth": np.round((top_bin + n_rows_bh - 1) * BIN_M, 1),
            "latitude": np.round(loc[:, 0], 5),
            "longitude": np.round(loc[:, 1], 5),
            "water_depth_m": np.round(loc[:, 2], 1),
        }
    )
    params = {
        "group_concentration": GROUP_CONCENTRATION,
        "class_concentration": CLASS_CONCENTRATION,
        "bed_sigma": BED_SIGMA,
        "bed_max_bins": BED_MAX_BINS,
        "bed_median_bins_by_group": {g: s[7] for g, s in GROUP_SIGNATURES.items()},
        "rank_noise": RANK_NOISE,
        "expedition_group_hints": {k: list(v) for k, v in EXPEDITION_GROUP_HINTS.items()},
        "hint_weight": HINT_WEIGHT,
    }
    return Stratigraphy(
        classes=classes.reset_index(drop=True),
        boreholes=boreholes,
        row_class=row_class,
        row_borehole=row_borehole,
        row_bin=row_bin,
        row_ptr=row_ptr,
        bed_class=row_class[bed_start],
        bed_first_bin=row_bin[bed_start],
        bed_n_bins=bed_n,
        bed_ptr=bed_ptr,
        site_of_borehole=site_of,
        params=params,
    )


# -- measurements ----------------------------------------------------------------------
_CHANNELS = ("gra", "ms", "ngr", "light", "hue", "hue")


def _soft_cap(x: np.ndarray, cap: float, power: float = RGB_CAP_POWER) -> np.ndarray:
    """Smooth cap: about x for x well below ``cap``, never above it (x >= 0 part)."""
    pos = np.maximum(x, 0.0)
    return np.where(x > 0, pos / (1.0 + (pos / cap) ** power) ** (1.0 / power), x)


def _saturate(x: np.ndarray) -> np.ndarray:
    """Colour channels: a smooth cap below 255."""
    return _soft_cap(x, RGB_CAP)


def _ar1_by_borehole(noise: np.ndarray, row_ptr: np.ndarray, phi: float) -> np.ndarray:
    """Unit-variance AR(1) along axis 0, restarted (stationary) at each borehole's top.

    Solves x[t] = a[t] x[t-1] + b[t] (a = 0 at a borehole's first row, phi elsewhere) by a
    doubling scan: log2(longest borehole) vectorised passes, no per-row loop.
    """
    scale = math.sqrt(1.0 - phi * phi)
    n = noise.shape[0]
    a = np.full(n, phi)
    x = noise * scale
    starts = row_ptr[:-1][np.diff(row_ptr) > 0]
    a[starts] = 0.0
    x[starts] = noise[starts]
    longest = int(np.diff(row_ptr).max()) if n else 0
    k = 1
    while k < longest:
        x[k:] = x[k:] + a[k:, None] * x[:-k]
        a[k:] = a[k:] * a[:-k]
        k *= 2
    return x


class SyntheticLily:
    """A synthetic LILY-like data set: stratigraphy, true values and a noisy 20 cm table.

    Attributes: ``rows``, ``seed``, ``classes`` (Principal, Group, Count),
    ``boreholes`` (Borehole_ID, Exp, Site, Hole, n_rows, top_depth, bottom_bin_depth,
    latitude, longitude, water_depth_m), ``beds`` (Borehole_ID, top_m, bottom_m,
    Principal, Group, n_bins; beds of a borehole top down, a bed spans whole bins, bin
    ``d`` covering ``[d - 0.1, d + 0.1)`` m), ``bins`` (Borehole_ID, Depth_Bin,
    Principal, in table order) and ``signatures``.
    """

    def __init__(self, rows: int | None = None, seed: int = 0):
        self.rows = _check_rows(rows)
        self.seed = _check_seed(seed)
        self.strat = strat = build_stratigraphy(self.rows, self.seed)
        self.classes = strat.classes
        self.boreholes = strat.boreholes
        self.signatures = lithology_signatures(
            self.classes["Principal"].tolist(), self.classes["Group"].tolist()
        )
        self._names = self.classes["Principal"].to_numpy()
        self._groups = self.classes["Group"].to_numpy()
        self._bh_index = {b: i for i, b in enumerate(self.boreholes["Borehole_ID"])}
        rng_off, rng_var, rng_noise, _spare = _streams(self.seed)[4:]

        n_sites = int(strat.site_of_borehole.max()) + 1
        site_sd = np.array([SITE_OFFSET_SD[k] for k in _CHANNELS])
        hole_sd = np.array([HOLE_OFFSET_SD[k] for k in _CHANNELS])
        site_off = rng_off.standard_normal((n_sites, 6)) * site_sd
        hole_off = rng_off.standard_normal((len(self.boreholes), 6)) * hole_sd
        self._offset = site_off[strat.site_of_borehole] + hole_off  # (B, 6)

        white = rng_var.standard_normal((self.rows, 6))
        self._field = _ar1_by_borehole(white, strat.row_ptr, VARIABILITY_PHI)  # (N, 6)
        self._row_depth = strat.row_bin * BIN_M
        self._rng_noise = rng_noise
        self._table: pd.DataFrame | None = None

    # -- structure -------------------------------------------------------------------
    @property
    def bins(self) -> pd.DataFrame:
        s = self.strat
        return pd.DataFrame(
            {
                BOREHOLE_COL: self.boreholes["Borehole_ID"].to_numpy()[s.row_borehole],
                DEPTH_COL: np.round(s.row_bin * BIN_M, 1),
                LABEL_COL: self._names[s.row_class],
            }
        )

    @property
    def beds(self) -> pd.DataFrame:
        s = self.strat
        bh_of_bed = np.repeat(np.arange(len(self.boreholes)), np.diff(s.bed_ptr))
        top = np.maximum((s.bed_first_bin - 0.5) * BIN_M, 0.0)
        bottom = (s.bed_first_bin + s.bed_n_bins - 0.5) * BIN_M
        return pd.DataFrame(
            {
                "Borehole_ID": self.boreholes["Borehole_ID"].to_numpy()[bh_of_bed],
                "top_m": np.round(top, 1),
                "bottom_m": np.round(bottom, 1),
                "Principal": self._names[s.bed_class],
                "Group": self._groups[s.bed_class],
                "n_bins": s.bed_n_bins,
            }
        )

    def _borehole(self, borehole_id: str) -> int:
        try:
            return self._bh_index[borehole_id]
        except KeyError:
            raise LilyVAEError(f"unknown borehole {borehole_id!r} in the synthetic data") from None

    def _class_at(self, b: int, depths: np.ndarray) -> np.ndarray:
        s = self.strat
        lo, hi = s.bed_ptr[b], s.bed_ptr[b + 1]
        bottoms = (s.bed_first_bin[lo:hi] + s.bed_n_bins[lo:hi] - 0.5) * BIN_M
        k = np.clip(np.searchsorted(bottoms, depths, side="right"), 0, hi - lo - 1)
        return s.bed_class[lo + k]

    def lithology_at(self, borehole_id: str, depths) -> np.ndarray:
        """Lithology (``Principal``) at each depth (m) of a borehole (nearest bed outside)."""
        b = self._borehole(borehole_id)
        return self._names[self._class_at(b, np.asarray(depths, dtype=np.float64).ravel())]

    # -- values ----------------------------------------------------------------------
    def _log_parts(self, cls, bh, depth, fld):
        """GRA and the natural logs of MS, NGR, R, G, B, before measurement noise."""
        sig = self.signatures
        off = self._offset[bh]
        v = sig.variability[cls][:, None] * fld * np.array([VARIABILITY_SD[k] for k in _CHANNELS])
        gra = (
            sig.gra0[cls]
            + sig.compaction[cls] * -np.expm1(-depth / COMPACTION_DEPTH_M)
            + off[:, 0]
            + v[:, 0]
        )
        log_ms = sig.log_ms[cls] + off[:, 1] + v[:, 1]
        log_ngr = sig.log_ngr[cls] + off[:, 2] + v[:, 2]
        log_g = sig.log_light[cls] + off[:, 3] + v[:, 3]
        log_r = log_g + sig.hue[cls, 0] + off[:, 4] + v[:, 4]
        log_b = log_g + sig.hue[cls, 2] + off[:, 5] + v[:, 5]
        return gra, log_ms, log_ngr, np.stack([log_r, log_g, log_b], axis=1)

    def true_values(self, borehole_id: str, depths, variability: bool = True) -> np.ndarray:
        """Noiseless values (n, 6) in FEATURE_COLS order at ``depths`` (m) of a borehole.

        Includes lithology, compaction, site/hole offsets and (unless
        ``variability=False``) the smooth geological variability, interpolated linearly
        between bin centres; excludes measurement noise and artefacts. Depths outside
        the borehole's bins take the nearest bed and the nearest bin's variability.
        """
        b = self._borehole(borehole_id)
        d = np.asarray(depths, dtype=np.float64).ravel()
        if not np.isfinite(d).all():
            raise LilyVAEError("true_values: depths must be finite")
        cls = self._class_at(b, d)
        fld = np.zeros((d.size, 6))
        if variability:
            lo, hi = self.strat.row_ptr[b], self.strat.row_ptr[b + 1]
            xp = self._row_depth[lo:hi]
            for j in range(6):
                fld[:, j] = np.interp(d, xp, self._field[lo:hi, j])
        gra, log_ms, log_ngr, log_rgb = self._log_parts(cls, np.full(d.size, b), d, fld)
        out = np.empty((d.size, 6))
        out[:, 0] = gra
        out[:, 1] = np.exp(log_ms)
        out[:, 2] = np.exp(log_ngr)
        out[:, 3:] = _saturate(np.exp(log_rgb))
        return out

    def table(self) -> pd.DataFrame:
        """The noisy 20 cm training table (nine columns, TABLE_COLUMNS order); cached."""
        if self._table is not None:
            return self._table.copy()
        s = self.strat
        rng = self._rng_noise
        n = self.rows
        p = MEASUREMENT_NOISE
        gra, log_ms, log_ngr, log_rgb = self._log_parts(
            s.row_class, s.row_borehole, self._row_depth, self._field
        )
        gra = gra + p["gra_sd"] * rng.standard_normal(n)
        disturbed = rng.random(n) < p["gra_disturbed_prob"]
        gra[disturbed] *= rng.uniform(0.2, 0.9, int(disturbed.sum()))
        gra = np.clip(gra, 0.3, 4.0)

        ms = np.exp(log_ms)
        ms = ms + rng.standard_t(p["ms_t_df"], n) * (p["ms_scale_abs"] + p["ms_scale_rel"] * ms)
        drift = rng.random(n) < p["ms_drift_prob"]
        ms[drift] -= np.minimum(rng.exponential(p["ms_drift_scale"], int(drift.sum())), 500.0)
        ms = _soft_cap(ms, MS_CAP)

        ngr = np.exp(log_ngr)
        ngr = ngr + (p["ngr_sd_abs"] + p["ngr_sd_sqrt"] * np.sqrt(ngr)) * rng.standard_normal(n)
        ngr = _soft_cap(np.abs(ngr), NGR_CAP)

        log_rgb = (
            log_rgb
            + p["rgb_log_sd_shared"] * rng.standard_normal((n, 1))
            + p["rgb_log_sd_channel"] * rng.standard_normal((n, 3))
        )
        rgb = _saturate(np.exp(log_rgb))

        bins = self.bins
        df = pd.DataFrame(
            {
                BOREHOLE_COL: bins[BOREHOLE_COL],
                DEPTH_COL: bins[DEPTH_COL],
                FEATURE_COLS[0]: np.round(gra, 4),
                LABEL_COL: bins[LABEL_COL],
                FEATURE_COLS[1]: np.round(ms, 2),
                FEATURE_COLS[2]: np.round(ngr, 3),
                "R": np.round(rgb[:, 0], 2),
                "G": np.round(rgb[:, 1], 2),
                "B": np.round(rgb[:, 2], 2),
            }
        )
        self._table = df[list(TABLE_COLUMNS)]
        return self._table.copy()

    def parameters(self) -> dict:
        """The generator's main parameters, for the sidecar."""
        params = dict(self.strat.params)
        params.update(
            {
                "class_jitter": CLASS_JITTER,
                "signature_seed": SIGNATURE_SEED,
                "compaction_depth_m": COMPACTION_DEPTH_M,
                "variability_phi_per_bin": VARIABILITY_PHI,
                "variability_sd": dict(VARIABILITY_SD),
                "site_offset_sd": dict(SITE_OFFSET_SD),
                "hole_offset_sd": dict(HOLE_OFFSET_SD),
                "measurement_noise": dict(MEASUREMENT_NOISE),
                "group_signatures": {
                    g: dict(
                        zip(
                            (
                                "gra0",
                                "compaction",
                                "ms",
                                "ngr",
                                "lightness",
                                "hue_r",
                                "hue_b",
                                "bed_median_bins",
                                "rank",
                            ),
                            map(float, s),
                            strict=True,
                        )
                    )
                    for g, s in GROUP_SIGNATURES.items()
                },
            }
        )
        return params


# -- public entry points ---------------------------------------------------------------
def generate_table(rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The synthetic training table: ``rows`` rows (default 238,506), the nine columns
    of TABLE_COLUMNS in order, sorted by borehole (boreholes.csv order) then depth."""
    return SyntheticLily(rows=rows, seed=seed).table()


def sidecar_path(path: str | os.PathLike) -> Path:
    """``<path without suffix>.synthetic.json``."""
    p = Path(path)
    return p.with_name(p.stem + ".synthetic.json")


def write_synthetic_table(path: str | os.PathLike, rows: int | None = None, seed: int = 0) -> Path:
    """Write the synthetic table (CSV or Parquet by extension) and its sidecar JSON.

    Both files are written atomically; arguments are checked before anything is
    generated or written. Returns the table's path.
    """
    fmt = table_format(path)
    rows = _check_rows(rows)
    seed = _check_seed(seed)
    path = check_output_path(path)
    lily = SyntheticLily(rows=rows, seed=seed)
    df = lily.table()
    digest: dict[str, str] = {}

    def writer(tmp: Path) -> None:
        write_table(df, tmp, fmt)
        digest["sha256"] = sha256_file(tmp)

    write_atomic(path, writer)
    from lilyvae import __version__

    sidecar = {
        "synthetic": True,
        "notice": SYNTHETIC_NOTICE,
        "table": path.name,
        "format": fmt,
        "sha256": digest["sha256"],
        "generator": "lilyvae.synthetic.generator",
        "generator_version": GENERATOR_VERSION,
        "lilyvae_version": __version__,
        "seed": seed,
        "rows": int(len(df)),
        "n_boreholes": int(df[BOREHOLE_COL].nunique()),
        "n_classes": int(df[LABEL_COL].nunique()),
        "columns": list(TABLE_COLUMNS),
        "parameters": lily.parameters(),
    }
    write_json_atomic(sidecar_path(path), sidecar)
    return path
