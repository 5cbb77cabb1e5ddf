"""Where the synthetic boreholes lie: a plausible ocean position and water depth per site.

Each site gets a position inside a box near where its expedition drilled (holes of one
site share it); expeditions without a box get one of a few open-ocean boxes. The boxes
are chosen to lie in the ocean (the tests check every position against a land mask).
"""

from __future__ import annotations

import numpy as np

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
    # Earlier expeditions, whose cores have no colour scan in LILY (synth --partial).
    "320": (2.0, -125.0, 3.0, 6.0, 4200, 4900),  # Pacific Equatorial Age Transect
    "321": (0.0, -115.0, 2.0, 4.0, 3700, 4400),  # Pacific Equatorial Age Transect II
    "323": (57.5, -176.0, 1.0, 2.0, 1000, 3200),  # Bering Sea
    "324": (33.0, 158.0, 1.5, 1.5, 3300, 5000),  # Shatsky Rise
    "327": (47.7, -128.0, 0.3, 0.5, 2600, 2700),  # Juan de Fuca ridge flank
    "329": (-33.0, -152.0, 4.0, 6.0, 3700, 5700),  # South Pacific Gyre
    "330": (-38.0, -168.0, 4.0, 3.0, 1200, 2600),  # Louisville seamounts
    "335": (6.7, -91.9, 0.2, 0.2, 3600, 3700),  # superfast-spread crust, Cocos plate
    "336": (22.8, -46.1, 0.3, 0.3, 4400, 4500),  # North Pond, Mid-Atlantic Ridge flank
    "342": (40.5, -51.0, 1.5, 2.0, 2500, 4500),  # Newfoundland sediment drifts
    "345": (2.3, -101.5, 0.2, 0.2, 4600, 4700),  # Hess Deep
}

#: Open-ocean boxes for expeditions not listed above (chosen by a hash of the name).
FALLBACK_AREAS: tuple[tuple[float, float, float, float, float, float], ...] = (
    (10.0, -150.0, 5.0, 10.0, 4000, 5500),  # central Pacific
    (25.0, -45.0, 5.0, 8.0, 3000, 5000),  # central North Atlantic
    (-20.0, -20.0, 5.0, 8.0, 3000, 5000),  # South Atlantic
    (-15.0, 80.0, 5.0, 8.0, 3500, 5000),  # central Indian Ocean
)


def area_for(expedition: str) -> tuple[float, float, float, float, float, float]:
    """The drilling box of an expedition (a fallback box for one not listed)."""
    if expedition in EXPEDITION_AREAS:
        return EXPEDITION_AREAS[expedition]
    h = sum(ord(ch) * (i + 1) for i, ch in enumerate(expedition))
    return FALLBACK_AREAS[h % len(FALLBACK_AREAS)]


def site_locations(site_exp: list[str], rng: np.random.Generator) -> np.ndarray:
    """(n_sites, 3) for sites of the given expeditions: latitude, longitude, water depth
    (m below sea level)."""
    out = np.empty((len(site_exp), 3))
    u = rng.random((len(site_exp), 3))
    for i, exp in enumerate(site_exp):
        lat, lon, dlat, dlon, wmin, wmax = area_for(exp)
        out[i, 0] = lat + (2 * u[i, 0] - 1) * dlat
        lon_i = lon + (2 * u[i, 1] - 1) * dlon
        out[i, 1] = (lon_i + 180.0) % 360.0 - 180.0
        out[i, 2] = wmin + u[i, 2] * (wmax - wmin)
    return out
