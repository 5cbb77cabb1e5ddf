"""The grid of a sweep: which hyper-parameters vary, their values, and the cells."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence

from lilyvae.errors import LilyVAEError
from lilyvae.train.trainer import TrainingConfig, make_config

#: Hyper-parameters a sweep may vary, and how their values are written.
GRID_INT = ("epochs", "batch_size", "anneal_epochs", "plateau_patience", "latent_dim")
GRID_FLOAT = (
    "lr",
    "beta",
    "alpha",
    "beta_start",
    "mask_ratio",
    "mask_weight",
    "grad_clip",
    "plateau_factor",
)
GRID_FIELDS = GRID_INT + GRID_FLOAT + ("hidden_dims",)


def _parse_value(name: str, raw: str):
    text = raw.strip()
    option = f"--grid {name.replace('_', '-')}"
    if name == "hidden_dims":
        try:
            return tuple(int(v) for v in text.split("/"))
        except ValueError:
            raise LilyVAEError(
                f"{option}: {raw!r} is not a list of sizes (write e.g. 64/32)"
            ) from None
    if name in GRID_INT:
        try:
            return int(text)
        except ValueError:
            raise LilyVAEError(f"{option}: {raw!r} is not an integer") from None
    try:
        value = float(text)
    except ValueError:
        raise LilyVAEError(f"{option}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise LilyVAEError(f"{option}: {raw!r} is not a finite number")
    return value


def _normalise(key: str, value):
    if key == "hidden_dims":
        return tuple(int(v) for v in value)
    return int(value) if key in GRID_INT else float(value)


def _grid_items(specs: Sequence[str] | dict) -> list[tuple[str, object]]:
    """(name, values) pairs of a dict or of the command's ``NAME=V1,V2`` strings."""
    if isinstance(specs, dict):
        items = list(specs.items())
    else:
        items = []
        for spec in specs:
            name, sep, values = str(spec).partition("=")
            if not sep or not name.strip() or not values.strip():
                raise LilyVAEError(f"--grid {spec!r}: write NAME=VALUE1,VALUE2,...")
            items.append((name, values.split(",")))
    if not items:
        raise LilyVAEError("--grid: give at least one NAME=VALUE1,VALUE2,...")
    return items


def parse_grid(specs: Sequence[str] | dict) -> dict[str, list]:
    """``["beta=0.1,0.5,1", "alpha=0.1,0.5"]`` -> ``{"beta": [0.1, 0.5, 1.0], ...}``.

    Names are the hyper-parameters of ``lilyvae train`` (dashes or underscores);
    ``hidden-dims`` values are written ``64/32``. A dict is checked the same way.
    """
    grid: dict[str, list] = {}
    for name, values in _grid_items(specs):
        key = str(name).strip().lower().replace("-", "_")
        if key == "seed":
            raise LilyVAEError("--grid: seeds are not a grid axis; use --seeds N")
        if key not in GRID_FIELDS:
            known = ", ".join(f.replace("_", "-") for f in GRID_FIELDS)
            raise LilyVAEError(f"--grid: unknown hyper-parameter {name!r}; choose from {known}")
        if key in grid:
            raise LilyVAEError(f"--grid: {name!r} is given twice")
        if isinstance(values, (str, int, float)):
            values = [values]
        parsed = [
            _parse_value(key, v) if isinstance(v, str) else _normalise(key, v) for v in values
        ]
        if len(set(parsed)) != len(parsed):
            raise LilyVAEError(f"--grid {name}: a value is repeated")
        grid[key] = parsed
    return grid


def grid_cells(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values, the last name varying fastest."""
    return [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]


def config_with(base: TrainingConfig, **overrides) -> TrainingConfig:
    """``base`` with training or recipe fields replaced (checked like ``make_config``)."""
    fields = {f.name for f in dataclasses.fields(TrainingConfig)} - {"recipe", "model"}
    training = {name: getattr(base, name) for name in fields}
    return make_config(base.model, base.recipe, **(training | overrides))


def value_json(value):
    """A grid value as JSON holds it (``hidden_dims`` as a list)."""
    return list(value) if isinstance(value, tuple) else value


def value_text(value):
    """A grid value as a CSV cell holds it (``hidden_dims`` as ``64/32``)."""
    return "/".join(map(str, value)) if isinstance(value, (tuple, list)) else value


def params_json(params: dict) -> dict:
    return {k: value_json(v) for k, v in params.items()}


def params_text(params: dict) -> dict:
    return {k: value_text(v) for k, v in params.items()}


def cell_name(params: dict) -> str:
    """A cell's settings in one line: ``beta=0.5,hidden_dims=64x32``."""
    parts = []
    for k, v in params.items():
        text = "x".join(str(d) for d in v) if isinstance(v, tuple) else f"{v:g}"
        parts.append(f"{k}={text}")
    return ",".join(parts)
