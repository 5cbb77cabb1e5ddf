"""The model a prediction uses: one checkpoint, or every member of a bootstrap ensemble.

An ensemble directory (``lilyvae bootstrap --output-dir D``) keeps its members as
``D/members/*.pt`` beside their cards; they are found by globbing (the prediction stage
does not read the run's own files). Members' probabilities are averaged and their
disagreement reported; the embedding that novelty and analogs use is the first
member's (each member has its own latent space, so their embeddings cannot be mixed).

:func:`forward` runs each network once over the bins: the posterior mean (the
embedding), the head's logits where the model has one, and the reconstruction of the
posterior mean, all from one pass of the encoder.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lilyvae.errors import LilyVAEError
from lilyvae.files import sha256_file
from lilyvae.model.checkpoint import INFERENCE_BATCH_ROWS, TrainedModel, load_model

#: Where an ensemble directory keeps its members.
MEMBERS_FOLDER = "members"


def ensemble_member_paths(directory: str | os.PathLike) -> list[Path]:
    """The member checkpoints of an ensemble directory, in name order."""
    directory = Path(directory)
    paths = sorted((directory / MEMBERS_FOLDER).glob("*.pt"))
    if not paths:
        raise LilyVAEError(
            f"{directory}: no member checkpoints in {MEMBERS_FOLDER}/ (not a bootstrap "
            "ensemble directory)"
        )
    return paths


@dataclass
class ModelSet:
    """One model or an ensemble's members, used as one model."""

    path: Path  # the .pt, or the ensemble directory
    models: list[TrainedModel]
    sha256: str  # the .pt's sha256; for an ensemble, of its members' sha256s

    @property
    def first(self) -> TrainedModel:
        return self.models[0]

    @property
    def kind(self) -> str:
        return self.first.kind

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.first.class_names

    @property
    def is_ensemble(self) -> bool:
        return self.path.is_dir()

    @property
    def held_out_boreholes(self) -> list[str]:
        return self.first.card.held_out_boreholes

    @property
    def synthetic(self) -> bool:
        return any(m.card.origin.synthetic for m in self.models)

    @property
    def missing(self) -> str:
        return self.first.missing

    def sibling(self, suffix: str) -> Path:
        """A file beside the model: ``M<suffix>`` for ``M.pt``, ``D/ensemble<suffix>`` for
        an ensemble directory."""
        if self.is_ensemble:
            return self.path / f"ensemble{suffix}"
        return self.path.with_name(self.path.stem + suffix)


def load_model_set(path: str | os.PathLike) -> ModelSet:
    """A checkpoint (``M.pt``) or an ensemble directory, loaded and checked."""
    path = Path(path)
    if path.is_dir():
        member_paths = ensemble_member_paths(path)
        models = [load_model(p) for p in member_paths]
        digest = hashlib.sha256()
        for p in member_paths:
            digest.update(sha256_file(p).encode())
        sha = digest.hexdigest()
        first = models[0]
        for p, m in zip(member_paths, models, strict=True):
            if m.kind != first.kind or m.class_names != first.class_names:
                raise LilyVAEError(f"{p}: member differs in kind or lithologies from the first")
            if set(m.card.held_out_boreholes) != set(first.card.held_out_boreholes):
                raise LilyVAEError(f"{p}: member holds out other boreholes than the first")
    else:
        if not path.exists():
            raise LilyVAEError(f"{path}: no such model (a .pt checkpoint or ensemble directory)")
        models = [load_model(path)]
        sha = sha256_file(path)
    return ModelSet(path, models, sha)


@dataclass
class Forward:
    """What one pass of the networks gives per bin."""

    embedding: np.ndarray  # (n, latent) float32: the first member's posterior means
    log_proba: list[np.ndarray] | None  # per member (n, classes) float32 logits; None if no head
    recon_error: np.ndarray  # (n,) float64: mean over members of the scaled squared error
    member_embeddings: list[np.ndarray]  # each member's posterior means (heads need them)


@torch.no_grad()
def _one_member(model: TrainedModel, features: np.ndarray, batch_size: int):
    masks = model.missing == "mask"
    if not masks and np.isnan(features).any():
        raise LilyVAEError(
            "data: some bins lack an input, and this model reads complete bins only "
            "(it was trained with missing='drop')"
        )
    scaled = model.scaler.transform(features, allow_missing=masks)
    x_all = torch.as_tensor(scaled, dtype=torch.float32)
    module = model.module.eval()
    n = x_all.shape[0]
    mu_out = np.empty((n, module.latent_dim), dtype=np.float32)
    has_head = model.kind == "semisupervised"
    logits_out = np.empty((n, len(model.class_names)), dtype=np.float32) if has_head else None
    err_out = np.empty(n, dtype=np.float64)
    for start in range(0, n, batch_size):
        x = x_all[start : start + batch_size]
        mu = module.encode(x)[0]
        recon = module.decode(mu)
        observed = torch.isfinite(x)
        diff = torch.where(observed, recon - torch.nan_to_num(x), torch.zeros_like(recon))
        err = (diff**2).sum(dim=1) / observed.sum(dim=1).clamp(min=1)
        stop = start + x.shape[0]
        mu_out[start:stop] = mu.numpy()
        err_out[start:stop] = err.numpy()
        if has_head:
            logits_out[start:stop] = module.classifier(mu).numpy()
    return mu_out, logits_out, err_out


def forward(
    models: ModelSet, features: np.ndarray, batch_size: int = INFERENCE_BATCH_ROWS
) -> Forward:
    """Run every member over raw ``features`` (n, 6) once."""
    features = np.asarray(features, dtype=np.float64)
    embeddings, logits, errors = [], [], []
    for model in models.models:
        mu, lg, err = _one_member(model, features, batch_size)
        embeddings.append(mu)
        logits.append(lg)
        errors.append(err)
    head = None if logits[0] is None else logits
    return Forward(embeddings[0], head, np.mean(errors, axis=0), embeddings)
