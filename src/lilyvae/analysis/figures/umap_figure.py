"""The UMAP figure: 2-D layouts of each representation of the same held-out rows,
coloured by lithology."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lilyvae.analysis.embeddings import embedded_names, embedding_matrix
from lilyvae.analysis.figures.spec import FigureInputs, FigureSpec, Needs
from lilyvae.analysis.figures.style import panel_grid, pyplot
from lilyvae.data.schema import BOREHOLE_COL

#: The most frequent lithologies get a colour each; the others are grey.
UMAP_COLOURED = 15


def umap_layouts(spaces: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """A 2-D UMAP layout per representation (standardised first), seeded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import umap

        out = {}
        for name, X in spaces.items():
            Xs = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 1e-12, X.std(axis=0), 1.0)
            reducer = umap.UMAP(n_neighbors=15, min_dist=0.1, random_state=seed)
            out[name] = reducer.fit_transform(Xs.astype(np.float32))
    return out


def fig_umap(layouts: dict[str, np.ndarray], labels: np.ndarray, title: str = ""):
    """UMAP layouts coloured by the 15 most frequent lithologies (others grey)."""
    plt = pyplot()
    labels = np.asarray(labels, dtype=object)
    known = pd.Series(labels[pd.notna(labels)])
    top = list(known.value_counts().index[:UMAP_COLOURED])
    cmap = plt.get_cmap("tab20")
    fig, axes = panel_grid(len(layouts), 3, (5.2, 4.8), extra_height=1.2)
    other = ~np.isin(labels, top)
    for k, (name, Y) in enumerate(layouts.items()):
        ax = axes.flat[k]
        ax.scatter(Y[other, 0], Y[other, 1], s=2, color="#c8c8c8", rasterized=True)
        for c, cls in enumerate(top):
            sel = labels == cls
            ax.scatter(Y[sel, 0], Y[sel, 1], s=2, color=cmap(c % 20), rasterized=True)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=cmap(c % 20), label=cls)
        for c, cls in enumerate(top)
    ] + [plt.Line2D([], [], marker="o", ls="", color="#c8c8c8", label="other lithologies")]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig


@dataclass(frozen=True)
class UmapRun:
    """The rows laid out (indices into the valid rows), their layouts, the time taken."""

    rows: np.ndarray
    layouts: dict[str, np.ndarray]
    seconds: float


def _precomputed_embeddings(inputs: FigureInputs) -> set[str]:
    """Models whose embeddings the given embedded table holds for the same rows."""
    emb, table = inputs.embeddings, inputs.table
    if emb is None or len(emb) != len(table):
        return set()
    same = (
        BOREHOLE_COL not in table.columns
        or BOREHOLE_COL not in emb.columns
        or (
            emb[BOREHOLE_COL].astype(str).to_numpy() == table[BOREHOLE_COL].astype(str).to_numpy()
        ).all()
    )
    return set(embedded_names(emb)) if same else set()


def _spaces(inputs: FigureInputs, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The scaled inputs (scaler fitted on the rows not scored) and each model's
    embedding of ``rows``, from the embedded table where it has them."""
    from lilyvae.data.scaling import DistributionAwareScaler

    features, scored = inputs.features, inputs.scored
    train_rows = ~scored if (~scored).any() else np.ones(len(inputs.frame), bool)
    scaler = DistributionAwareScaler().fit(features[train_rows])
    spaces = {"features": scaler.transform(features[rows])}
    precomputed = _precomputed_embeddings(inputs)
    for m in inputs.models:
        if m.name in precomputed:
            spaces[m.name] = embedding_matrix(inputs.embeddings, m.name)[inputs.valid][rows]
        else:
            spaces[m.name] = m.model.embed(features[rows])
    return spaces


def umap_run(inputs: FigureInputs) -> UmapRun:
    """Lay out up to ``umap_rows`` labelled scored rows, drawn with the seed (once per
    inputs: the caption reads the same run)."""
    if "umap" not in inputs.memo:
        seed = inputs.options.seed
        rng = np.random.default_rng(seed)
        pool = np.flatnonzero(inputs.scored & inputs.labels.notna().to_numpy())
        rows = np.sort(
            rng.choice(pool, size=min(inputs.options.umap_rows, len(pool)), replace=False)
        )
        spaces = _spaces(inputs, rows)
        t0 = time.perf_counter()
        layouts = umap_layouts(spaces, seed)
        inputs.memo["umap"] = UmapRun(rows, layouts, time.perf_counter() - t0)
    return inputs.memo["umap"]


def _draw_umap(inputs: FigureInputs, title: str):
    run = umap_run(inputs)
    return fig_umap(run.layouts, inputs.labels.to_numpy(dtype=object)[run.rows], title)


def _umap_caption(inputs: FigureInputs) -> str:
    run, seed = umap_run(inputs), inputs.options.seed
    return (
        f"UMAP (15 neighbours, min_dist 0.1, seed {seed}) of {len(run.rows):,} "
        f"{inputs.scored_how} drawn with seed {seed}, coloured by the {UMAP_COLOURED} most "
        "frequent lithologies of those rows (others grey); 'features' is the six scaled "
        f"inputs. UMAP took {run.seconds:.0f} s."
    )


UMAP = FigureSpec(
    name="umap",
    title="UMAP of embeddings ({scored})",
    caption=_umap_caption,
    needs=Needs(("models", "labels"), "needs models and lithology labels"),
    draw=_draw_umap,
)
