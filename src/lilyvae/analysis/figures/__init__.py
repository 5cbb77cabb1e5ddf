"""Figures: every figure of the paper and of the evaluation, drawn from code.

Stage three of the downstream half (embeddings -> evaluation -> figures -> report).
Each ``fig_*`` function takes plain inputs (a table, models, the metrics) and returns a
matplotlib Figure, so a notebook can draw any one of them; :func:`make_figures` draws
them all into a folder (PNG at 150 dpi, PDF too on request) with a ``figures.json``
manifest of titles and captions that the report reads. Figures of SYNTHETIC data say so
in their titles and captions.

One module per family of figures (``data_figures``, ``borehole_map``,
``model_figures``, ``score_figures``, ``umap_figure``), each ending with the
:class:`FigureSpec` of its figures; ``drawing`` lists them all (:data:`FIGURES`) and
draws them. Adding a figure is adding its draw function and one spec.

Scored rows: figures of model behaviour (reconstruction, ROC, UMAP) use rows of the
held-out boreholes named in the metrics (or in the first model's card), the rows the
models never saw; the file says when it must fall back to all rows.
"""

from lilyvae.analysis.figures.borehole_map import fig_borehole_map, land_fraction_grid
from lilyvae.analysis.figures.data_figures import (
    fig_dataset_overview,
    fig_input_distributions,
    fig_lithology_counts,
)
from lilyvae.analysis.figures.drawing import (
    FIGURES,
    FigureInfo,
    FigureSet,
    figures_from_run,
    make_figures,
)
from lilyvae.analysis.figures.model_figures import (
    fig_prior_samples,
    fig_reconstruction,
    fig_training_curves,
    prior_samples,
)
from lilyvae.analysis.figures.score_figures import fig_roc, fig_zero_shot
from lilyvae.analysis.figures.spec import DrawOptions, FigureInputs, FigureSpec, Needs
from lilyvae.analysis.figures.style import DPI, HELD_OUT_COLOUR, TRAIN_COLOUR
from lilyvae.analysis.figures.umap_figure import UMAP_COLOURED, fig_umap, umap_layouts
from lilyvae.analysis.run_dir import FIGURES_DIR, MANIFEST
from lilyvae.analysis.run_dir import read_figure_manifest as read_manifest

__all__ = [
    "DPI",
    "FIGURES",
    "FIGURES_DIR",
    "HELD_OUT_COLOUR",
    "MANIFEST",
    "TRAIN_COLOUR",
    "UMAP_COLOURED",
    "DrawOptions",
    "FigureInfo",
    "FigureInputs",
    "FigureSet",
    "FigureSpec",
    "Needs",
    "fig_borehole_map",
    "fig_dataset_overview",
    "fig_input_distributions",
    "fig_lithology_counts",
    "fig_prior_samples",
    "fig_reconstruction",
    "fig_roc",
    "fig_training_curves",
    "fig_umap",
    "fig_zero_shot",
    "figures_from_run",
    "land_fraction_grid",
    "make_figures",
    "prior_samples",
    "read_manifest",
    "umap_layouts",
]
