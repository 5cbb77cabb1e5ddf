"""Facies: what makes generator version 3's lithology groups non-linear in the measurements.

On real cores gradient-boosted trees on the six measurements beat a linear model by
about a factor of two (0.42 against about 0.2 balanced accuracy on the 14 groups of
held-out boreholes). Version 2 blurred every lithology's signature but kept it one
displaced cloud per lithology, which a linear model follows as well as a tree. Version
3 gives most groups several *facies*, each a displacement of the group's lithologies'
signatures that geology gives them, placed so that a group's facies lie on opposite
sides of the common sediments:

- a volcaniclastic bed is either felsic ash (pale, radioactive, hardly magnetic, light
  glass) or mafic ash and scoria (dark, very magnetic, barely radioactive);
- a sand is either quartz and shell sand (pale, not magnetic, not radioactive) or lithic
  and volcanic sand (dark, magnetic, radioactive);
- biogenic silica is either a pale diatom or radiolarian ooze, or a dark diatom mud,
  both of low density;
- a basalt is either fresh and massive (dense, very magnetic) or altered and broken
  (rubble in the liner reads light, altered glass takes up potassium);

and so on (:data:`GROUP_FACIES`). Each group's six values then overlap the common
sediments' one by one, while their joint positions differ: a linear softmax can only
give a class a convex region, so it cannot claim both facies of a group without the
carbonate or clay between them, and it gives such groups up; a tree cuts out each facies
with a few thresholds. Facies differ in spread too (a tight facies inside a wide one,
which a linear boundary cannot enclose either).

Each bed shows one facies of its lithology's group, drawn by the facies' shares; a mixed
bed blends two beds' facies as in version 2, but only the background sediments
(carbonate and clay, most of the rows) blend freely: the other groups' beds are event
beds with sharp contacts, which take in little of their partner
(:data:`EVENT_BED_BLEND`), so a minority group's facies stay where geology puts them
while the majority stays wide. All of version 3's draws come from a child
stream of the seed that versions 1 and 2 never used, so their tables stay what they were.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Version 3's blur, as version 2's constants of :mod:`lilyvae.synthetic.overlap` are:
#: the factors on the variability field (each facies has its own factor on top) and on
#: the site and hole offsets, the share of mixed beds and their partner's weight, and
#: each borehole's depth drift per 100 m (three quarters of version 2's: with the
#: drift, a tight facies of one borehole would overlap the others' common sediments).
#: Lightness has 0.6: with the common sediments' spread of 2, more would put the mean
#: colour above the real one (63.5).
SPREAD = {
    "variability": {"gra": 1.0, "ms": 1.0, "ngr": 1.0, "light": 0.6, "hue": 1.0},
    "offsets": 1.4,
}
MIXED_BED_SHARE = 0.5
MIXED_WEIGHT = (0.1, 0.5)
DEPTH_TREND_SD = {"gra": 0.0225, "ms": 0.375, "ngr": 0.075, "light": 0.075, "hue": 0.015}
#: The background sediments, most of every borehole: they grade into one another (a bed
#: of theirs blends in its partner with the weight drawn). Every other group's beds are
#: event beds with sharp contacts (an ash fall, a turbidite sand, a lava flow, a debris
#: flow): the partner's weight in their blend is multiplied by :data:`EVENT_BED_BLEND`,
#: so the facies that define a minority group keep their own values.
BACKGROUND_GROUPS = ("Carbonate", "Clay/Mud")
EVENT_BED_BLEND = 0.25

#: The six displaced values of a facies, in the measurements' channel order: GRA
#: (g/cm3) and the natural logs of MS, NGR, lightness, and the R and B hue offsets.
FACIES_FIELDS = ("gra", "ms", "ngr", "light", "hue_r", "hue_b")


@dataclass(frozen=True)
class Facies:
    """One appearance of a lithology group: its share of the group's beds, the
    displacement of its six values (:data:`FACIES_FIELDS`) from the lithology's
    signature, and the factor on its variability."""

    name: str
    share: float
    shift: tuple[float, float, float, float, float, float]
    spread: float = 1.0


#: The facies of each lithology group (a group not named has one facies: its signature).
#: The common sediments are wide (a spread of 2); the facies of the others are tight
#: (0.25-0.35) but lie on both sides of them, or wider (0.65-0.9) where a rock is a
#: jumble of others.
GROUP_FACIES: dict[str, tuple[Facies, ...]] = {
    "Carbonate": (
        Facies("ooze and chalk", 0.75, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 2.0),
        Facies("clay-rich carbonate", 0.25, (0.0, 0.8, 0.9, -0.3, 0.0, 0.0), 2.0),
    ),
    "Clay/Mud": (
        Facies("clay and mud", 0.75, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 2.0),
        Facies("calcareous clay", 0.25, (0.0, -0.6, -0.6, 0.25, 0.0, 0.0), 2.0),
    ),
    "Biogenic Silica": (
        Facies("diatom and radiolarian ooze", 0.5, (-0.05, -0.3, -0.2, 0.15, 0.0, 0.02), 0.25),
        Facies("diatom mud", 0.5, (0.0, 1.5, 1.6, -0.6, -0.02, 0.0), 0.25),
    ),
    "Sand": (
        Facies("packed quartz and shell sand", 0.5, (0.1, -2.0, -0.9, 0.35, 0.02, -0.02), 0.25),
        Facies("loose lithic and volcanic sand", 0.5, (-0.35, 1.3, 0.6, -0.5, -0.02, 0.02), 0.25),
    ),
    "Silt": (
        Facies("quartz silt", 0.5, (-0.1, -1.2, -0.7, 0.3, 0.0, 0.0), 0.25),
        Facies("clayey silt", 0.5, (0.0, 0.6, 0.7, -0.35, 0.0, 0.0), 0.25),
    ),
    "Volcaniclastic": (
        Facies("felsic ash", 0.5, (-0.45, -2.6, 1.1, 0.75, 0.0, 0.03), 0.25),
        Facies("mafic ash and scoria", 0.5, (0.1, 0.8, -0.9, -0.25, 0.0, 0.0), 0.25),
    ),
    "Mafic Igneous": (
        Facies("fresh massive basalt", 0.3, (0.1, 0.5, -0.3, -0.1, 0.0, 0.0), 0.65),
        Facies("altered, broken basalt", 0.7, (-0.75, -2.3, 1.0, 0.25, 0.02, 0.02), 0.35),
    ),
    "Conglomerate/Breccia": (
        Facies("cemented breccia and conglomerate", 0.5, (0.15, 0.5, -0.4, -0.2, 0.0, 0.0), 0.65),
        Facies("loose gravel", 0.5, (-0.5, -1.5, 0.4, 0.2, 0.0, 0.0), 0.65),
    ),
    "Intermediate/Felsic Igneous": (
        Facies("fresh felsic rock", 0.5, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.35),
        Facies("altered, broken felsic rock", 0.5, (-0.6, -2.0, 0.3, 0.2, 0.02, 0.0), 0.35),
    ),
    "Metamorphic": (
        Facies("schist and gneiss", 0.5, (0.0, 0.3, 0.3, -0.2, 0.0, 0.0), 0.35),
        Facies("marble and quartzite", 0.5, (0.0, -2.5, -1.8, 0.6, 0.0, 0.0), 0.35),
    ),
    "Evaporite": (
        Facies("gypsum and anhydrite", 0.5, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.35),
        Facies("halite and potash with mud", 0.5, (-0.4, 1.5, 1.5, -0.8, 0.0, 0.0), 0.35),
    ),
    "Ultramafic": (
        Facies("serpentinite", 0.5, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.35),
        Facies("altered, broken ultramafic rock", 0.5, (-0.5, -1.5, 0.6, 0.4, 0.0, 0.0), 0.35),
    ),
    "Diamict": (Facies("diamict", 1.0, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.9),),
    "Other": (Facies("other", 1.0, (0.0, 0.0, 0.0, 0.0, 0.0, 0.0), 0.9),),
}


@dataclass(frozen=True)
class FaciesTable:
    """The facies of every lithology, in class order: (C, F) cumulative shares and
    spreads, and (C, F, 6) displacements; F is the most facies of any group."""

    cumulative_share: np.ndarray
    shift: np.ndarray
    spread: np.ndarray
    blend: np.ndarray  # (C,) factor on the partner's weight in a mixed bed of each class

    @classmethod
    def of_groups(cls, groups) -> FaciesTable:
        plain = (Facies("", 1.0, (0.0,) * 6),)
        per_class = [GROUP_FACIES.get(g, plain) for g in groups]
        n_faces = max(len(f) for f in per_class)
        share = np.zeros((len(per_class), n_faces))
        shift = np.zeros((len(per_class), n_faces, len(FACIES_FIELDS)))
        spread = np.ones((len(per_class), n_faces))
        for i, facies in enumerate(per_class):
            for j, face in enumerate(facies):
                share[i, j] = face.share
                shift[i, j] = face.shift
                spread[i, j] = face.spread
        cumulative = np.cumsum(share, axis=1) / share.sum(axis=1, keepdims=True)
        blend = np.array([1.0 if g in BACKGROUND_GROUPS else EVENT_BED_BLEND for g in groups])
        return cls(cumulative, shift, spread, blend)

    def draw(self, cls_of_bed: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(n_beds,) the facies each bed of classes ``cls_of_bed`` shows."""
        u = rng.random(cls_of_bed.size)
        below = self.cumulative_share[cls_of_bed] <= u[:, None]
        return np.minimum(below.sum(axis=1), self.shift.shape[1] - 1)


def facies_parameters() -> dict:
    """Version 3's parameters, for the sidecar."""
    return {
        "spread": {"variability": dict(SPREAD["variability"]), "offsets": SPREAD["offsets"]},
        "mixed_bed_share": MIXED_BED_SHARE,
        "mixed_weight": list(MIXED_WEIGHT),
        "depth_trend_sd_per_100m": dict(DEPTH_TREND_SD),
        "background_groups": list(BACKGROUND_GROUPS),
        "event_bed_blend": EVENT_BED_BLEND,
        "facies_fields": list(FACIES_FIELDS),
        "group_facies": {
            group: [
                {"name": f.name, "share": f.share, "shift": list(f.shift), "spread": f.spread}
                for f in facies
            ]
            for group, facies in GROUP_FACIES.items()
        },
    }
