"""Figures of the models: reconstructions, samples from the prior, KL per latent
dimension (training curves are in :mod:`.training_curves`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lilyvae.data.schema import FEATURE_SHORT
from lilyvae.evaluation.config import ACTIVE_THRESHOLD
from lilyvae.evaluation.latent import latent_health, posterior, reconstruction_r2
from lilyvae.model.embeddings import NamedModel
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.style import (
    FEATURE_UNITS,
    HELD_OUT_COLOUR,
    OTHER_COLOUR,
    TRAIN_COLOUR,
    legend_slot_grid,
    panel_note,
    pyplot,
    signed_log_edges,
)

#: Percentiles of the measured values the reconstruction axes span. MS and NGR have
#: long tails that would squeeze the bulk of the rows into a corner: NGR's axes stop
#: at its 1st and 99th percentiles; MS (median near 10, tail to thousands) is drawn on
#: a log-like axis (linear within 1 of zero) so that its bulk spreads out.
BULK_PERCENTILES = {"NGR": (1.0, 99.0)}
DEFAULT_BULK = (0.5, 99.5)
LOG_LIKE = ("MS",)


def bulk_limits(values: np.ndarray, short: str) -> tuple[float, float]:
    """Axis limits holding the bulk of ``values`` (see BULK_PERCENTILES), padded."""
    lo, hi = (float(v) for v in np.percentile(values, BULK_PERCENTILES.get(short, DEFAULT_BULK)))
    if short in LOG_LIKE:
        return lo - 0.1 * abs(lo) - 0.5, hi + 0.1 * abs(hi) + 0.5
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def fig_reconstruction(
    models: Sequence[NamedModel],
    features: np.ndarray,
    r2: dict[str, dict[str, float]] | None = None,
    rows: int = 3000,
    seed: int = 0,
    title: str = "",
):
    """Input vs reconstruction, one row per model, one column per feature (R2 in
    titles), each axis spanning the bulk of the measured values; a panel says how many
    points fall outside its axes."""
    plt = pyplot()
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(features), size=min(rows, len(features)), replace=False))
    fig, axes = plt.subplots(len(models), 6, figsize=(16, 2.8 * len(models) + 0.8), squeeze=False)
    for i, m in enumerate(models):
        scores = (r2 or {}).get(m.name) or reconstruction_r2(m.model, features)
        recon = m.model.reconstruct(features[idx])
        for j, short in enumerate(FEATURE_SHORT):
            ax = axes[i, j]
            x, y = features[idx, j], recon[:, j]
            lo, hi = bulk_limits(x, short)
            ax.scatter(x, y, s=2, alpha=0.3, color=TRAIN_COLOUR, rasterized=True)
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
            if short in LOG_LIKE:
                ax.set_xscale("symlog", linthresh=1.0)
                ax.set_yscale("symlog", linthresh=1.0)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            outside = int(np.sum((x < lo) | (x > hi) | (y < lo) | (y > hi)))
            if outside:
                panel_note(ax, f"{outside:,} of {len(x):,} points\noutside the axes", 0.98, 0.02)
            ax.set_title(f"{m.name}: {short}  R2 = {scores[short]:.3f}", fontsize=8)
            if i == len(models) - 1:
                ax.set_xlabel(f"measured {short} ({FEATURE_UNITS[short]})", fontsize=7)
            if j == 0:
                ax.set_ylabel("reconstructed", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def feature_bins(values: np.ndarray, j: int, n: int = 60) -> tuple[np.ndarray, str]:
    """Histogram edges for feature ``j``: log-like for MS and NGR, linear otherwise."""
    lo, hi = np.percentile(values, [0.5, 99.5])
    if FEATURE_SHORT[j] in ("MS", "NGR"):
        return signed_log_edges(lo, hi, n), "log"
    return np.linspace(lo, hi, n), "linear"


def fig_prior_samples(
    models: Sequence[NamedModel],
    features: np.ndarray,
    n: int = 20000,
    seed: int = 0,
    title: str = "",
):
    """Samples decoded from the prior vs the data, per model and feature."""
    plt = pyplot()
    fig, axes = plt.subplots(len(models), 6, figsize=(16, 2.5 * len(models) + 0.6), squeeze=False)
    for i, m in enumerate(models):
        gen = m.model.sample(n, seed)
        for j, short in enumerate(FEATURE_SHORT):
            ax = axes[i, j]
            edges, scale = feature_bins(features[:, j], j)
            ax.hist(features[:, j], bins=edges, density=True, color="#bbbbbb", label="data")
            ax.hist(
                gen[:, j],
                bins=edges,
                density=True,
                histtype="step",
                lw=1.3,
                color=HELD_OUT_COLOUR,
                label="prior samples",
            )
            if scale == "log":
                ax.set_xscale("symlog", linthresh=1.0)
            ax.set_title(f"{m.name}: {short}", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.set_yticks([])
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _recorded_r2(inputs: FigureInputs) -> dict[str, dict[str, float]]:
    """Reconstruction R2 per model from the metrics, so it is not computed again."""
    subjects = (inputs.metrics or {}).get("subjects") or {}
    return {n: s["reconstruction_r2"] for n, s in subjects.items() if s.get("reconstruction_r2")}


def _draw_reconstruction(inputs: FigureInputs, title: str):
    o = inputs.options
    features = inputs.features[inputs.scored]
    r2 = _recorded_r2(inputs)
    return fig_reconstruction(inputs.models, features, r2, o.scatter_rows, o.seed, title)


def _reconstruction_caption(inputs: FigureInputs) -> str:
    o = inputs.options
    return (
        f"Measured against reconstructed values (decoding the posterior mean) for "
        f"{min(o.scatter_rows, int(inputs.scored.sum())):,} {inputs.scored_how}, drawn with "
        f"seed {o.seed}; R2 in raw units over all of them in the panel titles. Each axis "
        "spans the bulk of the measured values (NGR, whose tail is long: its 1st to 99th "
        "percentiles; the others their 0.5th to 99.5th; MS on a log-like axis, linear "
        "within 1 of zero, as its median is near 10 and its tail reaches thousands), so "
        "some points lie outside; a panel says how many. Dashed: perfect reconstruction."
    )


def latent_kl(inputs: FigureInputs) -> dict[str, dict]:
    """Each model's latent health on the scored rows: from the metrics where they
    have it, else computed (the posterior of the scored rows)."""
    subjects = (inputs.metrics or {}).get("subjects") or {}
    out = {}
    for m in inputs.models:
        recorded = (subjects.get(m.name) or {}).get("latent")
        if recorded is None:
            mu, logvar = posterior(m.model, inputs.features[inputs.scored])
            recorded = latent_health(mu, logvar)
        out[m.name] = recorded
    return out


def fig_latent_kl(health: dict[str, dict], title: str = ""):
    """KL to the prior per latent dimension, a panel of bars per model; active
    dimensions (posterior mean varying across rows) in colour, the others grey."""
    plt = pyplot()
    fig, axes, legend_ax = legend_slot_grid(len(health), 3, (4.6, 3.2))
    for ax, (name, h) in zip(axes, health.items(), strict=True):
        kl = np.asarray(h["kl_per_dim"], dtype=float)
        active = np.asarray(h["variance_of_mean"], dtype=float) > h.get(
            "active_threshold", ACTIVE_THRESHOLD
        )
        dims = np.arange(len(kl))
        ax.bar(dims, kl, color=[TRAIN_COLOUR if a else OTHER_COLOUR for a in active])
        ax.set_xticks(dims)
        ax.set_xlabel("latent dimension", fontsize=7)
        ax.set_ylabel("KL (nats per row)", fontsize=7)
        ax.set_title(
            f"{name}: {h['active_dims']} of {h['latent_dim']} active, KL {h['kl_total']:.2f}",
            fontsize=8,
        )
        ax.tick_params(labelsize=6)
    legend_ax.legend(
        handles=[
            plt.Rectangle((0, 0), 1, 1, color=TRAIN_COLOUR, label="active dimension"),
            plt.Rectangle((0, 0), 1, 1, color=OTHER_COLOUR, label="inactive (collapsed)"),
        ],
        loc="center",
        fontsize=8,
        frameon=False,
    )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


#: The model figures are skipped together when there are no models.
NEEDS_MODELS = Needs(("models",), "no models given", skipped_as="model figures")

RECONSTRUCTION = FigureSpec(
    name="reconstruction",
    title="reconstruction, {recipe} recipe ({scored})",
    caption=_reconstruction_caption,
    needs=NEEDS_MODELS,
    draw=_draw_reconstruction,
    per_recipe=True,
)
LATENT_KL = FigureSpec(
    name="latent_kl",
    title="KL per latent dimension ({scored})",
    caption=lambda inputs: (
        f"Mean KL divergence between each latent dimension's posterior and the N(0, 1) prior "
        f"over {inputs.scored_how}. A dimension is active (coloured) when its posterior mean "
        f"varies across rows (variance above {ACTIVE_THRESHOLD}); an inactive one carries "
        "no information about the row (posterior collapse). Taken from the metrics where "
        "they hold it."
    ),
    needs=NEEDS_MODELS,
    draw=lambda inputs, title: fig_latent_kl(latent_kl(inputs), title),
)
PRIOR_SAMPLES = FigureSpec(
    name="prior_samples",
    title="samples from the prior",
    caption=lambda inputs: (
        f"{inputs.options.prior_rows:,} draws z ~ N(0, I) decoded and unscaled (orange) over "
        "the data's distribution (grey), per feature; MS and NGR on log-like axes."
    ),
    needs=NEEDS_MODELS,
    draw=lambda inputs, title: fig_prior_samples(
        inputs.models, inputs.features, inputs.options.prior_rows, inputs.options.seed, title
    ),
)
