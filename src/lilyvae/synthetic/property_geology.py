"""SYNTHETIC geology behind the synthetic LILY property tables (carbonate, porosity, ...).

Every value here is made up. It comes from the same synthetic geology as the six core
measurements of :class:`lilyvae.synthetic.generator.SyntheticLily`, read only through
its public face (``true_values``, ``lithology_at``, ``boreholes``, ``classes``,
``signatures``, ``strat``):

- the lithology at a sample's depth, hence its lithology group;
- the hidden state that moves density, susceptibility, gamma and colour around a
  lithology's signature (read back as the anomaly of the noiseless values with and
  without the generator's variability field);
- compaction with depth (in the noiseless bulk density);
- the sample's site and expedition.

From these, :class:`Drivers` derives a mineral composition (end-members carbonate,
biogenic opal, clay, quartz, mafic and ultramafic rock, evaporite), grain density and
porosity, and each table's variables follow from them with physically coherent
relations where real cores have them: MAD bulk density follows GRA, porosity falls as
density rises, carbonate is high in oozes and chalks, inorganic carbon = 0.12 x CaCO3,
P-wave velocity rises with density, thermal conductivity is the geometric mean of grain
and water conductivity, ICP oxides mix the end-members' chemistry, pore-water profiles
change with depth at site-specific rates. Some variables are pure noise and some are
constant within a borehole (instrument settings and file numbers of an expedition), so
a zero-shot test meets all four kinds: ``lithology`` (well predictable from the
measurements), ``depth`` (depth and site profiles: weakly), ``site`` (constant within a
borehole: only a leaky split predicts them) and ``noise``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

#: Mineral end-members of the composition.
END_MEMBERS = ("carbonate", "opal", "clay", "quartz", "mafic", "ultramafic", "evaporite")
#: Grain density (g/cm3) and thermal conductivity (W/(m K)) of each end-member.
GRAIN_DENSITY = np.array([2.71, 2.10, 2.75, 2.65, 2.95, 3.25, 2.35])
GRAIN_CONDUCTIVITY = np.array([2.9, 1.4, 1.9, 6.5, 2.0, 3.5, 5.0])
WATER_DENSITY = 1.024
WATER_CONDUCTIVITY = 0.6

#: Typical composition of each lithology group (shares of END_MEMBERS; absent: none).
GROUP_COMPOSITION = {
    "Carbonate": {"carbonate": 0.85, "opal": 0.03, "clay": 0.10, "quartz": 0.02},
    "Clay/Mud": {"carbonate": 0.10, "opal": 0.05, "clay": 0.70, "quartz": 0.15},
    "Biogenic Silica": {"carbonate": 0.10, "opal": 0.65, "clay": 0.20, "quartz": 0.05},
    "Sand": {"carbonate": 0.05, "clay": 0.15, "quartz": 0.70, "mafic": 0.10},
    "Silt": {"carbonate": 0.10, "clay": 0.40, "quartz": 0.45, "mafic": 0.05},
    "Mafic Igneous": {"clay": 0.05, "mafic": 0.95},
    "Volcaniclastic": {"carbonate": 0.05, "clay": 0.25, "quartz": 0.10, "mafic": 0.60},
    "Conglomerate/Breccia": {"carbonate": 0.10, "clay": 0.20, "quartz": 0.40, "mafic": 0.30},
    "Intermediate/Felsic Igneous": {"clay": 0.10, "quartz": 0.55, "mafic": 0.35},
    "Metamorphic": {"clay": 0.30, "quartz": 0.50, "mafic": 0.20},
    "Ultramafic": {"mafic": 0.10, "ultramafic": 0.90},
    "Evaporite": {"carbonate": 0.10, "clay": 0.05, "evaporite": 0.85},
    "Diamict": {"carbonate": 0.10, "clay": 0.40, "quartz": 0.40, "mafic": 0.10},
    "Other": {"carbonate": 0.20, "clay": 0.30, "quartz": 0.30, "mafic": 0.20},
}
#: Words of a lithology name that multiply an end-member's share.
NAME_COMPOSITION = (
    (r"nannofossil|foraminifer|chalk|limestone|calcareous|carbonate|marl", "carbonate", 3.0),
    (r"diatom|radiolarian|biosiliceous|porcellanite|chert|spicule", "opal", 3.0),
    (r"clay|mud|shale|marl", "clay", 2.0),
    (r"sand", "quartz", 2.0),
    (r"ash|tuff|volcanic|basalt|gabbro|tephra", "mafic", 2.0),
)

#: Oxides (wt%) and trace elements (ppm) of the end-members, in END_MEMBERS order.
CHEMISTRY = {
    "SiO2": (1.0, 88.0, 58.0, 88.0, 50.0, 41.0, 1.0),
    "Al2O3": (0.3, 1.0, 17.0, 5.0, 15.0, 1.5, 0.3),
    "Fe2O3": (0.2, 0.5, 7.0, 1.5, 11.0, 8.5, 0.2),
    "CaO": (54.0, 0.5, 1.5, 0.8, 11.0, 1.0, 38.0),
    "MgO": (0.8, 0.3, 2.5, 0.5, 7.5, 39.0, 1.0),
    "Na2O": (0.3, 0.5, 1.3, 0.8, 2.6, 0.1, 2.0),
    "K2O": (0.1, 0.2, 3.3, 1.4, 0.4, 0.02, 0.2),
    "TiO2": (0.02, 0.05, 0.85, 0.3, 1.6, 0.03, 0.02),
    "MnO": (0.05, 0.02, 0.1, 0.03, 0.18, 0.12, 0.01),
    "P2O5": (0.1, 0.05, 0.15, 0.05, 0.18, 0.01, 0.02),
    "LOI": (43.0, 9.0, 7.5, 1.0, 1.0, 9.0, 12.0),
    "Ba": (150, 1500, 550, 300, 60, 5, 50),
    "Co": (3, 5, 20, 4, 45, 105, 2),
    "Cr": (10, 15, 95, 30, 280, 2600, 5),
    "Cu": (15, 60, 45, 8, 75, 15, 3),
    "Ni": (15, 40, 60, 10, 120, 2100, 3),
    "Rb": (3, 5, 140, 45, 6, 1, 2),
    "Sc": (1, 2, 17, 4, 40, 9, 0.5),
    "Sr": (1400, 100, 180, 80, 160, 5, 2500),
    "V": (10, 20, 140, 25, 300, 50, 5),
    "Y": (8, 10, 28, 15, 32, 1, 2),
    "Zn": (20, 40, 100, 25, 90, 55, 5),
    "Zr": (15, 30, 170, 350, 110, 5, 5),
}
#: Per-site parameters: name -> (log-normal median, log sd).
SITE_PARAMETERS = {
    "sulfate_depth_m": (60.0, 0.9),  # e-folding depth of pore-water sulfate
    "alkalinity_mM": (15.0, 0.6),  # alkalinity reached below the sulfate zone
    "magnesium_depth_m": (400.0, 0.6),  # e-folding depth of pore-water magnesium
    "methane_ppmv": (2000.0, 1.5),  # headspace methane below the sulfate zone
    "organic_carbon_wt": (0.4, 0.6),  # organic carbon of the site's clays
    "shear_ratio": (0.25, 0.3),  # undrained shear strength / effective stress
    "reversal_depth_m": (25.0, 0.5),  # depth between magnetic polarity reversals
}
#: Instrument settings and sample conventions of an expedition (constant in a borehole).
EXPEDITION_SETTINGS = {
    "cube_volume": (7.0, 8.0, 10.0),
    "sample_length": (2.0, 2.2, 2.5),
    "vane_rate": (1.5, 1.0, 0.5),
    "kappa_field": (200.0, 300.0, 400.0),
    "kappa_holder": (-2.1e-6, -1.5e-6, -0.9e-6),
    "caliper_x": (64.0, 66.0, 68.0),
    "caliper_bayonet": (38.0, 40.0, 42.0),
    "torvane_foot": (1.0, 2.0, 3.0),
}


def composition_of_classes(names, groups) -> np.ndarray:
    """(n_classes, 7) typical composition of each lithology: group baseline x name words."""
    shares = [GROUP_COMPOSITION.get(g, GROUP_COMPOSITION["Other"]) for g in groups]
    out = np.array([[s.get(m, 0.0) for m in END_MEMBERS] for s in shares])
    for i, name in enumerate(names):
        for pattern, member, factor in NAME_COMPOSITION:
            if re.search(pattern, str(name).lower()):
                out[i, END_MEMBERS.index(member)] = out[i, END_MEMBERS.index(member)] * factor
    return out / out.sum(axis=1, keepdims=True)


@dataclass
class Drivers:
    """Everything a sample's values depend on, one entry per sample (row).

    ``gra``/``ms``/``ngr``/``lightness``: noiseless core values at the sample's depth;
    ``state``: (n, 4) anomalies of GRA (g/cm3) and of log MS, log NGR and log lightness
    caused by the hidden state; ``composition``: (n, 7) fractions of END_MEMBERS;
    ``site``/``expedition``/``hole``: integer codes; ``rank``: 0 soft sediment,
    1 lithified, 2 basement.
    """

    depth: np.ndarray
    gra: np.ndarray
    ms: np.ndarray
    ngr: np.ndarray
    lightness: np.ndarray
    state: np.ndarray
    composition: np.ndarray
    rank: np.ndarray
    site: np.ndarray
    expedition: np.ndarray
    hole: np.ndarray
    latitude: np.ndarray

    @property
    def n(self) -> int:
        return int(self.depth.size)

    @property
    def grain_density(self) -> np.ndarray:
        return self.composition @ GRAIN_DENSITY

    def member(self, name: str) -> np.ndarray:
        return self.composition[:, END_MEMBERS.index(name)]


def drivers(lily, source: np.ndarray, depth: np.ndarray, hole: np.ndarray) -> Drivers:
    """Drivers of samples at ``depth`` (m) of generator boreholes ``source`` (indices into
    ``lily.boreholes``); ``hole`` is the sample's own hole code (extra holes of a site
    share their source borehole's geology)."""
    n = depth.size
    core = np.empty((n, 6))
    smooth = np.empty((n, 6))
    cls = np.empty(n, dtype=np.int64)
    ids = lily.boreholes["Borehole_ID"].to_numpy()
    index_of = {name: i for i, name in enumerate(lily.classes["Principal"])}
    for b in np.unique(source):
        rows = np.flatnonzero(source == b)
        core[rows] = lily.true_values(ids[b], depth[rows])
        smooth[rows] = lily.true_values(ids[b], depth[rows], variability=False)
        cls[rows] = [index_of[name] for name in lily.lithology_at(ids[b], depth[rows])]
    state = np.column_stack(
        [core[:, 0] - smooth[:, 0], *(np.log(core[:, j] / smooth[:, j]) for j in (1, 2, 4))]
    )
    classes = lily.classes
    typical = composition_of_classes(classes["Principal"], classes["Group"])[cls]
    # The state moves the composition: lighter means more carbonate, more gamma more clay,
    # more susceptibility more volcanic matter, lower density more opal.
    logits = np.log(typical + 0.01)
    logits[:, 0] += 2.5 * state[:, 3]
    logits[:, 2] += 2.0 * state[:, 2] - 1.0 * state[:, 3]
    logits[:, 4] += 1.0 * state[:, 1]
    logits[:, 1] -= 8.0 * state[:, 0]
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    bh = lily.boreholes
    exp_codes = np.unique(bh["Exp"].to_numpy(), return_inverse=True)[1]
    return Drivers(
        depth=depth,
        gra=core[:, 0],
        ms=core[:, 1],
        ngr=core[:, 2],
        lightness=core[:, 4],
        state=state,
        composition=weights / weights.sum(axis=1, keepdims=True),
        rank=np.asarray(lily.signatures.rank)[cls],
        site=np.asarray(lily.strat.site_of_borehole)[source],
        expedition=exp_codes[source],
        hole=hole,
        latitude=bh["latitude"].to_numpy()[source],
    )


@dataclass
class Sites:
    """Random per-site parameters and per-expedition settings (fixed by the seed)."""

    parameters: dict[str, np.ndarray]
    settings: dict[str, np.ndarray]
    file_base: np.ndarray  # first file number of each expedition
    offset: np.ndarray  # (n_sites,) standard normal site offset (pore-water salinity)

    @classmethod
    def draw(cls, n_sites: int, n_expeditions: int, rng: np.random.Generator) -> Sites:
        params = {
            k: med * np.exp(sd * rng.standard_normal(n_sites))
            for k, (med, sd) in SITE_PARAMETERS.items()
        }
        settings = {
            k: np.asarray(v)[rng.integers(0, len(v), n_expeditions)]
            for k, v in EXPEDITION_SETTINGS.items()
        }
        base = 10_000 * (1 + rng.permutation(n_expeditions))
        return cls(params, settings, base, rng.standard_normal(n_sites))


class Values:
    """Makes the values of one table's variables from its samples' drivers."""

    def __init__(self, d: Drivers, sites: Sites, rng: np.random.Generator):
        self.d, self.sites, self.rng = d, sites, rng

    # -- small helpers ----------------------------------------------------------------
    def noise(self, sd: float = 1.0) -> np.ndarray:
        return sd * self.rng.standard_normal(self.d.n)

    def scatter(self, values: np.ndarray, rel_sd: float) -> np.ndarray:
        """Values times a log-normal analytical error of relative size ``rel_sd``."""
        return values * np.exp(self.noise(rel_sd))

    def site(self, name: str) -> np.ndarray:
        return self.sites.parameters[name][self.d.site]

    def setting(self, name: str) -> np.ndarray:
        return self.sites.settings[name][self.d.expedition]

    def file_numbers(self) -> np.ndarray:
        """Data-file numbers: counting up through an expedition, hole by hole, down-core."""
        d = self.d
        order = np.lexsort((d.depth, d.hole, d.expedition))
        rank = np.empty(d.n, dtype=np.int64)
        rank[order] = np.arange(d.n)
        first = np.full(int(d.expedition.max()) + 1, d.n)
        np.minimum.at(first, d.expedition, rank)
        return (self.sites.file_base[d.expedition] + rank - first[d.expedition]).astype(float)

    def porosity(self) -> np.ndarray:
        """Fraction from bulk density (GRA plus a sample's own scatter) and grain density."""
        rho_g = self.d.grain_density
        rho_b = np.clip(self.d.gra + self.noise(0.015), 1.03, rho_g - 0.01)
        return np.clip((rho_g - rho_b) / (rho_g - WATER_DENSITY), 0.005, 0.95)

    def chemistry(self, key: str) -> np.ndarray:
        """Bulk concentration of an oxide (wt%) or trace element (ppm) of the composition."""
        return self.d.composition @ np.asarray(CHEMISTRY[key], dtype=float)

    def effective_stress_kpa(self) -> np.ndarray:
        return np.maximum(self.d.gra - WATER_DENSITY, 0.05) * 9.81 * self.d.depth

    def inclination(self) -> np.ndarray:
        """Geocentric axial dipole inclination at the site, flipped by polarity chrons."""
        d = self.d
        gad = np.degrees(np.arctan(2.0 * np.tan(np.radians(d.latitude))))
        chron = np.floor(d.depth / self.site("reversal_depth_m") + d.site * 0.37)
        polarity = np.where(chron % 2 == 0, 1.0, -1.0)
        return np.clip(polarity * gad + self.noise(8.0), -90.0, 90.0)

    def intensity(self) -> np.ndarray:
        """Remanence (A/m): proportional to the magnetic minerals that MS sees."""
        return self.scatter(np.maximum(self.d.ms, 0.5) * 2e-4, 0.35)

    def below_sulfate_zone(self) -> np.ndarray:
        return 1.0 - np.exp(-self.d.depth / self.site("sulfate_depth_m"))
