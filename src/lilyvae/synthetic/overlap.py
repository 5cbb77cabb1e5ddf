"""Overlap between lithologies: what makes generator version 2 as hard as the real table.

Version 1 of the generator gave every lithology a signature far from its neighbours', so
a linear classifier on the six measurements separated the 14 lithology groups of held-out
boreholes far better (about 0.6 balanced accuracy) than anything does on the real cores
(0.42 for gradient-boosted trees, about 0.2 for a linear model). Version 2 keeps the
stratigraphy and the signatures and adds three things that real cores have:

- more spread within a lithology: a larger geological variability and larger site and
  hole offsets (the same draws as version 1, scaled by :data:`SPREAD`);
- beds of mixed lithology: a share of the beds (:data:`MIXED_BED_SHARE`) look like a
  blend of their own lithology and another one of the same borehole (a described
  "clay" with a good part of silt in it), with a blend weight drawn per bed;
- lithologies of two faces: every lithology has a second, fixed appearance (a
  displacement of its signature, :data:`SECOND_FACE_SHIFT`), and each bed shows one
  face or the other (a "clay" may be a dark, magnetic one or a pale, carbonate-rich
  one), so a group occupies several separate regions of the six values, which a linear
  boundary cannot follow but a tree can;
- depth trends shared by every lithology of a borehole: a random linear drift of each of
  the six values with depth (diagenesis, a changing source of sediment), which moves all
  beds of a borehole together and so blurs the lithology signal across boreholes.

Its draws come from a child stream of the seed that version 1 never used, so version 1
tables stay what they were byte for byte. Version 3 (the default) uses the same
machinery with its own settings and, instead of the random second face, the designed
facies of :mod:`lilyvae.synthetic.facies`, drawn from a stream of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lilyvae.synthetic import facies

#: The generator versions :class:`~lilyvae.synthetic.measurements.SyntheticLily` knows,
#: and the default (the one whose baselines' scores sit near the real data's, boosted
#: trees above a linear model).
GENERATOR_VERSIONS = (1, 2, 3)
DEFAULT_GENERATOR_VERSION = 3

#: Factor on the variability field (per value; NGR's stays, or its two real peaks, clay
#: and carbonate, would merge) and on the site and hole offsets.
SPREAD = {
    "variability": {"gra": 1.6, "ms": 1.6, "ngr": 1.0, "light": 1.2, "hue": 1.6},
    "offsets": 1.6,
}
#: Share of beds that blend their lithology with another of the same borehole, and the
#: range of the other lithology's weight in the blend.
MIXED_BED_SHARE = 0.5
MIXED_WEIGHT = (0.2, 0.6)
#: Scale of each lithology's fixed second face: a shift of its six values (GRA in g/cm3,
#: the others in natural log), of random sign per lithology and value, drawn from
#: :data:`SECOND_FACE_SEED` (like the signatures, independent of the table's seed), and
#: the share of beds that show it.
SECOND_FACE_SHIFT = {"gra": 0.1, "ms": 1.6, "ngr": 0.3, "light": 0.2, "hue": 0.06}
SECOND_FACE_SHARE = 0.5
SECOND_FACE_SEED = 20_261_206
#: Standard deviation, per 100 m of depth, of each borehole's linear drift of the six
#: values (GRA in g/cm3, the others in natural log), shared by all of its lithologies.
DEPTH_TREND_SD = {"gra": 0.03, "ms": 0.5, "ngr": 0.1, "light": 0.1, "hue": 0.02}


@dataclass(frozen=True)
class Settings:
    """A version's blur: factors on the variability field (per value) and on the site
    and hole offsets, the share of mixed beds and the range of their partner's weight,
    and the standard deviation of each borehole's depth drift per 100 m."""

    variability: dict
    offsets: float
    mixed_share: float
    mixed_weight: tuple[float, float]
    trend_sd: dict


SETTINGS = {
    2: Settings(
        SPREAD["variability"], SPREAD["offsets"], MIXED_BED_SHARE, MIXED_WEIGHT, DEPTH_TREND_SD
    ),
    3: Settings(
        facies.SPREAD["variability"],
        facies.SPREAD["offsets"],
        facies.MIXED_BED_SHARE,
        facies.MIXED_WEIGHT,
        facies.DEPTH_TREND_SD,
    ),
}


@dataclass(frozen=True)
class Overlap:
    """A version's draws for one table: each bed's partner lithology and blend weight,
    each borehole's depth drift per 100 m (B, 6), and the face (facies) each bed and its
    partner show, with each lithology's faces (C, F, 6) and, in version 3, their spread
    (C, F; None: all 1)."""

    partner: np.ndarray  # (n_beds,) class index of the blended-in lithology
    weight: np.ndarray  # (n_beds,) its weight, 0 for beds that are not mixed
    trend: np.ndarray  # (n_boreholes, 6)
    face: np.ndarray  # (n_beds,) the face the bed shows (0: the signature, in version 2)
    partner_face: np.ndarray  # (n_beds,) the same for the blended-in lithology
    shift: np.ndarray  # (n_classes, n_faces, 6) what each face adds to the signature
    spread: np.ndarray | None = None  # (n_classes, n_faces) factor on the variability

    def bed_shift(self, bed: np.ndarray, cls: np.ndarray) -> np.ndarray:
        """(n, 6): what the faces add to the values of beds ``bed`` of classes ``cls``."""
        w = self.weight[bed][:, None]
        own = self.shift[cls, self.face[bed]]
        other = self.shift[self.partner[bed], self.partner_face[bed]]
        return (1.0 - w) * own + w * other

    def bed_spread(self, bed: np.ndarray, cls: np.ndarray, partner: bool = False):
        """(n, 1): the factor on the variability of beds ``bed`` (their own lithology
        ``cls``, or with ``partner`` the blended-in one's), or None in version 2."""
        if self.spread is None:
            return None
        face = self.partner_face[bed] if partner else self.face[bed]
        return self.spread[cls, face][:, None]

    @classmethod
    def draw(
        cls, strat, groups, channels: tuple[str, ...], rng: np.random.Generator, version: int
    ) -> Overlap:
        """Draw the partners, weights, faces and drifts of ``strat``'s beds and boreholes
        (``groups``: each lithology's group) for generator ``version`` (2 or 3)."""
        settings = SETTINGS[version]
        n_classes = len(groups)
        n_beds = strat.bed_class.size
        n_b = strat.bed_ptr.size - 1
        mixed = rng.random(n_beds) < settings.mixed_share
        weight = np.where(mixed, rng.uniform(*settings.mixed_weight, n_beds), 0.0)
        # The partner is another bed of the same borehole (itself where the borehole has
        # one bed only: then the blend changes nothing).
        bed_bh = np.repeat(np.arange(n_b), np.diff(strat.bed_ptr))
        n_in = np.diff(strat.bed_ptr)[bed_bh]
        pick = strat.bed_ptr[bed_bh] + np.floor(rng.random(n_beds) * n_in).astype(np.int64)
        partner = strat.bed_class[pick]
        sd = np.array([settings.trend_sd[k] for k in channels])
        trend = rng.standard_normal((n_b, len(channels))) * sd
        if version >= 3:
            table = facies.FaciesTable.of_groups(groups)
            face = table.draw(strat.bed_class, rng)
            partner_face = table.draw(partner, rng)
            weight = weight * table.blend[strat.bed_class]
            return cls(partner, weight, trend, face, partner_face, table.shift, table.spread)
        face = (rng.random(n_beds) < SECOND_FACE_SHARE).astype(np.int64)
        partner_face = (rng.random(n_beds) < SECOND_FACE_SHARE).astype(np.int64)
        fixed = np.random.default_rng(SECOND_FACE_SEED)
        sign = np.where(fixed.random((n_classes, len(channels))) < 0.5, -1.0, 1.0)
        size = fixed.uniform(0.5, 1.0, (n_classes, len(channels)))
        second = sign * size * np.array([SECOND_FACE_SHIFT[k] for k in channels])
        shift = np.stack([np.zeros_like(second), second], axis=1)
        return cls(partner, weight, trend, face, partner_face, shift)


def overlap_parameters(version: int = 2) -> dict:
    """A version's parameters (2 or 3), for the sidecar."""
    if version >= 3:
        return facies.facies_parameters()
    return {
        "spread": {"variability": dict(SPREAD["variability"]), "offsets": SPREAD["offsets"]},
        "mixed_bed_share": MIXED_BED_SHARE,
        "mixed_weight": list(MIXED_WEIGHT),
        "second_face_shift": dict(SECOND_FACE_SHIFT),
        "second_face_share": SECOND_FACE_SHARE,
        "second_face_seed": SECOND_FACE_SEED,
        "depth_trend_sd_per_100m": dict(DEPTH_TREND_SD),
    }


def check_generator_version(version) -> int:
    """``version`` as an int, or a LilyVAEError naming the versions there are."""
    from lilyvae.errors import LilyVAEError

    if isinstance(version, bool) or version not in GENERATOR_VERSIONS:
        known = ", ".join(str(v) for v in GENERATOR_VERSIONS)
        raise LilyVAEError(f"generator version must be one of {known}, not {version!r}")
    return int(version)
