"""Early stopping: validation boreholes drawn from the training data, validation scores
after every epoch, and the best epoch's weights kept.

The validation set is whole boreholes (neighbouring bins of one borehole are near
copies, so validation rows from the training boreholes would flatter every epoch
alike), drawn by :func:`draw_validation` from the rows left to train on after the
held-out boreholes went: it never meets them. The validation scores use no random
numbers (posterior means, the network in eval mode), so they take nothing from a
member's streams: up to its stopping epoch a member trains to the bytes it would reach
without them, and the same seed stops at the same epoch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from lilyvae.data.splits import split_boreholes
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.model.networks import VAE, classification_loss
from lilyvae.model.recipes import Recipe
from lilyvae.training.config import TrainingConfig


@dataclass(frozen=True)
class ValidationSplit:
    """Training boreholes kept aside to validate on: which ones, how they were drawn,
    and the rows (indices into the training rows) that train and that validate."""

    boreholes: tuple[str, ...]
    fraction: float
    seed: int
    fit_rows: np.ndarray
    rows: np.ndarray

    def to_dict(self) -> dict:
        return {
            "validation_boreholes": list(self.boreholes),
            "fraction": self.fraction,
            "validation_seed": self.seed,
            "rows_validated": int(len(self.rows)),
        }


def draw_validation(trained: TrainingData, config: TrainingConfig) -> ValidationSplit | None:
    """The validation boreholes of ``config`` (None without early stopping), drawn by
    its ``validation_seed`` from ``trained``: the rows left after holding out boreholes."""
    if config.early_stopping is None:
        return None
    source = trained.source
    if trained.boreholes is None:
        raise LilyVAEError(
            f"{source}: early stopping validates on whole boreholes; the table needs a "
            "'Borehole_ID' column"
        )
    if len(np.unique(trained.boreholes.astype(str))) < 2:
        raise LilyVAEError(
            f"{source}: early stopping needs two training boreholes or more (one to "
            "validate on); train without --early-stopping"
        )
    drawn = split_boreholes(trained, config.validation_boreholes, config.validation_seed)
    aside = drawn.holdout_mask(trained.boreholes)
    fit_rows, rows = np.flatnonzero(~aside), np.flatnonzero(aside)
    if config.has_head and not bool((np.asarray(trained.labels)[fit_rows] >= 0).any()):
        raise LilyVAEError(
            f"{source}: no labelled rows left to train on after drawing the validation "
            "boreholes (try another --validation-seed)"
        )
    return ValidationSplit(drawn.holdout, config.validation_boreholes, drawn.seed, fit_rows, rows)


def balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """The mean over the lithologies present among the labelled rows of the share of
    their rows predicted right (labels of -1 are unlabelled and ignored)."""
    labelled = labels >= 0
    truth, guess = labels[labelled], predicted[labelled]
    counts = np.bincount(truth)
    hits = np.bincount(truth[guess == truth], minlength=len(counts))
    present = counts > 0
    return float(np.mean(hits[present] / counts[present]))


def validation_scores(
    model: VAE, X: torch.Tensor, labels: torch.Tensor | None, recipe: Recipe
) -> dict[str, float]:
    """``val_loss``, and with labels ``val_balanced_accuracy``, of an eval-mode model.

    The loss is the recipe's objective at its final KL weight (a warm-up's weight would
    make early epochs look better than they are) on the posterior means, per row as the
    training history reports it; the hybrid recipe's masked term is left out (masking
    is an augmentation of training, not part of the fit). The head classifies the mean.
    """
    n = X.shape[0]
    observed = torch.isfinite(X) if model.missing_indicators else None
    with torch.no_grad():
        mu, logvar = model.encode(X)
        # The VAE's terms (the head's, below, read the mean, not a sampled code).
        parts = VAE.loss_function(
            model,
            model.decode(mu),
            X,
            mu,
            logvar,
            beta=recipe.beta,
            reduction=recipe.reduction,
            observed=observed,
        )
        per_row = n if recipe.reduction == "sum" else 1
        loss = (float(parts.recon) + recipe.beta * float(parts.kl)) / per_row
        scores = {"val_loss": loss}
        if labels is not None:
            logits = model.classifier(mu)
            ce = float(classification_loss(logits, labels, recipe.class_reduction))
            scores["val_loss"] += recipe.alpha * ce / (n if recipe.class_reduction == "sum" else 1)
            predicted = logits.argmax(1).numpy()
            scores["val_balanced_accuracy"] = balanced_accuracy(predicted, labels.numpy())
    return scores


class EarlyStopping:
    """Validation and stopping for each member of a pack.

    After each epoch a member still training is scored on the validation rows; a lower
    validation loss than any before makes that epoch its best (its weights are kept),
    and ``patience`` epochs without one stop it. A stopped member is scored no more;
    its pack may step it on for the others, which changes nothing it keeps.
    """

    def __init__(self, X, labels, rows: np.ndarray, config: TrainingConfig, k: int):
        index = torch.as_tensor(np.asarray(rows), dtype=torch.int64)
        self.X = X.index_select(0, index).cpu()
        self.labels = None
        if labels is not None:
            picked = labels.index_select(0, index).cpu()
            self.labels = picked if bool((picked >= 0).any()) else None
        self.recipe = config.recipe
        self.patience = int(config.early_stopping)
        self.best_loss = [math.inf] * k
        self.best_epoch = [0] * k
        self.best_model: list[VAE | None] = [None] * k
        self.stopped_at: list[int | None] = [None] * k

    @property
    def terms(self) -> list[str]:
        """The history columns it adds."""
        return ["val_loss"] + (["val_balanced_accuracy"] if self.labels is not None else [])

    def training(self, j: int) -> bool:
        return self.stopped_at[j] is None

    def after_epoch(self, epoch: int, j: int, model: VAE, row: dict) -> None:
        """Score member ``j`` after 0-based ``epoch`` into its history ``row``."""
        scores = validation_scores(model, self.X, self.labels, self.recipe)
        # A non-finite score is recorded as missing (null in the JSON history), and is
        # no improvement.
        row.update({k: v if math.isfinite(v) else None for k, v in scores.items()})
        done = epoch + 1
        if scores["val_loss"] < self.best_loss[j]:
            self.best_loss[j], self.best_epoch[j], self.best_model[j] = (
                scores["val_loss"],
                done,
                model,
            )
        elif done - self.best_epoch[j] >= self.patience:
            self.stopped_at[j] = done

    def model(self, j: int, last: VAE) -> VAE:
        """The weights member ``j`` keeps: its best epoch's (``last`` if none scored)."""
        return self.best_model[j] if self.best_model[j] is not None else last

    def record(self, j: int, epochs_run: int) -> dict:
        """The model card's account of member ``j``'s stop."""
        best = self.best_epoch[j]
        stopped = self.stopped_at[j] is not None
        if best == 0:
            reason = "the validation loss was never finite; the last epoch's weights are kept"
        elif stopped:
            reason = (
                f"stopped at epoch {epochs_run}: no lower validation loss in the "
                f"{self.patience} epochs after epoch {best}, whose weights are kept"
            )
        else:
            reason = (
                f"ran all {epochs_run} epochs (the validation loss never went "
                f"{self.patience} epoch(s) without falling); it was lowest at epoch {best}, "
                "whose weights are kept"
            )
        loss = self.best_loss[j]
        return {
            "patience": self.patience,
            "epochs_run": epochs_run,
            "stopped_early": stopped,
            "best_epoch": best or None,
            "best_val_loss": loss if math.isfinite(loss) else None,
            "reason": reason,
        }
