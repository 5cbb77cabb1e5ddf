"""Measurements: :class:`SyntheticLily`, the synthetic data set's true values and its table.

The noiseless "true" value at any depth of a borehole (:meth:`SyntheticLily.true_values`)
is its lithology's signature (:mod:`lilyvae.synthetic.signatures`) plus a compaction
trend (bulk density rises with depth), site and hole offsets, and a smooth geological
variability (an AR(1) field over the 0.2 m bins, interpolated between bin centres). A
table row is the true value at the bin centre plus measurement noise (white noise,
heavy-tailed susceptibility noise, rare disturbed-core and drift artefacts); colours
saturate smoothly below 255. The synthetic raw LILY files
(:mod:`lilyvae.synthetic.lily_files`) sample :meth:`SyntheticLily.true_values` at each
instrument's own spacing and add their own instrument noise (:data:`MEASUREMENT_NOISE`
gives the per-bin scales used here).

The table has no missing labels and no missing or non-finite inputs, like the real
cleaned table. Generation is vectorised (loops only over lithologies and sites) and takes
well under a second at the default size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, LABEL_COL, TABLE_COLUMNS
from lilyvae.errors import LilyVAEError
from lilyvae.synthetic.counts import BIN_M, check_rows, check_seed
from lilyvae.synthetic.overlap import (
    DEFAULT_GENERATOR_VERSION,
    SETTINGS,
    Overlap,
    check_generator_version,
    overlap_parameters,
)
from lilyvae.synthetic.signatures import (
    CLASS_JITTER,
    GROUP_SIGNATURE_FIELDS,
    GROUP_SIGNATURES,
    SIGNATURE_SEED,
    lithology_signatures,
)
from lilyvae.synthetic.stratigraphy import build_stratigraphy, random_streams

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

#: The scale (in VARIABILITY_SD and the offsets) of each of the six values GRA, MS, NGR,
#: G (lightness), and the R and B hue offsets against G.
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

    def __init__(
        self,
        rows: int | None = None,
        seed: int = 0,
        boreholes=None,
        version: int = DEFAULT_GENERATOR_VERSION,
    ):
        # boreholes: other boreholes than the real 296 (see build_stratigraphy).
        # version: 1 gives the tables of the first generator; 2 adds the overlap between
        # lithologies of lilyvae.synthetic.overlap; 3 the facies of lilyvae.synthetic.facies.
        self.rows = check_rows(rows, None if boreholes is None else len(boreholes))
        self.seed = check_seed(seed)
        self.version = check_generator_version(version)
        self.strat = strat = build_stratigraphy(self.rows, self.seed, boreholes)
        self.classes = strat.classes
        self.boreholes = strat.boreholes
        self.signatures = lithology_signatures(
            self.classes["Principal"].tolist(), self.classes["Group"].tolist()
        )
        self._names = self.classes["Principal"].to_numpy()
        self._groups = self.classes["Group"].to_numpy()
        self._bh_index = {b: i for i, b in enumerate(self.boreholes["Borehole_ID"])}
        streams = random_streams(self.seed, 9)
        rng_off, rng_var, rng_noise, rng_overlap = streams[4:8]

        n_sites = int(strat.site_of_borehole.max()) + 1
        site_sd = np.array([SITE_OFFSET_SD[k] for k in _CHANNELS])
        hole_sd = np.array([HOLE_OFFSET_SD[k] for k in _CHANNELS])
        site_off = rng_off.standard_normal((n_sites, 6)) * site_sd
        hole_off = rng_off.standard_normal((len(self.boreholes), 6)) * hole_sd
        self._offset = site_off[strat.site_of_borehole] + hole_off  # (B, 6)
        self._overlap = None
        self._spread = 1.0
        if self.version >= 2:
            settings = SETTINGS[self.version]
            self._offset = self._offset * settings.offsets
            self._spread = np.array([settings.variability[k] for k in _CHANNELS])
            # Version 3 draws from a stream of its own (the ninth child of the seed), so
            # version 2's tables stay what they were.
            rng = rng_overlap if self.version == 2 else streams[8]
            self._overlap = Overlap.draw(strat, self._groups, _CHANNELS, rng, self.version)

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

    def _bed_at(self, b: int, depths: np.ndarray) -> np.ndarray:
        s = self.strat
        lo, hi = s.bed_ptr[b], s.bed_ptr[b + 1]
        bottoms = (s.bed_first_bin[lo:hi] + s.bed_n_bins[lo:hi] - 0.5) * BIN_M
        k = np.clip(np.searchsorted(bottoms, depths, side="right"), 0, hi - lo - 1)
        return lo + k

    def _class_at(self, b: int, depths: np.ndarray) -> np.ndarray:
        return self.strat.bed_class[self._bed_at(b, depths)]

    def class_index_at(self, borehole_id: str, depths) -> np.ndarray:
        """Lithology at each depth (m) of a borehole, as a row of ``classes`` (nearest bed
        outside the borehole)."""
        b = self._borehole(borehole_id)
        return self._class_at(b, np.asarray(depths, dtype=np.float64).ravel())

    def colour_scanned(self, borehole_id: str, depths) -> np.ndarray:
        """Whether the colour scan covers each depth: everywhere, in this data set
        (:class:`~lilyvae.synthetic.partial.PartialColour` has gaps and boreholes
        without one)."""
        self._borehole(borehole_id)
        return np.ones(np.asarray(depths).size, dtype=bool)

    def lithology_at(self, borehole_id: str, depths) -> np.ndarray:
        """Lithology (``Principal``) at each depth (m) of a borehole (nearest bed outside)."""
        return self._names[self.class_index_at(borehole_id, depths)]

    # -- values ----------------------------------------------------------------------
    def _log_parts(self, cls, bh, depth, fld, bed=None):
        """GRA and the natural logs of MS, NGR, R, G, B, before measurement noise
        (``bed``: each value's bed, for the mixed beds, faces and depth drifts of versions
        2 and 3)."""
        ov = self._overlap
        if ov is None or bed is None:
            return self._lithology_parts(cls, bh, depth, fld)
        parts = self._lithology_parts(cls, bh, depth, fld, ov.bed_spread(bed, cls))
        w = ov.weight[bed]
        partner_cls = ov.partner[bed]
        spread = ov.bed_spread(bed, partner_cls, partner=True)
        partner = self._lithology_parts(partner_cls, bh, depth, fld, spread)
        gra, log_ms, log_ngr = (
            (1.0 - w) * p + w * q for p, q in zip(parts[:3], partner[:3], strict=True)
        )
        log_rgb = (1.0 - w[:, None]) * parts[3] + w[:, None] * partner[3]
        # The drift (and face) of lightness moves all three channels, the hue R and B.
        drift = ov.trend[bh] * (depth / 100.0)[:, None] + ov.bed_shift(bed, cls)
        rgb_drift = drift[:, [3, 3, 3]] + np.stack(
            [drift[:, 4], np.zeros(len(drift)), drift[:, 5]], axis=1
        )
        return gra + drift[:, 0], log_ms + drift[:, 1], log_ngr + drift[:, 2], log_rgb + rgb_drift

    def _lithology_parts(self, cls, bh, depth, fld, face_spread=None):
        # face_spread: (n, 1) factor on the variability of each value's facies (version 3).
        sig = self.signatures
        off = self._offset[bh]
        sd = np.array([VARIABILITY_SD[k] for k in _CHANNELS]) * self._spread
        v = sig.variability[cls][:, None] * fld * sd
        if face_spread is not None:
            v = v * face_spread
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
        bed = self._bed_at(b, d)
        cls = self.strat.bed_class[bed]
        fld = np.zeros((d.size, 6))
        if variability:
            lo, hi = self.strat.row_ptr[b], self.strat.row_ptr[b + 1]
            xp = self._row_depth[lo:hi]
            for j in range(6):
                fld[:, j] = np.interp(d, xp, self._field[lo:hi, j])
        gra, log_ms, log_ngr, log_rgb = self._log_parts(cls, np.full(d.size, b), d, fld, bed)
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
        row_bed = np.repeat(np.arange(s.bed_class.size), s.bed_n_bins)
        gra, log_ms, log_ngr, log_rgb = self._log_parts(
            s.row_class, s.row_borehole, self._row_depth, self._field, row_bed
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
        if self.version == 2:
            params["overlap"] = overlap_parameters(2)
        elif self.version >= 3:
            params["facies"] = overlap_parameters(3)
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
                    g: dict(zip(GROUP_SIGNATURE_FIELDS, map(float, s), strict=True))
                    for g, s in GROUP_SIGNATURES.items()
                },
            }
        )
        return params
