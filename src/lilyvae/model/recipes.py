"""Training recipes as data: the two of the specification, and overrides on top.

A recipe says *what* is optimised (loss reductions, KL weight schedule, masking,
classification weight) and *how* the optimiser is steered (gradient clipping, the
plateau scheduler). One trainer (:mod:`lilyvae.train.trainer`) runs any recipe; nothing
branches on a recipe's name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lilyvae.errors import LilyVAEError


@dataclass(frozen=True)
class Recipe:
    """Base recipe; use :class:`StandardRecipe` or :class:`HybridRecipe`.

    ``beta`` is the KL weight after warm-up. With ``anneal_epochs > 0`` it ramps
    linearly from ``beta_start`` at epoch 0 to ``beta`` at epoch ``anneal_epochs``.
    """

    name: str = "custom"
    reduction: str = "sum"  # "sum": summed over rows and features; "mean": averaged
    beta: float = 1.0
    beta_start: float = 1.0
    anneal_epochs: int = 0
    alpha: float = 0.1  # weight of the cross-entropy term (semi-supervised model only)
    mask_ratio: float = 0.0  # fraction of input entries zeroed per batch
    mask_weight: float = 0.0  # weight of the MSE on the masked entries
    grad_clip: float | None = None  # max global L2 norm of the gradient
    plateau_patience: int | None = None  # ReduceLROnPlateau patience (None: no scheduler)
    plateau_factor: float = 0.5

    def __post_init__(self) -> None:
        problems = []
        if self.reduction not in ("sum", "mean"):
            problems.append(f"reduction must be 'sum' or 'mean', not {self.reduction!r}")
        for field in ("beta", "beta_start", "alpha", "mask_weight"):
            if getattr(self, field) < 0:
                problems.append(f"{field} must be >= 0")
        if not 0 <= self.mask_ratio < 1:
            problems.append("mask_ratio must be in [0, 1)")
        if self.anneal_epochs < 0:
            problems.append("anneal_epochs must be >= 0")
        if self.grad_clip is not None and self.grad_clip <= 0:
            problems.append("grad_clip must be positive")
        if self.plateau_patience is not None and self.plateau_patience < 0:
            problems.append("plateau_patience must be >= 0")
        if not 0 < self.plateau_factor < 1:
            problems.append("plateau_factor must be in (0, 1)")
        if problems:
            raise LilyVAEError(f"recipe {self.name!r}: " + "; ".join(problems))

    def beta_at(self, epoch: int) -> float:
        """KL weight for a 0-based epoch: start + (end - start) * min(epoch / n, 1)."""
        if self.anneal_epochs == 0:
            return self.beta
        ramp = min(epoch / self.anneal_epochs, 1.0)
        return self.beta_start + (self.beta - self.beta_start) * ramp

    def with_overrides(self, **overrides) -> Recipe:
        """A copy with some fields replaced; ``None`` values are ignored."""
        given = {k: v for k, v in overrides.items() if v is not None}
        unknown = sorted(set(given) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise LilyVAEError(f"recipe {self.name!r} has no hyper-parameter {unknown[0]!r}")
        return dataclasses.replace(self, **given)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class StandardRecipe(Recipe):
    """``scripts/train_vae.py``: sum-reduced MSE + beta * KL [+ alpha * CE], fixed beta."""

    name: str = "standard"
    reduction: str = "sum"
    beta: float = 1.0
    beta_start: float = 1.0
    anneal_epochs: int = 0
    alpha: float = 0.1


@dataclass(frozen=True)
class HybridRecipe(Recipe):
    """``generate_all_figures.py``: masking, KL annealing, clipping, plateau scheduler."""

    name: str = "hybrid"
    reduction: str = "mean"
    beta: float = 0.5
    beta_start: float = 1e-6
    anneal_epochs: int = 30
    alpha: float = 0.5
    mask_ratio: float = 0.1
    mask_weight: float = 0.5
    grad_clip: float | None = 1.0
    plateau_patience: int | None = 10
    plateau_factor: float = 0.5


RECIPES: dict[str, type[Recipe]] = {"standard": StandardRecipe, "hybrid": HybridRecipe}


def get_recipe(name: str, **overrides) -> Recipe:
    """The named recipe with its defaults, then ``overrides`` (``None`` = keep default)."""
    try:
        recipe = RECIPES[name]()
    except KeyError:
        raise LilyVAEError(
            f"unknown recipe {name!r}; choose one of {', '.join(sorted(RECIPES))}"
        ) from None
    return recipe.with_overrides(**overrides)


def recipe_from_dict(params: dict) -> Recipe:
    """Rebuild a recipe saved with :meth:`Recipe.to_dict` (in a model card)."""
    cls = RECIPES.get(params.get("name", ""), Recipe)
    fields = {f.name for f in dataclasses.fields(Recipe)}
    return cls(**{k: v for k, v in params.items() if k in fields})
