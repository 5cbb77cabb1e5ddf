"""The grid of a sweep: which hyper-parameters vary, their values, and the cells."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

from lilyvae.errors import LilyVAEError
from lilyvae.training.config import (
    TrainingConfig,
    grid_axes,
    make_config,
    normalise_grid_value,
    parse_grid_value,
)

#: Settings of the whole run that a grid cannot vary, and why.
RUN_SETTINGS = {
    "missing": "its values train on different rows (mask keeps the rows that drop leaves "
    "out), and a run's members share one set of rows; run one sweep per --missing value",
    "device": "every member of a run trains on the same device; give --device",
}


def _not_an_axis(name: str, key: str) -> str:
    """Why ``--grid NAME=...`` is refused: a setting of the whole run, or no setting."""
    from lilyvae.training.config import hyper_parameters

    if key in RUN_SETTINGS:
        return f"--grid: {name!r} cannot vary within a sweep: {RUN_SETTINGS[key]}"
    flag = "--" + key.replace("_", "-")
    declared = hyper_parameters().get(key)
    if declared is not None and (declared.flag or key == "model"):
        return (
            f"--grid: {name!r} is a setting of the whole run, not a grid axis; give it "
            f"once as {flag}"
        )
    known = ", ".join(f.replace("_", "-") for f in grid_axes())
    return f"--grid: unknown hyper-parameter {name!r}; choose from {known}"


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
        if key not in grid_axes():
            raise LilyVAEError(_not_an_axis(name, key))
        if key in grid:
            raise LilyVAEError(f"--grid: {name!r} is given twice")
        if isinstance(values, (str, int, float)):
            values = [values]
        parsed = [
            parse_grid_value(key, v) if isinstance(v, str) else normalise_grid_value(key, v)
            for v in values
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
