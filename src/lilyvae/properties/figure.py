"""The paper's zero-shot figure, from ``properties.csv``: drawn by
:func:`lilyvae.analysis.figures.property_figures.fig_zero_shot_properties` (the figures
stage draws it for a run); this reads the file and labels the figure."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from lilyvae.analysis.figures.property_figures import fig_zero_shot_properties
from lilyvae.properties.output import JSON_NAME, read_properties


def _is_synthetic(source) -> bool:
    if not isinstance(source, (str, os.PathLike)):
        return False
    path = Path(source)
    info = (path if path.is_dir() else path.parent) / JSON_NAME
    try:
        return bool(json.loads(info.read_text(encoding="utf-8")).get("synthetic"))
    except (OSError, ValueError):
        return False


def properties_figure(source, synthetic: bool | None = None):
    """The zero-shot figure from a ``properties.csv`` (its path, its folder, or the frame).

    ``synthetic``: label the figure SYNTHETIC (default: what ``properties.json`` beside
    the file says). Returns a matplotlib Figure (no pyplot state is touched).
    """
    frame = source if isinstance(source, pd.DataFrame) else read_properties(source)
    if synthetic is None:
        synthetic = _is_synthetic(source)
    tag = "SYNTHETIC data: " if synthetic else ""
    return fig_zero_shot_properties(frame, f"{tag}zero-shot prediction of LILY properties")
