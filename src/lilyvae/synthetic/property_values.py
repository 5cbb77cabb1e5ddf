"""SYNTHETIC values of the 267 LILY property variables, table by table.

Each ``_<table>`` function maps a table's variable names to (values, kind) from the
samples' :class:`~lilyvae.synthetic.property_geology.Values`. ``kind`` says what the
variable follows (see :mod:`lilyvae.synthetic.property_geology`): ``lithology``,
``depth``, ``mixed`` (both, or a site factor times one), ``site`` (constant within a
borehole) or ``noise``. Chemistry measured on several emission lines shares one true
concentration; each line has its own small fixed bias and its own analytical scatter.
"""

from __future__ import annotations

import zlib

import numpy as np

from lilyvae.errors import LilyVAEError
from lilyvae.synthetic.property_geology import (
    GRAIN_CONDUCTIVITY,
    WATER_CONDUCTIVITY,
    WATER_DENSITY,
    Values,
)

Column = tuple[np.ndarray, str]
DEMAG_STEPS = np.array([0.0, 5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100])


def element_of(name: str) -> str:
    """``"Fe2O3t (wt%) 239.6 nm "`` -> ``"Fe2O3"``; ``"Ca 315.9 nm ICPAES "`` -> ``"Ca"``."""
    key = name.strip().split(" ")[0]
    return "Fe2O3" if key == "Fe2O3t" else key


def line_bias(name: str) -> float:
    """A fixed calibration bias of one emission line (a few per cent), from its name."""
    return float(np.random.default_rng(zlib.crc32(name.encode())).normal(0.0, 0.03))


def _shear_kpa(v: Values) -> np.ndarray:
    """Undrained shear strength: a site's ratio times the effective overburden stress."""
    return v.scatter(v.site("shear_ratio") * v.effective_stress_kpa() + 1.0, 0.25)


def _avs(v: Values, names) -> dict[str, Column]:
    su = _shear_kpa(v)
    return {
        "Vane shear strength (kN/m^2)": (su, "depth"),
        "Max torque angle (deg)": (15 + 30 * (1 - np.exp(-su / 50)) + v.noise(6), "depth"),
        "Vane rotation rate (deg/s)": (v.setting("vane_rate"), "site"),
    }


def _tor(v: Values, names) -> dict[str, Column]:
    return {
        "Torvane shear strength (kg/cm^2)": (v.scatter(_shear_kpa(v) / 98.07, 0.3), "depth"),
        "Adapter foot identifier": (v.setting("torvane_foot"), "site"),
    }


def _pen(v: Values, names) -> dict[str, Column]:
    strength = v.scatter(2.0 * _shear_kpa(v) / 98.07, 0.35)
    return {"Compressional strength (kg/cm^2)": (strength, "depth")}


def _carb(v: Values, names) -> dict[str, Column]:
    caco3 = np.clip(100 * v.d.member("carbonate") + v.noise(1.0), 0.0, 100.0)
    inorganic = 0.12 * caco3
    toc = v.scatter(v.site("organic_carbon_wt") * (0.2 + v.d.member("clay")), 0.4)
    total = inorganic + toc
    hydrogen = 0.15 + v.d.member("opal") + 0.5 * v.d.member("clay") + 0.1 * toc + v.noise(0.05)
    return {
        "Calcium carbonate (wt%)": (caco3, "lithology"),
        "Inorganic carbon (wt%)": (inorganic, "lithology"),
        "Total carbon (wt%)": (total, "lithology"),
        "Organic carbon (wt%) by difference (CHNS-COUL)": (
            total - inorganic + v.noise(0.05),
            "mixed",
        ),
        "Nitrogen (wt%)": (v.scatter(toc / 9 + 0.01, 0.2), "mixed"),
        "Hydrogen (wt%)": (np.maximum(hydrogen, 0.01), "lithology"),
        "Sulfur (wt%)": (v.scatter(0.8 * v.site("organic_carbon_wt"), 0.9), "mixed"),
    }


#: Hydrocarbons of the headspace gas as fractions of ethane (methane / the C1/C2 ratio).
_GAS_FRACTIONS = {
    "Ethene": 0.1,
    "Propane": 0.3,
    "Propene": 0.015,
    "Propene+Propane": 0.315,
    "iso-Butane": 0.08,
    "n-Butane": 0.06,
    "iso-pentane": 0.03,
    "n-pentane": 0.02,
    "iso-hexane": 0.01,
    "n-hexane": 0.008,
}


def _ge(v: Values, names) -> dict[str, Column]:
    methane = 2.0 + v.scatter(v.site("methane_ppmv") * v.below_sulfate_zone() ** 2, 1.0)
    ratio = np.exp(9.0 - v.d.depth / 150.0 + v.noise(0.4))
    ethane = methane / ratio
    out: dict[str, Column] = {"C1/C2 ratio GC3": (ratio, "depth")}
    for name in names:
        gas = name.split(" (")[0]
        if gas == "Methane":
            out[name] = (v.scatter(methane, 0.05), "depth")
        elif gas == "Ethane":
            out[name] = (v.scatter(ethane, 0.1), "depth")
        elif gas in _GAS_FRACTIONS:
            out[name] = (v.scatter(_GAS_FRACTIONS[gas] * ethane, 0.6), "depth")
        elif gas == "Carbon Dioxide":
            out[name] = (v.scatter(np.full(v.d.n, 2000.0), 0.8), "noise")
    return out


def _icp(v: Values, names) -> dict[str, Column]:
    out = {}
    for name in names:
        true = v.chemistry(element_of(name))
        out[name] = (v.scatter(true * (1.0 + line_bias(name)), 0.04), "lithology")
    return out


def _pore_water(v: Values) -> dict[str, tuple[np.ndarray, str]]:
    """True pore-water concentrations (mM, uM, or none) and what drives each."""
    d = v.d
    below = v.below_sulfate_zone()
    alkalinity = 2.5 + v.site("alkalinity_mM") * below
    chloride = 556.0 + 12.0 * v.sites.offset[d.site] + 0.01 * d.depth
    magnesium = 10.0 + 43.0 * np.exp(-d.depth / v.site("magnesium_depth_m"))
    return {
        "Sulfate": (28.5 * (1.0 - below), "depth"),
        "Alkalinity": (alkalinity, "depth"),
        "Ammonium": (30.0 + 80.0 * v.site("alkalinity_mM") * below, "depth"),
        "Phosphate": (3.0 + 0.5 * alkalinity * np.exp(-d.depth / 300.0), "depth"),
        "Chloride": (chloride, "site"),
        "Bromide": (0.0015 * chloride * (1 + 0.004 * alkalinity), "site"),
        "Na": (0.86 * chloride, "site"),
        "Salinity": (35.0 * chloride / 556.0, "site"),
        "Mg": (magnesium, "depth"),
        "Ca": (10.5 + 0.6 * (53.0 - magnesium) + 15.0 * d.member("carbonate"), "mixed"),
        "K": (11.5 - 0.003 * d.depth + 2.0 * d.member("clay"), "mixed"),
        "Li": (26.0 + 0.15 * d.depth, "depth"),
        "B": (420.0 + 0.5 * d.depth * (1.0 + d.member("clay")), "depth"),
        "Sr": (90.0 + 0.6 * d.depth * (0.2 + d.member("carbonate")), "mixed"),
        "Si": (150.0 + 900.0 * d.member("opal") + 100.0 * d.member("clay"), "lithology"),
        "Silica": (150.0 + 900.0 * d.member("opal") + 100.0 * d.member("clay"), "lithology"),
        "Ba": (0.5 + 30.0 * below**4, "depth"),
        "Fe": (np.full(d.n, 5.0), "noise"),
        "Mn": (1.0 + 10.0 * np.exp(-d.depth / 50.0), "depth"),
        "pH": (np.full(d.n, 7.6), "noise"),
    }


def _iw(v: Values, names) -> dict[str, Column]:
    truth = _pore_water(v)
    out = {}
    for name in names:
        true, kind = truth[element_of(name)]
        if kind == "noise":
            values = v.scatter(true, 1.0) if element_of(name) == "Fe" else true + v.noise(0.15)
        else:
            values = v.scatter(true * (1.0 + line_bias(name)), 0.03)
        out[name] = (values, kind)
    return out


def _remanence(v: Values, step: np.ndarray) -> dict[str, np.ndarray]:
    """Intensity after demagnetisation, inclination, and a random (unoriented) declination."""
    return {
        "J": v.intensity() * np.exp(-step / 60.0),
        "I": v.inclination(),
        "D": v.rng.uniform(0.0, 360.0, v.d.n),
    }


def _components(r: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    inc, dec = np.radians(r["I"]), np.radians(r["D"])
    return (
        r["J"] * np.cos(inc) * np.cos(dec),
        r["J"] * np.cos(inc) * np.sin(dec),
        r["J"] * np.sin(inc),
    )


def _jr6a(v: Values, names) -> dict[str, Column]:
    step = v.rng.choice(DEMAG_STEPS, v.d.n)
    r = _remanence(v, step)
    x, y, z = _components(r)
    geographic = np.where(r["I"] >= 0, 0.0, 180.0) + v.noise(15.0)
    out: dict[str, Column] = {
        "Total intensity (A/m)": (r["J"], "lithology"),
        "Inclination (deg)": (r["I"], "mixed"),
        "Declination (deg)": (r["D"], "noise"),
        "Inclination (geographic) (deg)": (np.clip(r["I"] + v.noise(3.0), -90, 90), "mixed"),
        "Declination (geographic) (deg)": (geographic % 360.0, "mixed"),
        "Intensity X (A/m)": (x, "noise"),
        "Intensity Y (A/m)": (y, "noise"),
        "Intensity Z (A/m)": (z, "mixed"),
        "Azimuth": (v.rng.uniform(0.0, 360.0, v.d.n), "noise"),
        "Dip": (v.rng.choice([0.0, 90.0], v.d.n), "noise"),
        "Treatment value (mT or deg-C)": (step, "noise"),
        "Sample volume (cm^3)": (v.setting("cube_volume"), "site"),
    }
    files = v.file_numbers()
    for k, suffix in enumerate((".csv", ".dat", ".jr6", ".jr6odp", ".txt")):
        out[f"Raw data {suffix} file"] = (files + 50_000 * k, "site")
    return out


def _srmd(v: Values, names) -> dict[str, Column]:
    step = v.rng.choice(DEMAG_STEPS, v.d.n)
    r = _remanence(v, step)
    volume = v.setting("cube_volume")
    x, y, z = (c * volume * 1e-6 for c in _components(r))
    return {
        "Declination raw (deg)": (r["D"], "noise"),
        "Declination background & drift corrected (deg)": ((r["D"] + v.noise(1.0)) % 360, "noise"),
        "Inclination raw (deg)": (r["I"], "mixed"),
        "Inclination background & drift corrected (deg)": (r["I"] + v.noise(0.5), "mixed"),
        "Intensity raw (A/m)": (r["J"], "lithology"),
        "Intensity background & drift corrected (A/m)": (r["J"] * 0.99, "lithology"),
        "Magnetic moment x (Am^2)": (x, "noise"),
        "Magnetic moment y (Am^2)": (y, "noise"),
        "Magnetic moment z (Am^2)": (z, "mixed"),
        "Demag level (mT)": (step, "noise"),
        "Treatment Value (mT or deg-C)": (step, "noise"),
        "Sample length (cm)": (v.setting("sample_length"), "site"),
        "Sample volume (cm^3)": (volume, "site"),
        "Raw data": (v.file_numbers(), "site"),
    }


def _kappa(v: Values, names) -> dict[str, Column]:
    mean = v.scatter(np.maximum(v.d.ms, 0.5) * 1e-5, 0.1)
    aniso = 0.01 + 0.04 * (1 - np.exp(-v.d.depth / 200.0)) + np.abs(v.noise(0.01))
    files = v.file_numbers()
    out: dict[str, Column] = {
        "Bulk susceptibility (SI)": (v.scatter(mean, 0.05), "lithology"),
        "Mean susceptibility (SI)": (mean, "lithology"),
        "Kmax susc (SI)": (mean * (1 + aniso), "lithology"),
        "Kint susc (SI)": (mean * (1 + v.noise(0.002)), "lithology"),
        "Kmin susc (SI)": (mean * (1 - aniso), "lithology"),
        "Kmin inc (deg)": (85.0 - np.abs(v.noise(5.0)), "noise"),
        "Holder susceptibility (SI)": (v.setting("kappa_holder") + v.noise(2e-8), "site"),
        "Measurement field (A/m)": (v.setting("kappa_field"), "site"),
        "Original binary ASMAN file": (files, "site"),
        "Original data ASMAN file": (files + 50_000, "site"),
        "Sample volume (cc)": (v.setting("cube_volume"), "site"),
    }
    for axis in ("Kmax", "Kint", "Kmin"):
        out[f"{axis} dec (deg)"] = (v.rng.uniform(0.0, 360.0, v.d.n), "noise")
    for axis in ("Kmax", "Kint"):
        out[f"{axis} inc (deg)"] = (np.abs(v.noise(5.0)), "noise")
    return out


def _mad(v: Values, names) -> dict[str, Column]:
    phi = v.porosity()
    rho_g = v.d.grain_density
    rho_b = rho_g - phi * (rho_g - WATER_DENSITY)
    volume = v.rng.uniform(6.0, 14.0, v.d.n)
    vol_water = phi * volume
    mass_water = vol_water * WATER_DENSITY
    vol_solids = (1 - phi) * volume
    mass_solids = vol_solids * rho_g
    mass_salt = mass_water * 0.035 / 0.965
    return {
        "Bulk density (g/cm^3)": (rho_b, "lithology"),
        "Dry density (g/cm^3)": (mass_solids / volume, "lithology"),
        "Grain density (g/cm^3)": (rho_g, "lithology"),
        "Porosity (vol%)": (100 * phi, "lithology"),
        "Void ratio": (phi / (1 - phi), "lithology"),
        "Moisture wet (wt%)": (100 * mass_water / (rho_b * volume), "lithology"),
        "Moisture dry (wt%)": (100 * mass_water / mass_solids, "lithology"),
        "Vol wet sample (cm^3)": (volume, "noise"),
        "Mass wet sample (g)": (rho_b * volume, "mixed"),
        "Vol porewater (cm^3)": (vol_water, "mixed"),
        "Mass porewater (g)": (mass_water, "mixed"),
        "Vol solids (cm^3)": (vol_solids, "mixed"),
        "Mass solids (g)": (mass_solids, "mixed"),
        "Mass salt (g)": (mass_salt, "mixed"),
        "Vol salt (cm^3)": (mass_salt / 2.22, "mixed"),
        "Mass dried sample (g)": (mass_solids + mass_salt, "mixed"),
        "Vol dried sample (cm^3)": (vol_solids + mass_salt / 2.22, "mixed"),
        "Container number": (v.rng.integers(1, 600, v.d.n).astype(float), "noise"),
    }


def _velocity(v: Values) -> np.ndarray:
    """P-wave velocity (m/s): rises with bulk density and with lithification."""
    stiff = np.maximum(v.d.gra - 1.25, 0.0) ** 1.5
    return v.scatter(1480.0 + 2400.0 * stiff + 500.0 * v.d.rank, 0.015)


def _p_wave(v: Values, axes: tuple[str, ...], caliper: str) -> dict[str, Column]:
    vp = _velocity(v)
    separation = v.setting(caliper) + v.noise(0.4)
    out: dict[str, Column] = {"Caliper separation (mm)": (separation, "site")}
    travel = 1000.0 * separation / vp + 1.0
    out["Sonic traveltime (microsecond)"] = (travel, "mixed")
    out["Sonic traveltime [manual] (microsecond)"] = (v.scatter(travel, 0.02), "mixed")
    for k, axis in enumerate(axes):
        axis_vp = vp * (1.0 + 0.02 * k)
        out[f"P-wave velocity {axis} (m/s)"] = (axis_vp, "lithology")
        out[f"P-wave velocity {axis} [manual] (m/s)"] = (v.scatter(axis_vp, 0.02), "lithology")
    return out


def _pwc(v: Values, names) -> dict[str, Column]:
    return _p_wave(v, ("x",), "caliper_x")


def _pwb(v: Values, names) -> dict[str, Column]:
    return _p_wave(v, ("y", "z"), "caliper_bayonet")


def _tcon(v: Values, names) -> dict[str, Column]:
    phi = v.porosity()
    grain = np.exp(v.d.composition @ np.log(GRAIN_CONDUCTIVITY))
    mean = v.scatter(grain ** (1 - phi) * WATER_CONDUCTIVITY**phi, 0.04)
    return {
        "Thermal conductivity mean (W/(m*K))": (mean, "lithology"),
        "Thermal conductivity observations (W/(m*K))": (v.scatter(mean, 0.02), "lithology"),
        "Calculated TCON value (W/(m*K))": (v.scatter(mean, 0.01), "lithology"),
        "Conductivity std dev (W/(m*K))": (np.abs(v.noise(0.02)) * mean, "noise"),
        "Measurements (no)": (v.rng.integers(1, 6, v.d.n).astype(float), "noise"),
    }


TABLE_VALUES = {
    "AVS": _avs,
    "CARB": _carb,
    "GE": _ge,
    "ICP": _icp,
    "IW": _iw,
    "JR6A": _jr6a,
    "KAPPA": _kappa,
    "MAD": _mad,
    "PEN": _pen,
    "PWB": _pwb,
    "PWC": _pwc,
    "SRMD": _srmd,
    "TCON": _tcon,
    "TOR": _tor,
}


def table_values(table: str, v: Values, names: list[str]) -> dict[str, Column]:
    """Values and kind of every named variable of one table (all samples)."""
    made = TABLE_VALUES[table](v, names)
    missing = [n for n in names if n not in made]
    if missing:
        raise LilyVAEError(f"synthetic {table}: no recipe for variable(s) {missing}")
    return {n: made[n] for n in names}
