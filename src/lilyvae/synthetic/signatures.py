"""Lithology signatures: the fixed physical fingerprint of each of the 139 lithologies.

Every lithology has a signature independent of the seed: its group's baseline
(:data:`GROUP_SIGNATURES`), adjusted by words in its name (:data:`NAME_MODIFIERS`:
"sand" denser and less radioactive, "clay"/"mud" darker and more radioactive,
"-stone"/"chalk" lithified and denser, "ash"/"tuff" magnetic, ...) and a small fixed
jitter. The signatures also set how thick beds are and the diagenetic rank that orders
beds down a borehole (:mod:`lilyvae.synthetic.stratigraphy`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

#: Scale of the fixed per-lithology jitter of signatures (0 = names and groups only).
CLASS_JITTER = 1.0

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
#: The fields of a GROUP_SIGNATURES entry, in order (as the sidecar names them).
GROUP_SIGNATURE_FIELDS = (
    "gra0",
    "compaction",
    "ms",
    "ngr",
    "lightness",
    "hue_r",
    "hue_b",
    "bed_median_bins",
    "rank",
)
HARD_ROCK_GROUPS = {"Mafic Igneous", "Intermediate/Felsic Igneous", "Metamorphic", "Ultramafic"}

#: Name words of lithified sediment and rock, and of volcanic material.
LITHIFIED_WORDS = r"stone|chalk|ite\b|tuff|rock|chert|schist|granofels|marble|breccia|conglomerate"
VOLCANIC_WORDS = r"ash|tuff|tephra|lapilli|volcani|hyaloclastite|agglomerate"

#: Name words that adjust a lithology's signature: (pattern, also for hard rock?, d_gra0,
#: compaction factor, MS factor, NGR factor, lightness factor, variability factor,
#: minimum rank). Sediment-only words are skipped for igneous/metamorphic groups.
NAME_MODIFIERS: tuple[tuple[str, bool, float, float, float, float, float, float, int], ...] = (
    (LITHIFIED_WORDS, False, 0.20, 0.5, 0.9, 1.0, 1.0, 1.0, 1),
    (r"clay|mud", False, 0.0, 1.0, 1.6, 1.5, 0.8, 1.0, 0),
    (r"silt", False, 0.05, 0.9, 1.2, 0.85, 1.0, 1.0, 0),
    (r"sand", False, 0.12, 0.7, 1.4, 0.7, 1.05, 1.1, 0),
    (r"gravel|pebbly|clast|diamict|debris", False, 0.12, 0.8, 1.5, 1.0, 1.0, 1.5, 0),
    (r"interbedded|\bto\b|/", False, 0.0, 1.0, 1.0, 1.0, 1.0, 1.7, 0),
    (r"nannofossil", False, 0.0, 1.0, 0.9, 0.9, 1.1, 1.0, 0),
    (r"foraminifera", False, 0.08, 0.9, 1.0, 1.0, 1.05, 1.0, 0),
    (r"marl", False, 0.05, 1.0, 2.0, 3.0, 0.75, 1.0, 0),
    (r"diatom|radiolarian|biosiliceous|porcellanite", False, -0.15, 0.8, 0.6, 0.7, 1.0, 1.0, 0),
    (VOLCANIC_WORDS, False, 0.0, 1.0, 2.0, 1.0, 0.8, 1.2, 0),
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
        hard_rock = group in HARD_ROCK_GROUPS
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
