"""A figure as data: :class:`FigureSpec` says what a figure needs and how to draw and
caption it; :class:`FigureInputs` is everything a figure may need, prepared once.

Adding a figure is writing its draw function, one ``FigureSpec`` beside it in its
family's module, and listing that spec in :data:`lilyvae.analysis.figures.drawing.FIGURES`
(the order of the manifest).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.analysis.embeddings import NamedModel
from lilyvae.data.boreholes import borehole_positions
from lilyvae.data.tables import (
    BOREHOLE_COL,
    FEATURE_COLS,
    LABEL_COL,
    finite_feature_mask,
)


@dataclass(frozen=True)
class DrawOptions:
    """Sizes and seed of the drawing (recorded in ``figures.json``)."""

    umap_rows: int = 3000
    scatter_rows: int = 3000
    prior_rows: int = 20000
    seed: int = 0


@dataclass
class FigureInputs:
    """The table, models and metrics, prepared once for every figure."""

    table: pd.DataFrame  # every row of the table as read
    table_path: Path | None
    valid: np.ndarray  # rows of ``table`` whose six inputs are finite
    frame: pd.DataFrame  # those rows, re-indexed from 0
    features: np.ndarray  # (rows of frame, 6) raw inputs
    labels: pd.Series  # lithology of each row of frame, NA where unlabelled
    held_out_ids: list[str]
    held_out: np.ndarray | None  # rows of frame in held-out boreholes
    scored: np.ndarray  # rows that figures of model behaviour use
    scored_how: str  # those rows, in words
    positions: pd.DataFrame | None  # borehole positions, when known
    models: list[NamedModel]
    metrics: dict | None
    roc_curves: dict | None
    embeddings: pd.DataFrame | None
    synthetic: bool
    options: DrawOptions
    recipe: str | None = None  # set for a figure drawn once per recipe
    memo: dict = field(default_factory=dict)  # results shared by a figure's draw and caption

    def recipe_groups(self) -> list[FigureInputs]:
        """These inputs once per recipe, with only that recipe's models."""
        groups: dict[str, list[NamedModel]] = {}
        for m in self.models:
            groups.setdefault(m.recipe or "model", []).append(m)
        return [dataclasses.replace(self, models=g, recipe=r) for r, g in groups.items()]


def _has_zero_shot(inputs: FigureInputs) -> bool:
    subjects = (inputs.metrics or {}).get("subjects") or {}
    return any(s.get("zero_shot") and "skipped" not in s["zero_shot"] for s in subjects.values())


#: What a figure may need, each a test of the inputs.
NEEDS: dict[str, Callable[[FigureInputs], bool]] = {
    "labels": lambda i: bool(i.labels.notna().any()),
    "positions": lambda i: i.positions is not None,
    "models": lambda i: bool(i.models),
    "roc_curves": lambda i: bool(i.roc_curves and i.metrics),
    "zero_shot": _has_zero_shot,
}


@dataclass(frozen=True)
class Needs:
    """What a figure needs of the inputs (names in ``NEEDS``), and the reason recorded
    in ``figures.json`` under ``skipped_as`` (default: the figure's name) when the
    inputs lack it."""

    inputs: tuple[str, ...] = ()
    missing: str = ""
    skipped_as: str | None = None

    def __post_init__(self) -> None:
        unknown = [n for n in self.inputs if n not in NEEDS]
        if unknown:
            raise ValueError(f"unknown figure need(s) {unknown}")

    def met_by(self, inputs: FigureInputs) -> bool:
        return all(NEEDS[need](inputs) for need in self.inputs)


@dataclass(frozen=True)
class FigureSpec:
    """One figure: its file name, title, caption, what it needs, how it is drawn.

    ``title`` follows the SYNTHETIC tag; ``{scored}`` and ``{recipe}`` in it are filled
    in. ``caption`` is text or a function of the inputs, called after ``draw``.
    ``per_recipe``: one figure per recipe of the models, named ``<name>_<recipe>``.
    """

    name: str
    title: str
    caption: str | Callable[[FigureInputs], str]
    draw: Callable[[FigureInputs, str], object]  # (inputs, title) -> matplotlib Figure
    needs: Needs = Needs()
    per_recipe: bool = False

    @property
    def skipped_as(self) -> str:
        return self.needs.skipped_as or self.name

    def instances(self, inputs: FigureInputs) -> list[tuple[str, FigureInputs]]:
        """(file name stem, inputs) of each figure this spec draws."""
        if not self.per_recipe:
            return [(self.name, inputs)]
        return [(f"{self.name}_{g.recipe}", g) for g in inputs.recipe_groups()]

    def title_for(self, inputs: FigureInputs, tag: str) -> str:
        return tag + self.title.format(scored=inputs.scored_how, recipe=inputs.recipe)

    def caption_for(self, inputs: FigureInputs) -> str:
        return self.caption(inputs) if callable(self.caption) else self.caption


def held_out_boreholes(metrics: dict | None, models: Sequence[NamedModel]) -> tuple[list[str], str]:
    """The held-out boreholes (from the metrics, else the first card naming some) and
    how the rows scored by figures of model behaviour are described."""
    if metrics is not None:
        ev = metrics["evaluation"]
        how = (
            "rows of held-out boreholes"
            if ev["mode"] != "IN-SAMPLE"
            else "rows of boreholes the downstream models did not fit on (IN-SAMPLE for the "
            "encoders)"
        )
        return list(ev.get("held_out_boreholes") or []), how
    for m in models:
        split = m.model.card.get("split") or {}
        if split.get("holdout_boreholes"):
            return list(split["holdout_boreholes"]), "rows of held-out boreholes"
    return [], "all rows (IN-SAMPLE: no held-out boreholes known)"


def prepare_inputs(
    table: pd.DataFrame,
    table_path: str | os.PathLike | None,
    models: list[NamedModel],
    metrics: dict | None,
    roc_curves: dict | None,
    embeddings: pd.DataFrame | None,
    synthetic: bool,
    options: DrawOptions,
) -> FigureInputs:
    """Every figure's inputs: the valid rows, their features and labels, the held-out
    boreholes' rows and the borehole positions."""
    table_path = None if table_path is None else Path(table_path)
    valid = finite_feature_mask(table)
    frame = table.loc[valid].reset_index(drop=True)
    features = frame[list(FEATURE_COLS)].apply(pd.to_numeric).to_numpy(np.float64)
    ho_ids, scored_how = held_out_boreholes(metrics, models)
    held_out = (
        frame[BOREHOLE_COL].astype(str).isin(set(ho_ids)).to_numpy()
        if ho_ids and BOREHOLE_COL in frame.columns
        else None
    )
    scored = held_out if held_out is not None and held_out.any() else np.ones(len(frame), bool)
    labels = (
        frame[LABEL_COL].astype("string").str.strip().replace("", pd.NA)
        if LABEL_COL in frame.columns
        else pd.Series(pd.NA, index=frame.index, dtype="string")
    )
    if roc_curves is None and metrics is not None:
        roc_curves = metrics.get("_roc_curves")
    return FigureInputs(
        table=table,
        table_path=table_path,
        valid=valid,
        frame=frame,
        features=features,
        labels=labels,
        held_out_ids=ho_ids,
        held_out=held_out,
        scored=scored,
        scored_how=scored_how,
        positions=borehole_positions(table, table_path),
        models=models,
        metrics=metrics,
        roc_curves=roc_curves,
        embeddings=embeddings,
        synthetic=synthetic,
        options=options,
    )
