"""A figure as data: :class:`FigureSpec` says what a figure needs and how to draw and
caption it; :class:`FigureInputs` is everything a figure may need, prepared once.

Adding a figure is writing its draw function, one ``FigureSpec`` beside it in its
family's module, and listing that spec in :data:`lilyvae.report.figures.all_figures.FIGURES`
(the order of the manifest).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.boreholes import borehole_positions
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, LABEL_COL
from lilyvae.data.tables import finite_feature_mask
from lilyvae.model.embeddings import NamedModel
from lilyvae.report.figure_options import DrawOptions  # noqa: F401  (the figures' settings)


@dataclass
class FigureInputs:
    """The table, models and metrics, and what every figure derives from them
    (computed once, when the inputs are made)."""

    table: pd.DataFrame  # every row of the table as read
    table_path: Path | None
    models: list[NamedModel]
    metrics: dict | None
    roc_curves: dict | None  # None: the metrics' own, if any
    embeddings: pd.DataFrame | None
    synthetic: bool
    options: DrawOptions
    properties: pd.DataFrame | None = None  # ``lilyvae properties``' table, when run
    # Derived from the above in __post_init__:
    valid: np.ndarray = field(init=False)  # rows of ``table`` whose six inputs are finite
    frame: pd.DataFrame = field(init=False)  # those rows, re-indexed from 0
    features: np.ndarray = field(init=False)  # (rows of frame, 6) raw inputs
    labels: pd.Series = field(init=False)  # lithology of each row of frame, NA where unlabelled
    held_out_ids: list[str] = field(init=False)
    held_out: np.ndarray | None = field(init=False)  # rows of frame in held-out boreholes
    scored: np.ndarray = field(init=False)  # rows that figures of model behaviour use
    scored_how: str = field(init=False)  # those rows, in words
    positions: pd.DataFrame | None = field(init=False)  # borehole positions, when known
    recipe: str | None = field(default=None, init=False)  # set by recipe_groups
    borehole: str | None = field(default=None, init=False)  # set by per_borehole
    memo: dict = field(default_factory=dict, init=False)  # shared by a figure's draw and caption

    def __post_init__(self) -> None:
        self.table_path = None if self.table_path is None else Path(self.table_path)
        self.valid = finite_feature_mask(self.table)
        frame = self.frame = self.table.loc[self.valid].reset_index(drop=True)
        self.features = frame[list(FEATURE_COLS)].apply(pd.to_numeric).to_numpy(np.float64)
        self.labels = (
            frame[LABEL_COL].astype("string").str.strip().replace("", pd.NA)
            if LABEL_COL in frame.columns
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
        self.held_out_ids, self.scored_how = held_out_boreholes(self.metrics, self.models)
        self.held_out = (
            frame[BOREHOLE_COL].astype(str).isin(set(self.held_out_ids)).to_numpy()
            if self.held_out_ids and BOREHOLE_COL in frame.columns
            else None
        )
        some_held_out = self.held_out is not None and self.held_out.any()
        self.scored = self.held_out if some_held_out else np.ones(len(frame), bool)
        if self.roc_curves is None and self.metrics is not None:
            self.roc_curves = self.metrics.get("_roc_curves")
        self.positions = borehole_positions(self.table, self.table_path)

    def recipe_groups(self) -> list[FigureInputs]:
        """These inputs once per recipe, with only that recipe's models (the rows and
        held-out boreholes stay those of all the models)."""
        groups: dict[str, list[NamedModel]] = {}
        for m in self.models:
            groups.setdefault(m.recipe or "model", []).append(m)
        out = []
        for recipe, models in groups.items():
            group = copy.copy(self)
            group.models, group.recipe = models, recipe
            out.append(group)
        return out

    def per_borehole(self, boreholes: Sequence[str]) -> list[FigureInputs]:
        """These inputs once per borehole (``borehole`` set; everything else shared)."""
        out = []
        for borehole in boreholes:
            one = copy.copy(self)
            one.borehole = borehole
            out.append(one)
        return out


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
    "depths": lambda i: BOREHOLE_COL in i.frame.columns and DEPTH_COL in i.frame.columns,
    "group_scores": lambda i: any(
        (s.get("svm") or {}).get("group_confusion")
        for s in ((i.metrics or {}).get("subjects") or {}).values()
    ),
    "properties": lambda i: i.properties is not None and len(i.properties) > 0,
    "probabilities": lambda i: any(
        (s.get("probabilities") or {}).get("reliability")
        for s in ((i.metrics or {}).get("subjects") or {}).values()
    ),
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
    parts: Callable[[FigureInputs], list[tuple[str, FigureInputs]]] | None = None

    @property
    def skipped_as(self) -> str:
        return self.needs.skipped_as or self.name

    def instances(self, inputs: FigureInputs) -> list[tuple[str, FigureInputs]]:
        """(file name stem, inputs) of each figure this spec draws."""
        if self.parts is not None:
            return [(f"{self.name}_{suffix}", part) for suffix, part in self.parts(inputs)]
        if not self.per_recipe:
            return [(self.name, inputs)]
        return [(f"{self.name}_{g.recipe}", g) for g in inputs.recipe_groups()]

    def title_for(self, inputs: FigureInputs, tag: str) -> str:
        return tag + self.title.format(
            scored=inputs.scored_how, recipe=inputs.recipe, borehole=inputs.borehole
        )

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
        if m.model.card.held_out_boreholes:
            return m.model.card.held_out_boreholes, "rows of held-out boreholes"
    return [], "all rows (IN-SAMPLE: no held-out boreholes known)"
