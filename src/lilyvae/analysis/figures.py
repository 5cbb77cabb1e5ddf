"""Figures: every figure of the paper and of the evaluation, drawn from code.

Stage three of the downstream half (embeddings -> evaluation -> figures -> report).
Each ``fig_*`` function takes plain inputs (a table, models, the metrics) and returns a
matplotlib Figure, so a notebook can draw any one of them; :func:`make_figures` draws
them all into a folder (PNG at 150 dpi, PDF too on request) with a ``figures.json``
manifest of titles and captions that the report reads. Figures of SYNTHETIC data say so
in their titles and captions.

Scored rows: figures of model behaviour (reconstruction, ROC, UMAP) use rows of the
held-out boreholes named in the metrics (or in the first model's card), the rows the
models never saw; the file says when it must fall back to all rows.
"""

from __future__ import annotations

import functools
import json
import os
import time
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.analysis.embeddings import (
    NamedModel,
    as_named_models,
    embedded_names,
    embedding_matrix,
)
from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, FEATURE_SHORT, LABEL_COL
from lilyvae.data.tables import finite_feature_mask, read_table
from lilyvae.errors import LilyVAEError
from lilyvae.files import write_atomic, write_json_atomic

DPI = 150
FIGURES_DIR = "figures"
MANIFEST = "figures.json"
_LAT_NAMES = ("latitude", "Latitude (DD)", "lat", "Latitude")
_LON_NAMES = ("longitude", "Longitude (DD)", "lon", "Longitude")
UMAP_COLOURED = 15
TRAIN_COLOUR = "#3b6ea5"
HELD_OUT_COLOUR = "#e07b1a"


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _tag(synthetic: bool) -> str:
    return "SYNTHETIC data: " if synthetic else ""


# --- inputs -----------------------------------------------------------------------------


def borehole_table_path(table: str | os.PathLike) -> Path:
    """``<table stem>.boreholes.csv`` beside a table."""
    p = Path(table)
    return p.with_name(p.stem + ".boreholes.csv")


def read_borehole_table(path: str | os.PathLike) -> pd.DataFrame:
    """A borehole table with at least Borehole_ID, latitude and longitude."""
    df = pd.read_csv(path, dtype={BOREHOLE_COL: str})
    missing = [c for c in (BOREHOLE_COL, "latitude", "longitude") if c not in df.columns]
    if missing:
        raise LilyVAEError(f"{path}: missing column(s) {', '.join(map(repr, missing))}")
    return df


def borehole_positions(
    df: pd.DataFrame, table_path: str | os.PathLike | None
) -> pd.DataFrame | None:
    """Borehole positions from the table's own lat/lon columns, else from
    ``<stem>.boreholes.csv`` beside it; None when neither exists."""
    lat = next((c for c in _LAT_NAMES if c in df.columns), None)
    lon = next((c for c in _LON_NAMES if c in df.columns), None)
    if lat and lon and BOREHOLE_COL in df.columns:
        g = df.groupby(BOREHOLE_COL, sort=True)
        out = pd.DataFrame({"latitude": g[lat].mean(), "longitude": g[lon].mean()})
        out["rows"] = g.size()
        return out.reset_index()
    if table_path is not None and borehole_table_path(table_path).is_file():
        return read_borehole_table(borehole_table_path(table_path))
    return None


@functools.lru_cache(maxsize=2)
def land_fraction_grid(step: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, land fraction) on a coarse grid, from global-land-mask's shipped mask.

    The package ships a 1 km land mask (2.4 MB compressed, 0.9 GB as an array, which its
    own import loads whole). Here the file is streamed block by block and averaged over
    ``step`` x ``step`` cells (30: a quarter degree), so memory stays small.
    """
    import importlib.util

    from numpy.lib import format as npformat

    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise LilyVAEError("the map needs the global-land-mask package (pip install it)")
    npz = Path(list(spec.submodule_search_locations)[0]) / "globe_combined_mask_compressed.npz"
    with zipfile.ZipFile(npz) as zf:
        with zf.open("lat.npy") as fh:
            lat = npformat.read_array(fh)
        with zf.open("lon.npy") as fh:
            lon = npformat.read_array(fh)
        with zf.open("mask.npy") as fh:
            version = npformat.read_magic(fh)
            reader = (
                npformat.read_array_header_1_0
                if version == (1, 0)
                else npformat.read_array_header_2_0
            )
            shape, fortran, dtype = reader(fh)
            if fortran or dtype.itemsize != 1 or len(shape) != 2:
                raise LilyVAEError(f"{npz}: unexpected land mask layout")
            n_lat, n_lon = shape
            rows_out, cols_out = n_lat // step, n_lon // step
            grid = np.empty((rows_out, cols_out), dtype=np.float32)
            for i in range(rows_out):
                block = np.frombuffer(fh.read(step * n_lon), dtype=np.uint8)
                block = block.reshape(step, cols_out, step)
                grid[i] = 1.0 - block.mean(axis=(0, 2))  # the mask is True over the ocean
    lat_c = lat[: rows_out * step].reshape(rows_out, step).mean(axis=1)
    lon_c = lon[: cols_out * step].reshape(cols_out, step).mean(axis=1)
    return lat_c, lon_c, grid


# --- the figures -------------------------------------------------------------------------------


def fig_reconstruction(
    models: Sequence[NamedModel],
    features: np.ndarray,
    r2: dict[str, dict[str, float]] | None = None,
    rows: int = 3000,
    seed: int = 0,
    title: str = "",
):
    """Input vs reconstruction, one row per model, one column per feature (R2 in titles)."""
    plt = _plt()
    from lilyvae.analysis.evaluation import reconstruction_r2

    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(features), size=min(rows, len(features)), replace=False))
    fig, axes = plt.subplots(len(models), 6, figsize=(16, 2.7 * len(models) + 0.6), squeeze=False)
    for i, m in enumerate(models):
        scores = (r2 or {}).get(m.name) or reconstruction_r2(m.model, features)
        recon = m.model.reconstruct(features[idx])
        for j, short in enumerate(FEATURE_SHORT):
            ax = axes[i, j]
            x, y = features[idx, j], recon[:, j]
            lo, hi = np.percentile(np.concatenate([x, y]), [0.5, 99.5])
            ax.scatter(x, y, s=2, alpha=0.3, color=TRAIN_COLOUR, rasterized=True)
            ax.plot([lo, hi], [lo, hi], color="k", lw=0.8, ls="--")
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            ax.set_title(f"{m.name}: {short}  R2 = {scores[short]:.3f}", fontsize=8)
            if i == len(models) - 1:
                ax.set_xlabel("measured", fontsize=8)
            if j == 0:
                ax.set_ylabel("reconstructed", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_roc(roc: dict, subjects: Sequence[str], classifier: str = "svm", title: str = ""):
    """One-vs-rest ROC curves of the most frequent lithologies, one panel per subject."""
    plt = _plt()
    fpr = np.asarray(roc["fpr"])
    n = len(subjects)
    cols = min(n, 3)
    nrows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(5 * cols, 4.4 * nrows), squeeze=False)
    cmap = plt.get_cmap("tab10")
    for k, name in enumerate(subjects):
        ax = axes.flat[k]
        curves = roc["subjects"].get(name, {}).get(classifier, {})
        aucs = []
        for c, (cls, cur) in enumerate(curves.items()):
            ax.plot(fpr, cur["tpr"], lw=1.1, color=cmap(c % 10), label=f"{cls} ({cur['auc']:.2f})")
            aucs.append(cur["auc"])
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
        mean = f"mean AUC {np.mean(aucs):.3f}" if aucs else "no curves"
        ax.set_title(f"{name}: {mean}", fontsize=9)
        ax.set_xlabel("false positive rate", fontsize=8)
        ax.set_ylabel("true positive rate", fontsize=8)
        ax.legend(fontsize=6, loc="lower right")
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


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
    plt = _plt()
    labels = np.asarray(labels, dtype=object)
    known = pd.Series(labels[pd.notna(labels)])
    top = list(known.value_counts().index[:UMAP_COLOURED])
    cmap = plt.get_cmap("tab20")
    n = len(layouts)
    cols = min(n, 3)
    nrows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(5.2 * cols, 4.8 * nrows + 1.2), squeeze=False)
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
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=cmap(c % 20), label=cls)
        for c, cls in enumerate(top)
    ] + [plt.Line2D([], [], marker="o", ls="", color="#c8c8c8", label="other lithologies")]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=7, frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig


def fig_zero_shot(metrics: dict, title: str = ""):
    """Nearest-centroid accuracy (vs chance) and compactness on the zero-shot lithologies."""
    plt = _plt()
    rows = [
        (name, s["zero_shot"])
        for name, s in metrics["subjects"].items()
        if s.get("zero_shot") and "skipped" not in s["zero_shot"]
    ]
    if not rows:
        raise LilyVAEError("the metrics hold no zero-shot scores")
    names = [r[0] for r in rows]
    z = [r[1] for r in rows]
    saw = [bool(v.get("encoder_saw_labels")) for v in z]
    x = np.arange(len(rows))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = [
        ("nearest-centroid balanced accuracy", "nearest_centroid_balanced_accuracy", True),
        ("compactness (own / nearest other centroid; lower is better)", "compactness", False),
        ("silhouette (higher is better)", "silhouette", False),
    ]
    for ax, (label, key, chance) in zip(axes, panels, strict=True):
        vals = [np.nan if v.get(key) is None else v[key] for v in z]
        bars = ax.bar(
            x,
            vals,
            color=[HELD_OUT_COLOUR if s else TRAIN_COLOUR for s in saw],
            hatch=None,
        )
        for b, s in zip(bars, saw, strict=True):
            if s:
                b.set_hatch("//")
        for xi, v in zip(x, vals, strict=True):
            if np.isfinite(v):
                ax.text(xi, v, f"{v:.3f}", ha="center", va="bottom", fontsize=7)
        if chance:
            ax.axhline(z[0]["chance"], color="k", ls="--", lw=0.8)
            ax.text(len(x) - 0.5, z[0]["chance"], " chance", va="bottom", ha="right", fontsize=7)
        ax.set_xticks(x, names, rotation=25, ha="right", fontsize=7)
        ax.set_title(label, fontsize=9)
        ax.tick_params(labelsize=7)
    classes = metrics["evaluation"]["zero_shot_classes"]
    fig.suptitle(
        f"{title}\nclasses: {', '.join(classes)}   (hatched: the encoder saw these labels)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def prior_samples(model, n: int = 20000, seed: int = 0) -> np.ndarray:
    """Decode ``n`` draws from the N(0, I) prior and undo the scaling (raw units)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    module = model.module.eval()
    z = torch.randn(n, module.latent_dim, generator=gen)
    with torch.no_grad():
        scaled = module.decode(z).numpy().astype(np.float64)
    return model.scaler.inverse_transform(scaled)


def _signed_log_edges(lo: float, hi: float, n: int) -> np.ndarray:
    """Bin edges evenly spaced in sign(v) * log1p(|v|) from ``lo`` to ``hi``."""
    t = np.linspace(np.sign(lo) * np.log1p(abs(lo)), np.sign(hi) * np.log1p(abs(hi)), n)
    return np.sign(t) * np.expm1(np.abs(t))


def _feature_bins(values: np.ndarray, j: int, n: int = 60) -> tuple[np.ndarray, str]:
    """Histogram edges for feature ``j``: log-like for MS and NGR, linear otherwise."""
    lo, hi = np.percentile(values, [0.5, 99.5])
    if FEATURE_SHORT[j] in ("MS", "NGR"):
        return _signed_log_edges(lo, hi, n), "log"
    return np.linspace(lo, hi, n), "linear"


def fig_prior_samples(
    models: Sequence[NamedModel],
    features: np.ndarray,
    n: int = 20000,
    seed: int = 0,
    title: str = "",
):
    """Samples decoded from the prior vs the data, per model and feature."""
    plt = _plt()
    fig, axes = plt.subplots(len(models), 6, figsize=(16, 2.5 * len(models) + 0.6), squeeze=False)
    for i, m in enumerate(models):
        gen = prior_samples(m.model, n, seed)
        for j, short in enumerate(FEATURE_SHORT):
            ax = axes[i, j]
            edges, scale = _feature_bins(features[:, j], j)
            ax.hist(features[:, j], bins=edges, density=True, color="#bbbbbb", label="data")
            ax.hist(
                gen[:, j],
                bins=edges,
                density=True,
                histtype="step",
                lw=1.3,
                color=HELD_OUT_COLOUR,
                label="prior samples",
            )
            if scale == "log":
                ax.set_xscale("symlog", linthresh=1.0)
            ax.set_title(f"{m.name}: {short}", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.set_yticks([])
            if i == 0 and j == 0:
                ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_lithology_counts(
    labels: pd.Series, held_out: np.ndarray | None, top: int = 40, title: str = ""
):
    """Rows per lithology (the most frequent ``top``), split by training/held-out."""
    plt = _plt()
    labels = pd.Series(labels).reset_index(drop=True)
    counts = labels.value_counts()
    shown = list(counts.index[:top])
    fig, ax = plt.subplots(figsize=(9, 0.22 * len(shown) + 1.5))
    y = np.arange(len(shown))[::-1]
    if held_out is not None:
        tr = labels[~held_out].value_counts().reindex(shown, fill_value=0).to_numpy()
        te = labels[held_out].value_counts().reindex(shown, fill_value=0).to_numpy()
        ax.barh(y, tr, color=TRAIN_COLOUR, label="training boreholes")
        ax.barh(y, te, left=tr, color=HELD_OUT_COLOUR, label="held-out boreholes")
        ax.legend(fontsize=8, loc="lower right")
    else:
        ax.barh(y, counts[shown].to_numpy(), color=TRAIN_COLOUR)
    ax.set_yticks(y, shown, fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("rows (log scale)", fontsize=8)
    ax.set_title(
        f"{title}\n{len(counts)} lithologies, {int(counts.sum()):,} labelled rows; "
        f"the {len(shown)} most frequent shown",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def fig_input_distributions(features: np.ndarray, title: str = ""):
    """Histograms of the six inputs in raw units (log counts)."""
    plt = _plt()
    fig, axes = plt.subplots(2, 3, figsize=(13, 6.5))
    for j, (ax, name) in enumerate(zip(axes.flat, FEATURE_COLS, strict=True)):
        col = features[:, j]
        if FEATURE_SHORT[j] in ("MS", "NGR"):
            ax.hist(col, bins=_signed_log_edges(col.min(), col.max(), 81), color=TRAIN_COLOUR)
            ax.set_xscale("symlog", linthresh=1.0)
        else:
            ax.hist(col, bins=80, color=TRAIN_COLOUR)
        ax.set_yscale("log")
        q = np.percentile(col, [25, 50, 75])
        ax.set_title(
            f"{name}\nmean {col.mean():.3g}, sd {col.std():.3g}, quartiles "
            f"{q[0]:.3g} / {q[1]:.3g} / {q[2]:.3g}",
            fontsize=8,
        )
        ax.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_dataset_overview(df: pd.DataFrame, held_out: np.ndarray | None, title: str = ""):
    """Rows per borehole, depths, lithologies per borehole, and the numbers."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0, 0]
    if BOREHOLE_COL in df.columns:
        per = df.groupby(BOREHOLE_COL).size().sort_values(ascending=False)
        colours = TRAIN_COLOUR
        if held_out is not None:
            ho_ids = set(df.loc[held_out, BOREHOLE_COL])
            colours = [HELD_OUT_COLOUR if b in ho_ids else TRAIN_COLOUR for b in per.index]
        ax.bar(np.arange(len(per)), per.to_numpy(), color=colours, width=1.0)
        ax.set_yscale("log")
        ax.set_xlabel("boreholes, by rows", fontsize=8)
        ax.set_ylabel("rows", fontsize=8)
        ax.set_title(f"rows per borehole ({len(per)} boreholes; orange: held out)", fontsize=9)
    else:
        ax.axis("off")
    ax = axes[0, 1]
    if DEPTH_COL in df.columns:
        depth = pd.to_numeric(df[DEPTH_COL], errors="coerce").dropna()
        ax.hist(depth, bins=80, color=TRAIN_COLOUR)
        ax.set_yscale("log")
        ax.set_xlabel("depth (m CSF-A)", fontsize=8)
        ax.set_title(f"depth of rows (max {depth.max():,.0f} m)", fontsize=9)
    else:
        ax.axis("off")
    ax = axes[1, 0]
    if BOREHOLE_COL in df.columns and LABEL_COL in df.columns:
        nlith = df.groupby(BOREHOLE_COL)[LABEL_COL].nunique()
        ax.hist(nlith, bins=np.arange(0.5, nlith.max() + 1.5), color=TRAIN_COLOUR)
        ax.set_xlabel("lithologies per borehole", fontsize=8)
        ax.set_title(f"lithologies per borehole (median {nlith.median():.0f})", fontsize=9)
    else:
        ax.axis("off")
    ax = axes[1, 1]
    ax.axis("off")
    lines = [f"rows: {len(df):,}"]
    if BOREHOLE_COL in df.columns:
        lines.append(f"boreholes: {df[BOREHOLE_COL].nunique():,}")
    if LABEL_COL in df.columns:
        lines.append(f"lithologies: {df[LABEL_COL].nunique():,}")
        lines.append(f"unlabelled rows: {int(df[LABEL_COL].isna().sum()):,}")
    if held_out is not None and BOREHOLE_COL in df.columns:
        lines.append(
            f"held out: {df.loc[held_out, BOREHOLE_COL].nunique():,} boreholes, "
            f"{int(held_out.sum()):,} rows"
        )
    if DEPTH_COL in df.columns:
        lines.append(f"depth bins: {df[DEPTH_COL].min():.1f} to {df[DEPTH_COL].max():.1f} m")
    lines.append(f"inputs: {', '.join(FEATURE_SHORT)}")
    ax.text(0.02, 0.95, "\n".join(lines), va="top", fontsize=10, family="monospace")
    for a in axes.flat:
        a.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


_SCHEDULES = ("epoch_seconds", "beta", "lr")


def fig_training_curves(models: Sequence[NamedModel], title: str = ""):
    """Per-epoch loss terms from each model's history."""
    plt = _plt()
    n = len(models)
    cols = min(n, 2)
    nrows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(nrows, cols, figsize=(6.5 * cols, 3.8 * nrows), squeeze=False)
    for k, m in enumerate(models):
        ax = axes.flat[k]
        hist = m.model.history or {}
        for term, values in hist.items():
            if term in _SCHEDULES or not isinstance(values, list) or not values:
                continue
            arr = np.asarray(values, dtype=float)
            epochs = np.arange(1, len(arr) + 1)
            ax.plot(epochs, arr, marker=".", lw=1.2, label=term)
        if ax.lines and all(np.all(np.asarray(ln.get_ydata()) > 0) for ln in ax.lines):
            ax.set_yscale("log")
        beta = np.asarray(hist.get("beta") or [], dtype=float)
        if beta.size and np.ptp(beta) > 0:
            twin = ax.twinx()
            twin.plot(np.arange(1, beta.size + 1), beta, color="grey", ls="--", lw=1)
            twin.set_ylabel("beta (dashed)", fontsize=7)
            twin.tick_params(labelsize=7)
        lr = np.asarray(hist.get("lr") or [], dtype=float)
        if lr.size and np.ptp(lr) > 0:
            ax.text(
                0.01, 0.02, f"lr {lr[0]:.2g} -> {lr[-1]:.2g}", transform=ax.transAxes, fontsize=7
            )
        ax.set_title(f"{m.name} ({m.kind}, {m.recipe})", fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
        if not hist:
            ax.text(0.5, 0.5, "no history saved", ha="center", transform=ax.transAxes)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def fig_borehole_map(positions: pd.DataFrame, held_out_ids=None, title: str = ""):
    """Borehole locations over coastlines (global-land-mask, no download)."""
    plt = _plt()
    lat, lon, land = land_fraction_grid()
    fig, ax = plt.subplots(figsize=(13, 6.8))
    ax.contourf(lon, lat, land, levels=[0.5, 1.01], colors=["#e6e2d6"])
    ax.contour(lon, lat, land, levels=[0.5], colors=["#7a7a7a"], linewidths=0.4)
    ax.set_facecolor("#f3f8fc")
    pos = positions.dropna(subset=["latitude", "longitude"])
    sizes = 12.0
    if "rows" in pos.columns:
        r = pd.to_numeric(pos["rows"], errors="coerce").fillna(1).to_numpy()
        sizes = 6 + 60 * np.sqrt(r / max(r.max(), 1))
    ho = np.zeros(len(pos), dtype=bool)
    if held_out_ids is not None:
        ho = pos[BOREHOLE_COL].isin(set(held_out_ids)).to_numpy()
    sz = np.broadcast_to(sizes, (len(pos),))
    ax.scatter(
        pos["longitude"][~ho],
        pos["latitude"][~ho],
        s=sz[~ho],
        color=TRAIN_COLOUR,
        edgecolor="k",
        lw=0.3,
        alpha=0.8,
        label=f"training boreholes ({int((~ho).sum())})",
    )
    if ho.any():
        ax.scatter(
            pos["longitude"][ho],
            pos["latitude"][ho],
            s=sz[ho],
            color=HELD_OUT_COLOUR,
            edgecolor="k",
            lw=0.3,
            alpha=0.9,
            label=f"held-out boreholes ({int(ho.sum())})",
        )
    ax.set_xlim(-180, 180)
    ax.set_ylim(-85, 85)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude (deg)", fontsize=8)
    ax.set_ylabel("latitude (deg)", fontsize=8)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title + "\nmarker area grows with rows; coastlines: global-land-mask", fontsize=9)
    fig.tight_layout()
    return fig


# --- drawing everything ---------------------------------------------------------------------


@dataclass
class FigureInfo:
    name: str
    file: str
    title: str
    caption: str
    pdf: str | None = None


@dataclass
class FigureSet:
    output_dir: Path
    figures: list[FigureInfo]
    skipped: dict[str, str]
    manifest: Path


def _save(fig, out: Path, name: str, pdf: bool) -> tuple[str, str | None]:
    plt = _plt()
    png = out / f"{name}.png"
    write_atomic(png, lambda tmp: fig.savefig(tmp, dpi=DPI, format="png"))
    pdf_name = None
    if pdf:
        write_atomic(out / f"{name}.pdf", lambda tmp: fig.savefig(tmp, format="pdf"))
        pdf_name = f"{name}.pdf"
    plt.close(fig)
    return png.name, pdf_name


def _held_out_ids(metrics: dict | None, models: Sequence[NamedModel]) -> tuple[list[str], str]:
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


def make_figures(
    output_dir: str | os.PathLike,
    data: str | os.PathLike | pd.DataFrame,
    models=None,
    metrics: dict | None = None,
    roc_curves: dict | None = None,
    embeddings: pd.DataFrame | None = None,
    *,
    pdf: bool = False,
    umap_rows: int = 3000,
    scatter_rows: int = 3000,
    prior_rows: int = 20000,
    seed: int = 0,
    synthetic: bool | None = None,
    quiet: bool = True,
) -> FigureSet:
    """Draw every figure that the inputs allow into ``output_dir``; write ``figures.json``.

    ``data`` is the table (path or DataFrame); ``models`` checkpoints or NamedModels;
    ``metrics``/``roc_curves`` what :func:`lilyvae.analysis.evaluation.evaluate` returned or
    wrote; ``embeddings`` an embedded table (else the models embed the rows). A figure
    whose inputs are missing is skipped and the reason recorded.
    """
    from lilyvae.analysis.evaluation import synthetic_notice

    start = time.perf_counter()
    say = (lambda *_: None) if quiet else print
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    table_path = None if isinstance(data, pd.DataFrame) else Path(data)
    df = data if isinstance(data, pd.DataFrame) else read_table(data)
    models = as_named_models(models) if models else []
    if synthetic is None:
        synthetic = bool(
            (metrics or {}).get("synthetic")
            or (table_path is not None and synthetic_notice(table_path))
        )
    tag = _tag(synthetic)
    cap_tag = "SYNTHETIC data (not LILY). " if synthetic else ""
    if roc_curves is None and metrics is not None:
        roc_curves = metrics.get("_roc_curves")

    valid = finite_feature_mask(df)
    frame = df.loc[valid].reset_index(drop=True)
    features = frame[list(FEATURE_COLS)].apply(pd.to_numeric).to_numpy(np.float64)
    ho_ids, scored_how = _held_out_ids(metrics, models)
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
    rng_seed = seed
    figures: list[FigureInfo] = []
    skipped: dict[str, str] = {}

    def emit(name, fig, title, caption):
        png, pdf_name = _save(fig, out, name, pdf)
        figures.append(FigureInfo(name, png, title, cap_tag + caption, pdf_name))
        say(f"  {png}")

    # Data figures.
    title = f"{tag}dataset overview"
    emit(
        "dataset_overview",
        fig_dataset_overview(frame, held_out, title),
        title,
        "Rows per borehole (held-out boreholes in orange), depth of rows, lithologies per "
        "borehole, and the table's numbers.",
    )
    title = f"{tag}distributions of the six inputs (raw units)"
    emit(
        "input_distributions",
        fig_input_distributions(features, title),
        title,
        "Histograms of the six model inputs in raw units, counts on a log scale "
        "(MS and NGR on symmetric log axes).",
    )
    if labels.notna().any():
        title = f"{tag}lithology counts"
        emit(
            "lithology_counts",
            fig_lithology_counts(labels.astype(object), held_out, title=title),
            title,
            "Rows per lithology (Principal), most frequent first, training and held-out "
            "boreholes stacked; log scale.",
        )
    else:
        skipped["lithology_counts"] = "the table has no lithology labels"
    positions = borehole_positions(df, table_path)
    if positions is not None:
        title = f"{tag}borehole locations"
        emit(
            "borehole_map",
            fig_borehole_map(positions, ho_ids, title),
            title,
            "Borehole positions (from "
            + (
                "the table's latitude/longitude columns"
                if any(c in df.columns for c in _LAT_NAMES)
                else f"{borehole_table_path(table_path).name}"
            )
            + ("; SYNTHETIC positions near where each expedition drilled" if synthetic else "")
            + "). Coastlines from the land mask shipped in global-land-mask.",
        )
    else:
        skipped["borehole_map"] = (
            "no latitude/longitude columns and no <table stem>.boreholes.csv beside the table"
        )

    if not models:
        skipped["model figures"] = "no models given"
    else:
        title = f"{tag}training curves"
        emit(
            "training_curves",
            fig_training_curves(models, title),
            title,
            "Per-epoch averages of each loss term from the models' saved histories, in each "
            "recipe's own units (standard: sums per row; hybrid: means).",
        )
        # Reconstruction: one figure per recipe (unsupervised and semi-supervised rows).
        r2 = {
            name: s.get("reconstruction_r2")
            for name, s in ((metrics or {}).get("subjects") or {}).items()
            if s.get("reconstruction_r2")
        }
        groups: dict[str, list[NamedModel]] = {}
        for m in models:
            groups.setdefault(m.recipe or "model", []).append(m)
        for recipe, group in groups.items():
            name = f"reconstruction_{recipe}"
            title = f"{tag}reconstruction, {recipe} recipe ({scored_how})"
            emit(
                name,
                fig_reconstruction(group, features[scored], r2, scatter_rows, rng_seed, title),
                title,
                f"Measured against reconstructed values (decoding the posterior mean) for "
                f"{min(scatter_rows, int(scored.sum())):,} {scored_how}, drawn with seed "
                f"{seed}; R2 in raw units over all of them in the panel titles.",
            )
        title = f"{tag}samples from the prior"
        emit(
            "prior_samples",
            fig_prior_samples(models, features, prior_rows, rng_seed, title),
            title,
            f"{prior_rows:,} draws z ~ N(0, I) decoded and unscaled (orange) over the data's "
            "distribution (grey), per feature; MS and NGR on log-like axes.",
        )

    if roc_curves and metrics:
        subjects = list(metrics["subjects"])
        title = f"{tag}one-vs-rest ROC, RBF SVM on embeddings ({scored_how})"
        emit(
            "roc",
            fig_roc(roc_curves, subjects, "svm", title),
            title,
            "ROC curves of an RBF SVM fitted on training-borehole rows and scored on "
            f"{metrics['evaluation']['svm_test_rows']:,} {scored_how}, for the "
            f"{len(metrics['evaluation']['top_classes'])} most frequent lithologies "
            "(AUC in the legend); 'features' is the baseline of the six scaled inputs.",
        )
    else:
        skipped["roc"] = "no metrics with ROC curves (run lilyvae evaluate first)"

    if metrics and any(
        s.get("zero_shot") and "skipped" not in s["zero_shot"] for s in metrics["subjects"].values()
    ):
        ev = metrics["evaluation"]
        title = f"{tag}zero-shot lithologies ({scored_how})"
        emit(
            "zero_shot",
            fig_zero_shot(metrics, title),
            title,
            f"Lithologies {', '.join(ev['zero_shot_classes'])} ({ev['zero_shot_source']}). "
            "Centroids from training-borehole rows; held-out rows assigned to the nearest "
            "centroid among these classes only, no classifier fitted. Hatched bars: the "
            "encoder saw these labels in training, so for it the test is not zero-shot.",
        )
    else:
        skipped["zero_shot"] = "no zero-shot scores in the metrics"

    if models and labels.notna().any():
        rng = np.random.default_rng(seed)
        pool = np.flatnonzero(scored & labels.notna().to_numpy())
        idx = np.sort(rng.choice(pool, size=min(umap_rows, len(pool)), replace=False))
        from lilyvae.data.scaling import DistributionAwareScaler

        train_rows = ~scored if (~scored).any() else np.ones(len(frame), bool)
        spaces = {
            "features": DistributionAwareScaler().fit(features[train_rows]).transform(features[idx])
        }
        emb_names = set()
        if embeddings is not None and len(embeddings) == len(df):
            same = (
                BOREHOLE_COL not in df.columns
                or BOREHOLE_COL not in embeddings.columns
                or (
                    embeddings[BOREHOLE_COL].astype(str).to_numpy()
                    == df[BOREHOLE_COL].astype(str).to_numpy()
                ).all()
            )
            emb_names = set(embedded_names(embeddings)) if same else set()
        for m in models:
            if m.name in emb_names:
                spaces[m.name] = embedding_matrix(embeddings, m.name)[valid][idx]
            else:
                spaces[m.name] = m.model.embed(features[idx])
        t0 = time.perf_counter()
        layouts = umap_layouts(spaces, seed)
        title = f"{tag}UMAP of embeddings ({scored_how})"
        emit(
            "umap",
            fig_umap(layouts, labels.to_numpy(dtype=object)[idx], title),
            title,
            f"UMAP (15 neighbours, min_dist 0.1, seed {seed}) of {len(idx):,} {scored_how} "
            f"drawn with seed {seed}, coloured by the {UMAP_COLOURED} most frequent "
            "lithologies of those rows (others grey); 'features' is the six scaled inputs. "
            f"UMAP took {time.perf_counter() - t0:.0f} s.",
        )
    else:
        skipped["umap"] = "needs models and lithology labels"

    manifest = write_json_atomic(
        out / MANIFEST,
        {
            "synthetic": synthetic,
            "figures": [asdict(f) for f in figures],
            "skipped": skipped,
            "parameters": {
                "dpi": DPI,
                "umap_rows": umap_rows,
                "scatter_rows": scatter_rows,
                "prior_rows": prior_rows,
                "seed": seed,
                "scored_rows": scored_how,
            },
            "wall_time_s": round(time.perf_counter() - start, 2),
        },
    )
    return FigureSet(out, figures, skipped, manifest)


def read_manifest(figures_dir: str | os.PathLike) -> dict:
    path = Path(figures_dir) / MANIFEST
    if not path.is_file():
        raise LilyVAEError(f"{path}: no figure manifest (run lilyvae figures first)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LilyVAEError(f"{path}: not a readable figure manifest ({exc})") from None


# --- a run directory -----------------------------------------------------------------------------


def run_models(run_dir: Path, metrics: dict | None) -> list[tuple[str, Path]]:
    """The models of a run: those named in its metrics, else ``models/*.pt``."""
    out = []
    if metrics and metrics.get("models"):
        for name, info in metrics["models"].items():
            ckpt = info.get("checkpoint")
            if not ckpt:
                continue
            path = Path(ckpt)
            for cand in (run_dir / path, path, run_dir / "models" / path.name):
                if cand.is_file():
                    out.append((name, cand))
                    break
            else:
                raise LilyVAEError(f"{run_dir}: model {name!r} ({ckpt}) not found")
        if out:
            return out
    from lilyvae.analysis.embeddings import DEFAULT_NAMES
    from lilyvae.model.checkpoint import read_card

    for p in sorted((run_dir / "models").glob("*.pt")):
        card = read_card(p)
        out.append((p.stem or DEFAULT_NAMES[card["model"]["kind"]], p))
    return out


def figures_from_run(
    run_dir: str | os.PathLike,
    data: str | os.PathLike | None = None,
    models=None,
    output_dir: str | os.PathLike | None = None,
    **options,
) -> FigureSet:
    """Draw the figures of a run directory (``metrics.json``, ``roc_curves.json``,
    ``embeddings.parquet``, ``models/``) into ``<run>/figures``."""
    from lilyvae.analysis.evaluation import METRICS_FILE, ROC_FILE, read_metrics

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise LilyVAEError(f"{run_dir}: no such run directory")
    metrics = read_metrics(run_dir / METRICS_FILE) if (run_dir / METRICS_FILE).is_file() else None
    roc = None
    if (run_dir / ROC_FILE).is_file():
        roc = json.loads((run_dir / ROC_FILE).read_text(encoding="utf-8"))
    if data is None:
        recorded = (metrics or {}).get("data", {}).get("path")
        if recorded and Path(recorded).is_file():
            data = recorded
        elif recorded and (run_dir / recorded).is_file():
            data = run_dir / recorded
        else:
            tables = sorted((run_dir / "data").glob("*.csv")) + sorted(
                (run_dir / "data").glob("*.parquet")
            )
            tables = [t for t in tables if not t.name.endswith(".boreholes.csv")]
            if not tables:
                raise LilyVAEError(f"{run_dir}: no data table found; pass --data")
            data = tables[0]
    if models is None:
        models = run_models(run_dir, metrics)
    embeddings = None
    emb_path = run_dir / "embeddings.parquet"
    if emb_path.is_file():
        embeddings = read_table(emb_path)
    return make_figures(
        output_dir or run_dir / FIGURES_DIR,
        data,
        models,
        metrics,
        roc,
        embeddings,
        **options,
    )
