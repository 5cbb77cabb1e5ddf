"""The training configuration: every setting of a run apart from the data, declared once.

:class:`TrainingConfig` holds the run's settings and its :class:`~lilyvae.model.recipes.Recipe`.
Each field is declared with :func:`~lilyvae.hyperparams.hyper` (help text and the
values it takes); from these declarations come the checks, the training commands'
flags (:mod:`lilyvae.cli.options`) and the axes of a sweep's grid
(:func:`grid_axes`, :func:`parse_grid_value`, :func:`normalise_grid_value`).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from lilyvae.data.schema import FEATURE_COLS
from lilyvae.errors import LilyVAEError
from lilyvae.hyperparams import (
    INTEGER,
    OPEN_FRACTION,
    POSITIVE_INT,
    POSITIVE_NUMBER,
    RUNNING_GROUP,
    SIZES,
    SWITCH,
    Hyper,
    choice_kind,
    field_problems,
    hyper,
    hyper_fields,
)
from lilyvae.model.architecture import (
    DEFAULT_HIDDEN_DIMS,
    DEFAULT_LATENT_DIM,
    MODEL_KINDS,
    Architecture,
    has_head,
    size_problems,
)
from lilyvae.model.recipes import RECIPES, Recipe, StandardRecipe, get_recipe, recipe_from_dict

#: The model kinds, as the networks declare them.

#: Settings that configurations once had, and why they went. Saved configurations that
#: hold one still load (it is ignored); asking for one is refused with the reason.
RETIRED_FIELDS = {
    "compile": "torch.compile of the side-by-side step was slower than the default engine "
    "on the CPU and was never measured on a GPU; the default engine runs every model",
}

#: How rows with a missing input are treated (see ``TrainingConfig.missing``).
MISSING_MODES = ("drop", "mask")
MISSING_KIND = choice_kind(MISSING_MODES)

DEVICE = choice_kind(
    ("auto", "cpu", "cuda"),
    accepts=lambda v: (
        isinstance(v, str)
        and (v in ("auto", "cpu", "cuda") or re.fullmatch(r"cuda:\d+", v) is not None)
    ),
)


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides a training run, apart from the data."""

    model: str = hyper(
        "unsupervised",
        "the network: unsupervised VAE, or semi-supervised with a lithology classifier",
        choice_kind(MODEL_KINDS),
        flag=False,  # --model, required on the command line
        grid=False,
    )
    recipe: Recipe = field(default_factory=StandardRecipe)
    epochs: int = hyper(100, "passes over the training rows", POSITIVE_INT)
    batch_size: int = hyper(256, "rows per gradient step", POSITIVE_INT)
    lr: float = hyper(1e-3, "Adam learning rate", POSITIVE_NUMBER)
    seed: int = hyper(
        42, "seeds the weights, the row order, the noise and the masks", INTEGER, grid=False
    )
    latent_dim: int = hyper(DEFAULT_LATENT_DIM, "size of the embedding", POSITIVE_INT)
    hidden_dims: tuple[int, ...] = hyper(
        DEFAULT_HIDDEN_DIMS,
        "widths of the encoder's hidden layers (the decoder mirrors them)",
        SIZES,
    )
    missing: str = hyper(
        "drop",
        "rows lacking an input (a bin without a colour scan): 'drop' them, as the "
        "reference does, or 'mask' them: train on every row, a missing input entering the "
        "encoder as 0 beside a missing-value indicator (12 encoder inputs), the "
        "reconstruction terms counting observed inputs only",
        MISSING_KIND,
        grid=False,  # the rows trained on differ: compare modes with two runs instead
    )
    early_stopping: int | None = hyper(
        None,
        "stop when the validation loss has not improved for this many epochs and keep the "
        "best epoch's weights; the validation boreholes are drawn from the training data "
        "(off: train every epoch, keep the last)",
        POSITIVE_INT,
        optional=True,
        grid=False,
    )
    validation_boreholes: float = hyper(
        0.2,
        "with --early-stopping: the fraction of the training boreholes kept aside to "
        "validate on (at least one)",
        OPEN_FRACTION,
        grid=False,
    )
    validation_seed: int = hyper(
        0, "with --early-stopping: seeds the draw of the validation boreholes", INTEGER, grid=False
    )
    device: str = hyper(
        "auto", "auto picks CUDA when present", DEVICE, grid=False, group=RUNNING_GROUP
    )
    deterministic: bool = hyper(
        False,
        "seed every RNG, set cuDNN flags, use deterministic algorithms",
        SWITCH,
        grid=False,
        group=RUNNING_GROUP,
    )

    def __post_init__(self) -> None:
        problems = field_problems(self)
        if not problems:
            # Sizes a model card would refuse to load are refused before training.
            indicators = self.missing == "mask"
            sizes = (len(FEATURE_COLS), self.latent_dim, self.hidden_dims)
            problems += size_problems(*sizes, missing_indicators=indicators)
        if not isinstance(self.recipe, Recipe):
            problems.append(f"recipe must be a Recipe, not {type(self.recipe).__name__}")
        if problems:
            raise LilyVAEError("; ".join(problems))

    def to_dict(self) -> dict:
        """The configuration as JSON holds it. ``missing`` is written only when it is
        ``"mask"``: cards and run manifests of the default stay byte for byte as they
        were, and a saved configuration without it is a ``"drop"`` one."""
        out = dataclasses.asdict(self)
        out["recipe"] = self.recipe.to_dict()
        out["hidden_dims"] = list(self.hidden_dims)
        if self.missing == "drop":
            del out["missing"]
        if self.early_stopping is None:
            # Validation settings only act with early stopping: without it, cards and
            # run manifests stay byte for byte as they were before early stopping existed.
            for name in EARLY_STOPPING_FIELDS:
                del out[name]
        return out

    @property
    def has_head(self) -> bool:
        """Whether this configuration's model has a lithology head."""
        return has_head(self.model)

    def architecture(self, n_classes: int | None) -> Architecture:
        """The network's sizes for a table of ``n_classes`` lithologies."""
        return Architecture(
            input_dim=len(FEATURE_COLS),
            latent_dim=self.latent_dim,
            hidden_dims=tuple(self.hidden_dims),
            n_classes=n_classes if self.has_head else None,
            missing_indicators=self.missing == "mask",
        )


#: The settings of early stopping (written to a card only when it is on).
EARLY_STOPPING_FIELDS = ("early_stopping", "validation_boreholes", "validation_seed")

_FIELDS = {f.name for f in dataclasses.fields(TrainingConfig)}


def hyper_parameters() -> dict[str, Hyper]:
    """Every declared setting a run takes by name: the training configuration's fields,
    then those of the registered recipes (their union, in declaration order)."""
    found = hyper_fields(TrainingConfig)
    for cls in RECIPES.values():
        for name, h in hyper_fields(cls).items():
            found.setdefault(name, h)
    return found


def _refuse_retired(names) -> None:
    retired = sorted(set(names) & set(RETIRED_FIELDS))
    if retired:
        raise LilyVAEError(f"{retired[0]} was removed: {RETIRED_FIELDS[retired[0]]}")


def make_config(
    model: str = "unsupervised", recipe: str | Recipe = "standard", **options
) -> TrainingConfig:
    """A TrainingConfig from a model kind, a recipe (name or object) and flat overrides.

    ``options`` mixes training fields (epochs, batch_size, lr, seed, ...) and recipe
    fields (beta, alpha, mask_ratio, ...); ``None`` means "keep the default".
    """
    options = {k: v for k, v in options.items() if v is not None}
    _refuse_retired(options)
    training = {k: options.pop(k) for k in list(options) if k in _FIELDS - {"recipe"}}
    if isinstance(recipe, Recipe):
        recipe_obj = recipe.with_overrides(**options)
    else:
        recipe_obj = get_recipe(recipe, **options)
    return TrainingConfig(model=model, recipe=recipe_obj, **training)


def config_from_dict(params: dict) -> TrainingConfig:
    """Rebuild a TrainingConfig saved with :meth:`TrainingConfig.to_dict` (a model card's
    ``training`` section or an ensemble's run manifest).

    Retired settings (``compile`` in older files) are ignored; other unknown keys are
    refused, never dropped.
    """
    if not isinstance(params, dict) or not isinstance(params.get("recipe"), dict):
        raise LilyVAEError("not a training configuration (it has no recipe section)")
    given = {k: v for k, v in params.items() if k not in RETIRED_FIELDS}
    unknown = sorted(set(given) - _FIELDS)
    if unknown:
        raise LilyVAEError(
            "not a training configuration: unknown setting(s) " + ", ".join(map(repr, unknown))
        )
    recipe = recipe_from_dict(given.pop("recipe"))
    return TrainingConfig(recipe=recipe, **given)


# --- the axes of a sweep's grid --------------------------------------------------------------


def grid_axes() -> tuple[str, ...]:
    """The settings a sweep may vary, in declaration order (``seed`` is not one: a
    sweep's seeds are its own option)."""
    return tuple(name for name, h in hyper_parameters().items() if h.grid)


def _grid_hyper(name: str) -> Hyper:
    h = hyper_parameters().get(name)
    if h is None or not h.grid:
        known = ", ".join(a.replace("_", "-") for a in grid_axes())
        raise LilyVAEError(f"--grid: unknown hyper-parameter {name!r}; choose from {known}")
    return h


def _checked_grid_value(name: str, h: Hyper, value, written):
    problem = h.kind.problem(value)
    if problem is not None:
        raise LilyVAEError(f"--grid {name.replace('_', '-')}: {name} {problem}, not {written}")
    return value


def parse_grid_value(name: str, text: str):
    """One value of grid axis ``name`` from its text; list values are written ``64/32``
    (commas separate the axis's values)."""
    h = _grid_hyper(name)
    dashed = name.replace("_", "-")
    try:
        value = h.kind.read(text.strip().replace("/", ",") if h.kind.is_list else text)
    except ValueError as exc:
        if h.kind.is_list:
            raise LilyVAEError(
                f"--grid {dashed}: {text!r} is not a list of sizes (write e.g. 64/32)"
            ) from None
        raise LilyVAEError(f"--grid {dashed}: {exc}") from None
    return _checked_grid_value(name, h, value, text)


def normalise_grid_value(name: str, value):
    """One value of grid axis ``name`` given in Python (a grid written as a dict),
    as the field's type: ``2`` for an integer axis, ``(64, 32)`` for hidden sizes."""
    h = _grid_hyper(name)
    try:
        cast = h.kind.cast(value)
    except (TypeError, ValueError):
        cast = value
    return _checked_grid_value(name, h, cast, repr(value))
