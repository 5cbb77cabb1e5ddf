"""Figures of the models: training curves, reconstructions, samples from the prior."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lilyvae.analysis.embeddings import NamedModel
from lilyvae.analysis.evaluation.latent import reconstruction_r2
from lilyvae.analysis.figures.spec import FigureInputs, FigureSpec, Needs
from lilyvae.analysis.figures.style import (
    HELD_OUT_COLOUR,
    TRAIN_COLOUR,
    panel_grid,
    pyplot,
    signed_log_edges,
)
from lilyvae.data.schema import FEATURE_SHORT

#: History entries that are schedules, not loss terms (beta is drawn on its own axis).
_SCHEDULES = ("epoch_seconds", "beta", "lr")


def fig_training_curves(models: Sequence[NamedModel], title: str = ""):
    """Per-epoch loss terms from each model's history."""
    fig, axes = panel_grid(len(models), 2, (6.5, 3.8))
    for k, m in enumerate(models):
        ax = axes.flat[k]
        hist = m.model.history or {}
        for term, values in hist.items():
            if term in _SCHEDULES or not isinstance(values, list) or not values:
                continue
            arr = np.asarray(values, dtype=float)
            epochs = np.arange(1, len(arr) + 1)
            ax.plot(epochs, arr, marker=".", lw=1.2, label=term)
        if ax.lines and all(np.all(np.asarray(ln.get_ydata()) > 0) for ln in ax.lines):
            ax.set_yscale("log")
        beta = np.asarray(hist.get("beta") or [], dtype=float)
        if beta.size and np.ptp(beta) > 0:
            twin = ax.twinx()
            twin.plot(np.arange(1, beta.size + 1), beta, color="grey", ls="--", lw=1)
            twin.set_ylabel("beta (dashed)", fontsize=7)
            twin.tick_params(labelsize=7)
        lr = np.asarray(hist.get("lr") or [], dtype=float)
        if lr.size and np.ptp(lr) > 0:
            ax.text(
                0.01, 0.02, f"lr {lr[0]:.2g} -> {lr[-1]:.2g}", transform=ax.transAxes, fontsize=7
            )
        ax.set_title(f"{m.name} ({m.kind}, {m.recipe})", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        if ax.lines:
            ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
        if not hist:
            ax.text(0.5, 0.5, "no history saved", ha="center", transform=ax.transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_reconstruction(
    models: Sequence[NamedModel],
    features: np.ndarray,
    r2: dict[str, dict[str, float]] | None = None,
    rows: int = 3000,
    seed: int = 0,
    title: str = "",
):
    """Input vs reconstruction, one row per model, one column per feature (R2 in titles)."""
    plt = pyplot()
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(features), size=min(rows, len(features)), replace=False))
    fig, axes = plt.subplots(len(models), 6, figsize=(16, 2.7 * len(models) + 0.6), squeeze=False)
    for i, m in enumerate(models):
        scores = (r2 or {}).get(m.name) or reconstruction_r2(m.model, features)
        recon = m.model.reconstruct(features[idx])
        for j, short in enumerate(FEATURE_SHORT):
            ax = axes[i, j]
            x, y = features[idx, j], recon[:, j]
            lo, hi = np.percentile(np.concatenate([x, y]), [0.5, 99.5])
            ax.scatter(x, y, s=2, alpha=0.3, color=TRAIN_COLOUR, rasterized=True)
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_title(f"{m.name}: {short}  R2 = {scores[short]:.3f}", fontsize=8)
            if i == len(models) - 1:
                ax.set_xlabel("measured", fontsize=8)
            if j == 0:
                ax.set_ylabel("reconstructed", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def prior_samples(model, n: int = 20000, seed: int = 0) -> np.ndarray:
    """Decode ``n`` draws from the N(0, I) prior and undo the scaling (raw units)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    module = model.module.eval()
    z = torch.randn(n, module.latent_dim, generator=gen)
    with torch.no_grad():
        scaled = module.decode(z).numpy().astype(np.float64)
    return model.scaler.inverse_transform(scaled)


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
        gen = prior_samples(m.model, n, seed)
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
        f"seed {o.seed}; R2 in raw units over all of them in the panel titles."
    )


#: The model figures are skipped together when there are no models.
NEEDS_MODELS = Needs(("models",), "no models given", skipped_as="model figures")

TRAINING_CURVES = FigureSpec(
    name="training_curves",
    title="training curves",
    caption="Per-epoch averages of each loss term from the models' saved histories, in "
    "each recipe's own units (standard: sums per row; hybrid: means).",
    needs=NEEDS_MODELS,
    draw=lambda inputs, title: fig_training_curves(inputs.models, title),
)
RECONSTRUCTION = FigureSpec(
    name="reconstruction",
    title="reconstruction, {recipe} recipe ({scored})",
    caption=_reconstruction_caption,
    needs=NEEDS_MODELS,
    draw=_draw_reconstruction,
    per_recipe=True,
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
