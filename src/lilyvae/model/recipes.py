"""Training recipes as data: the two of the specification, and overrides on top.

A recipe says *what* is optimised (loss reductions, KL weight schedule, masking,
classification weight) and *how* the optimiser is steered (gradient clipping, the
plateau scheduler). One trainer (:mod:`lilyvae.training.trainer`) runs any recipe; nothing
branches on a recipe's name.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from lilyvae.errors import LilyVAEError
from lilyvae.hyperparams import (
    FRACTION,
    NON_NEGATIVE_INT,
    NON_NEGATIVE_NUMBER,
    OPEN_FRACTION,
    POSITIVE_NUMBER,
    choice_kind,
    field_problems,
    hyper,
    hyper_fields,
)


def _reduction(help_text: str):
    """A loss reduction ('sum' or 'mean'): part of what a recipe is, so no flag or sweep
    axis of its own (choose the recipe instead)."""
    return hyper("sum", help_text, choice_kind(("sum", "mean")), flag=False, grid=False)


@dataclass(frozen=True)
class Recipe:
    """Base recipe; use :class:`StandardRecipe` or :class:`HybridRecipe`.

    ``beta`` is the KL weight after warm-up. With ``anneal_epochs > 0`` it ramps
    linearly from ``beta_start`` at epoch 0 to ``beta`` at epoch ``anneal_epochs``.

    Every field but ``name`` is declared with :func:`~lilyvae.hyperparams.hyper`: its
    help and rule make its check here, its command-line flag and its sweep axis. A
    subclass changes defaults by redeclaring a field plainly (``beta: float = 0.5``).
    """

    name: str = "custom"
    reduction: str = _reduction("loss reduction: 'sum' over rows and features, or 'mean'")
    beta: float = hyper(1.0, "KL weight (the value after the warm-up, if any)", NON_NEGATIVE_NUMBER)
    beta_start: float = hyper(1.0, "KL weight at epoch 0 of the warm-up", NON_NEGATIVE_NUMBER)
    anneal_epochs: int = hyper(0, "epochs of the linear KL warm-up (0: none)", NON_NEGATIVE_INT)
    alpha: float = hyper(
        0.1, "weight of the cross-entropy term (semi-supervised model)", NON_NEGATIVE_NUMBER
    )
    class_reduction: str = _reduction(
        "cross-entropy reduction over a batch's labelled rows: 'sum' or 'mean'"
    )
    mask_ratio: float = hyper(0.0, "fraction of input entries zeroed per batch", FRACTION)
    mask_weight: float = hyper(0.0, "weight of the MSE on the masked entries", NON_NEGATIVE_NUMBER)
    grad_clip: float | None = hyper(
        None,
        "max global L2 norm of the gradient (off: no clipping)",
        POSITIVE_NUMBER,
        optional=True,
    )
    plateau_patience: int | None = hyper(
        None,
        "ReduceLROnPlateau patience in epochs (off: no scheduler)",
        NON_NEGATIVE_INT,
        optional=True,
    )
    plateau_factor: float = hyper(0.5, "ReduceLROnPlateau factor", OPEN_FRACTION)

    def __post_init__(self) -> None:
        problems = field_problems(self)
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


#: The recipes by name: what ``--recipe`` offers and what a saved recipe is rebuilt as.
RECIPES: dict[str, type[Recipe]] = {}


def register_recipe(cls: type[Recipe]) -> type[Recipe]:
    """Class decorator: make a recipe dataclass known by its default ``name``.

    Each of its fields but ``name`` must be declared with
    :func:`~lilyvae.hyperparams.hyper` (here or in a base class), so that it gets a
    check, a flag and a sweep axis.
    """
    name = cls.__dataclass_fields__["name"].default
    undeclared = [
        f.name
        for f in dataclasses.fields(cls)
        if f.name != "name" and f.name not in hyper_fields(cls)
    ]
    if undeclared:
        raise TypeError(
            f"recipe {name!r}: declare field(s) {', '.join(undeclared)} "
            "with lilyvae.hyperparams.hyper"
        )
    if name in RECIPES and RECIPES[name] is not cls:
        raise TypeError(f"recipe {name!r} is already registered ({RECIPES[name].__qualname__})")
    RECIPES[name] = cls
    return cls


@register_recipe
@dataclass(frozen=True)
class StandardRecipe(Recipe):
    """``scripts/train_vae.py``: sum-reduced MSE + beta * KL [+ alpha * CE], fixed beta.

    The script summed its cross-entropy over the batch too
    (``cross_entropy(..., reduction='sum')``), like its other terms.
    """

    name: str = "standard"
    reduction: str = "sum"
    class_reduction: str = "sum"
    beta: float = 1.0
    beta_start: float = 1.0
    anneal_epochs: int = 0
    alpha: float = 0.1


@register_recipe
@dataclass(frozen=True)
class HybridRecipe(Recipe):
    """``generate_all_figures.py``: masking, KL annealing, clipping, plateau scheduler."""

    name: str = "hybrid"
    reduction: str = "mean"
    class_reduction: str = "mean"
    beta: float = 0.5
    beta_start: float = 1e-6
    anneal_epochs: int = 30
    alpha: float = 0.5
    mask_ratio: float = 0.1
    mask_weight: float = 0.5
    grad_clip: float | None = 1.0
    plateau_patience: int | None = 10
    plateau_factor: float = 0.5


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
    """Rebuild a recipe saved with :meth:`Recipe.to_dict` (in a model card or a run's
    manifest): the registered class of its name, with every one of its own fields.

    A name no recipe is registered under is rebuilt as a plain :class:`Recipe`; a key
    that is no field of the class is refused, never dropped.
    """
    if not isinstance(params, dict):
        raise LilyVAEError(f"a saved recipe is a JSON object, not {type(params).__name__}")
    name = params.get("name", Recipe.name)
    cls = RECIPES.get(name, Recipe)
    unknown = sorted(set(params) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise LilyVAEError(
            f"recipe {name!r}: unknown hyper-parameter(s) {', '.join(map(repr, unknown))} "
            f"for {cls.__name__} (is the recipe that has them registered?)"
        )
    return cls(**params)
