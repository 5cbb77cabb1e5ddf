"""The UMAP figure: 2-D layouts of each representation of the same rows, coloured by
lithology. The rows are drawn from held-out and training boreholes alike (half each,
when there are both), so that the report's embedding explorer, which shows the same
layouts, can colour them by held-out status.

UMAP is the slowest step of the figures. It spends most of its time, on a few thousand
rows, in its exact neighbour search (a Python-level distance loop); the neighbours are
found here with scikit-learn instead and handed to UMAP, and the layout is optimised for
200 epochs (UMAP's default for large tables) rather than 500. In a fresh process most
of the rest was numba compiling UMAP's code (about 9 s on a 2-core machine): umap-learn
compiles its graph and layout kernels without numba's on-disk cache, so every run paid
it again. :func:`cache_umap_kernels` turns that cache on, as lilyvae's own kernels have
it, and a later process loads the compiled code (the same code: the layouts are the
same bytes). umap is imported without pynndescent, which it imports for a neighbour
search the figures do not use and which compiles for 24 s on a machine's first run
(:mod:`lilyvae.report.figures.umap_import`). The layouts are also made in a worker process
(:func:`lilyvae.workers.side_pool`) while this one draws the other figures; the
numbers are the same.
"""

from __future__ import annotations

import functools
import time
import warnings
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.model_outputs import embedding_of
from lilyvae.report.figures.style import (
    OTHER_COLOUR,
    category_colours,
    legend_slot_grid,
    pyplot,
)
from lilyvae.report.figures.umap_import import import_umap

#: The most frequent lithologies get a colour each; the others are grey.
UMAP_COLOURED = 15
UMAP_NEIGHBOURS = 15
UMAP_MIN_DIST = 0.1
UMAP_EPOCHS = 200


@functools.cache
def cache_umap_kernels() -> int:
    """Turn numba's on-disk cache on for umap-learn's module-level kernels (where it
    is off: ``smooth_knn_dist``, ``compute_membership_strengths``, the layout's epoch),
    before they are first compiled in this process. Compiling them cost about 6 s of
    every fresh process's first UMAP on 2 cores; loaded from the cache, 0.1 s. The
    cache lies where numba puts lilyvae's own (beside the package, else numba's user
    cache, or ``NUMBA_CACHE_DIR``) and is keyed by the source, the types and the CPU,
    so it never serves code compiled for another. Returns how many kernels it set."""
    from numba.core.dispatcher import Dispatcher

    umap = import_umap()
    layouts, umap_ = umap.layouts, umap.umap_

    count = 0
    for module in (umap_, layouts):
        for kernel in vars(module).values():
            if isinstance(kernel, Dispatcher):
                try:
                    kernel.enable_caching()
                except RuntimeError:  # no place to cache it (a zipped install): compiled as before
                    continue
                count += 1
    return count


def umap_layouts(spaces: dict[str, np.ndarray], seed: int = 0) -> dict[str, np.ndarray]:
    """A 2-D UMAP layout per representation (standardised first), seeded."""
    from sklearn.neighbors import NearestNeighbors

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        umap = import_umap()
        cache_umap_kernels()
        out = {}
        for name, X in spaces.items():
            Xs = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 1e-12, X.std(axis=0), 1.0)
            Xs = Xs.astype(np.float32)
            k = min(UMAP_NEIGHBOURS, len(Xs) - 1)
            # Exact neighbours, each row its own first (as UMAP's own search returns them).
            dist, idx = NearestNeighbors(n_neighbors=k).fit(Xs).kneighbors(Xs)
            reducer = umap.UMAP(
                n_neighbors=k,
                min_dist=UMAP_MIN_DIST,
                n_epochs=UMAP_EPOCHS,
                random_state=seed,
                precomputed_knn=(idx, dist.astype(np.float32), None),
            )
            out[name] = reducer.fit_transform(Xs)
    return out


def fig_umap(layouts: dict[str, np.ndarray], labels: np.ndarray, title: str = "", seed: int = 0):
    """UMAP layouts coloured by the 15 most frequent lithologies (others grey), points
    drawn in a random order (seeded) so no lithology hides another by drawing order."""
    plt = pyplot()
    colours, palette = category_colours(labels, UMAP_COLOURED)
    colours = np.asarray(colours, dtype=object)
    other = colours == OTHER_COLOUR
    order = np.random.default_rng(seed).permutation(len(colours))
    order = np.concatenate([order[other[order]], order[~other[order]]])  # grey underneath
    fig, axes, legend_ax = legend_slot_grid(len(layouts), 3, (5.0, 4.6))
    sizes = np.where(other, 2.0, 3.0)  # the other lithologies smaller, and underneath
    for ax, (name, Y) in zip(axes, layouts.items(), strict=True):
        ax.scatter(
            Y[order, 0], Y[order, 1], s=sizes[order], c=list(colours[order]), lw=0, rasterized=True
        )
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=colour, label=cls)
        for cls, colour in palette.items()
    ] + [plt.Line2D([], [], marker="o", ls="", color=OTHER_COLOUR, label="other lithologies")]
    legend_ax.legend(
        handles=handles,
        loc="center",
        ncol=2 if len(handles) > 8 else 1,
        fontsize=7,
        frameon=False,
        title="lithology (15 most frequent)",
        title_fontsize=8,
    )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


@dataclass(frozen=True)
class UmapRun:
    """The rows laid out (indices into the valid rows), whether each is in a held-out
    borehole, their layouts, the time taken."""

    rows: np.ndarray
    held_out: np.ndarray
    layouts: dict[str, np.ndarray]
    seconds: float


def umap_sample(inputs: FigureInputs) -> np.ndarray:
    """Up to ``umap_rows`` labelled rows drawn with the seed: half from held-out
    boreholes and half from training boreholes when there are both (the larger side
    makes up for a smaller one), else from all labelled rows."""
    o = inputs.options
    rng = np.random.default_rng(o.seed)
    labelled = inputs.labels.notna().to_numpy()
    held = inputs.held_out if inputs.held_out is not None else np.zeros(len(labelled), bool)
    sides = [np.flatnonzero(labelled & held), np.flatnonzero(labelled & ~held)]
    if not all(len(side) for side in sides):
        pool = np.flatnonzero(labelled)
        return np.sort(rng.choice(pool, size=min(o.umap_rows, len(pool)), replace=False))
    first = min(len(sides[0]), max(o.umap_rows // 2, o.umap_rows - len(sides[1])))
    second = min(len(sides[1]), o.umap_rows - first)
    picked = [rng.choice(sides[0], first, replace=False), rng.choice(sides[1], second, False)]
    return np.sort(np.concatenate(picked))


def _spaces(inputs: FigureInputs, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The scaled inputs (scaler fitted on the training boreholes' rows) and each
    model's embedding of ``rows``."""
    from lilyvae.data.scaling import DistributionAwareScaler
    from lilyvae.report.figures.model_outputs import training_rows

    scaler = DistributionAwareScaler().fit(inputs.features[training_rows(inputs)])
    spaces = {"features": scaler.transform(inputs.features[rows])}
    for m in inputs.models:
        spaces[m.name] = embedding_of(inputs, m, rows)
    return spaces


#: Fewest points (rows x layouts) whose layouts are worth a worker process: a fresh
#: worker imports UMAP in about 3 s, about what 1,000 rows' five layouts take here.
SIDE_PROCESS_MIN_POINTS = 10_000


def timed_layouts(spaces: dict[str, np.ndarray], seed: int) -> tuple[dict, float]:
    """:func:`umap_layouts` and its seconds (what a worker process runs)."""
    t0 = time.perf_counter()
    return umap_layouts(spaces, seed), time.perf_counter() - t0


def _sample_and_spaces(inputs: FigureInputs):
    rows = umap_sample(inputs)
    held = inputs.held_out[rows] if inputs.held_out is not None else np.zeros(len(rows), bool)
    return rows, held, _spaces(inputs, rows)


def start_umap_run(inputs: FigureInputs, pool) -> bool:
    """Start the layouts in ``pool`` (a worker process) while this one draws the other
    figures, when they are large enough to be worth it; :func:`umap_run` collects them.
    The layouts are the same as this process would make (UMAP is seeded, one thread)."""
    if pool is None or "umap" in inputs.memo or "umap_pending" in inputs.memo:
        return False
    rows, held, spaces = _sample_and_spaces(inputs)
    if len(rows) * len(spaces) < SIDE_PROCESS_MIN_POINTS:
        return False
    job = pool.submit(timed_layouts, spaces, inputs.options.seed)
    inputs.memo["umap_pending"] = (rows, held, job)
    return True


def umap_run(inputs: FigureInputs) -> UmapRun:
    """The UMAP layouts of :func:`umap_sample` (once per inputs: the caption, and the
    report's explorer, read the same run); from the worker :func:`start_umap_run`
    started, if it did."""
    if "umap" not in inputs.memo:
        if "umap_pending" in inputs.memo:
            rows, held, job = inputs.memo.pop("umap_pending")
            try:
                layouts, seconds = job.result()
            except BrokenProcessPool:  # the worker died (killed, out of memory): here, then
                layouts, seconds = timed_layouts(_spaces(inputs, rows), inputs.options.seed)
        else:
            rows, held, spaces = _sample_and_spaces(inputs)
            layouts, seconds = timed_layouts(spaces, inputs.options.seed)
        inputs.memo["umap"] = UmapRun(rows, held, layouts, seconds)
    return inputs.memo["umap"]


def _draw_umap(inputs: FigureInputs, title: str):
    run = umap_run(inputs)
    labels = inputs.labels.to_numpy(dtype=object)[run.rows]
    return fig_umap(run.layouts, labels, title, inputs.options.seed)


def grey_lithologies(labels: np.ndarray, n: int = 3) -> tuple[int, list[str]]:
    """How many lithologies the UMAP draws grey, and the ``n`` with the most rows."""
    _, palette = category_colours(labels, UMAP_COLOURED)
    others = pd.Series([v for v in labels if v not in palette], dtype=object).value_counts()
    return len(others), list(others.index[:n])


def _umap_caption(inputs: FigureInputs) -> str:
    run, seed = umap_run(inputs), inputs.options.seed
    held = int(run.held_out.sum())
    count, most = grey_lithologies(inputs.labels.to_numpy(dtype=object)[run.rows])
    grey = (
        f" Grey, smaller and drawn first: the {count} other lithologies (most rows: "
        f"{', '.join(most)}); an island of grey is rows of those, set apart by their "
        "measurements, not missing values (only labelled rows with all six inputs are laid "
        "out)."
        if count
        else ""
    )
    return (
        f"UMAP ({UMAP_NEIGHBOURS} neighbours, min_dist {UMAP_MIN_DIST}, {UMAP_EPOCHS} "
        f"epochs, seed {seed}) of {len(run.rows):,} labelled rows drawn with seed {seed}: "
        f"{held:,} of held-out boreholes and {len(run.rows) - held:,} of training boreholes. "
        f"Coloured by the {UMAP_COLOURED} most frequent lithologies of those rows, points in "
        f"a random order; 'features' is the six scaled inputs.{grey} The report's embedding "
        f"explorer shows the same layouts. UMAP took {run.seconds:.0f} s."
    )


UMAP = FigureSpec(
    name="umap",
    title="UMAP of embeddings (held-out and training rows)",
    caption=_umap_caption,
    needs=Needs(("models", "labels"), "needs models and lithology labels"),
    draw=_draw_umap,
)
