"""Figures: every figure of the paper and of the evaluation, drawn from code.

Stage three of the downstream half (embeddings -> evaluation -> figures -> report).
Each ``fig_*`` function takes plain inputs (a table, models, the metrics) and returns a
matplotlib Figure, so a notebook can draw any one of them; :func:`make_figures` draws
them all into a folder (PNG at 150 dpi, PDF too on request) with a ``figures.json``
manifest of titles and captions that the report reads. Figures of SYNTHETIC data say so
in their titles and captions.

One module per family of figures (``data_figures``, ``borehole_map``,
``training_curves``, ``model_figures``, ``score_figures``, ``group_figures``,
``umap_figure``, ``downcore``), each ending with the :class:`FigureSpec` of its figures;
``drawing`` lists them all (:data:`FIGURES`) and draws them. Adding a figure is adding
its draw function and one spec. ``derived`` holds what several figures compute from the
models (embeddings of rows, GMM clusters, principal axes), once per drawing;
``explorer`` the rows and the Plotly view of the report's embedding explorer.

Scored rows: figures of model behaviour (reconstruction, ROC, confusion, KL) use rows of
the held-out boreholes named in the metrics (or in the first model's card), the rows the
models never saw; the file says when it must fall back to all rows. The UMAP figure
(and the explorer) lay out held-out and training rows together, and say so; the
down-core logs show whole boreholes, by default held-out ones.
"""

from lilyvae.report.figures.all_figures import (
    FIGURES,
    FigureInfo,
    FigureSet,
    figures_from_run,
    make_figures,
)
from lilyvae.report.figures.borehole_map import fig_borehole_map, land_fraction_grid
from lilyvae.report.figures.data_figures import (
    fig_dataset_overview,
    fig_input_distributions,
    fig_lithology_counts,
)
from lilyvae.report.figures.downcore import downcore_boreholes, fig_downcore
from lilyvae.report.figures.explorer import explorer_figure, explorer_html, explorer_points
from lilyvae.report.figures.figure_spec import DrawOptions, FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.group_figures import fig_class_recall, fig_group_confusion
from lilyvae.report.figures.model_figures import (
    fig_latent_kl,
    fig_prior_samples,
    fig_reconstruction,
)
from lilyvae.report.figures.score_figures import fig_roc, fig_zero_shot
from lilyvae.report.figures.style import DPI, HELD_OUT_COLOUR, TRAIN_COLOUR
from lilyvae.report.figures.training_curves import fig_training_curves
from lilyvae.report.figures.umap_figure import UMAP_COLOURED, fig_umap, umap_layouts
from lilyvae.run_folder import FIGURES_DIR, MANIFEST
from lilyvae.run_folder import read_figure_manifest as read_manifest

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
    "downcore_boreholes",
    "explorer_figure",
    "explorer_html",
    "explorer_points",
    "fig_borehole_map",
    "fig_class_recall",
    "fig_dataset_overview",
    "fig_downcore",
    "fig_group_confusion",
    "fig_input_distributions",
    "fig_latent_kl",
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
    "read_manifest",
    "umap_layouts",
]
