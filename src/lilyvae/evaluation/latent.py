"""What a model does with the scored rows themselves: its posterior, how healthy the
latent space is (KL per dimension, active dimensions), and how well it reconstructs."""

from __future__ import annotations

import numpy as np

from lilyvae.data.schema import FEATURE_SHORT
from lilyvae.evaluation.config import ACTIVE_THRESHOLD


def posterior(model, features: np.ndarray):
    """Posterior means and log-variances (n, latent) of raw features (the model's own
    :meth:`~lilyvae.model.checkpoint.TrainedModel.posterior`, as the KL needs them)."""
    mean, variance = model.posterior(features)
    return mean, np.log(variance)


def latent_health(mu: np.ndarray, logvar: np.ndarray) -> dict:
    """Mean KL to the prior per dimension and the active dimensions."""
    kl = -0.5 * (1 + logvar - mu**2 - np.exp(logvar))
    variance = mu.var(axis=0)
    return {
        "kl_per_dim": [round(float(v), 5) for v in kl.mean(axis=0)],
        "kl_total": float(kl.sum(axis=1).mean()),
        "variance_of_mean": [round(float(v), 5) for v in variance],
        "active_dims": int(np.sum(variance > ACTIVE_THRESHOLD)),
        "latent_dim": int(mu.shape[1]),
        "active_threshold": ACTIVE_THRESHOLD,
    }


def reconstruction_r2(model, features: np.ndarray) -> dict[str, float]:
    """R2 per input in raw units, decoding the posterior mean (deterministic)."""
    from sklearn.metrics import r2_score

    recon = model.reconstruct(features)
    return {
        name: float(r2_score(features[:, j], recon[:, j])) for j, name in enumerate(FEATURE_SHORT)
    }
