"""The map of borehole positions, over coastlines drawn from the land mask that the
global-land-mask package ships (nothing is downloaded)."""

from __future__ import annotations

import functools
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.boreholes import borehole_table_path, position_columns
from lilyvae.data.schema import BOREHOLE_COL
from lilyvae.errors import LilyVAEError
from lilyvae.files import user_cache_dir, write_atomic
from lilyvae.report.figures.figure_spec import FigureInputs, FigureSpec, Needs
from lilyvae.report.figures.style import HELD_OUT_COLOUR, TRAIN_COLOUR, pyplot

#: Version of the cached grid's file (bump when the averaging changes).
LAND_GRID_FORMAT = 1


def _land_mask_file() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise LilyVAEError("the map needs the global-land-mask package (pip install it)")
    return Path(list(spec.submodule_search_locations)[0]) / "globe_combined_mask_compressed.npz"


@functools.lru_cache(maxsize=2)
def land_fraction_grid(step: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, land fraction) on a coarse grid, from global-land-mask's shipped mask.

    The package ships a 1 km land mask (2.4 MB compressed, 0.9 GB as an array, which its
    own import loads whole). It is streamed block by block and averaged over ``step`` x
    ``step`` cells (30: a quarter degree), so memory stays small. Inflating it takes
    about 4 s, a seventh of the demo's figures, so the grid is kept in the user's cache
    (:func:`lilyvae.files.user_cache_dir`), named by the mask's size and CRC-32 (read
    from the zip's directory: its content, not its file time, so every install of the
    same mask, a fresh clone's included, shares one cache file); a cache that cannot be
    read or written is passed over, never an error.
    """
    npz = _land_mask_file()
    cached = user_cache_dir() / (
        f"land_fraction_v{LAND_GRID_FORMAT}_step{step}_{_mask_fingerprint(npz)}.npz"
    )
    try:
        with np.load(cached) as f:
            return f["lat"], f["lon"], f["land"]
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile):
        pass  # none yet, or unreadable: average the mask again
    lat, lon, land = _average_land_mask(npz, step)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(cached, lambda tmp: _save_grid(tmp, lat, lon, land))
    except (OSError, LilyVAEError):
        pass  # a read-only home: the next map averages the mask again
    return lat, lon, land


def _mask_fingerprint(npz: Path) -> str:
    """The mask's uncompressed size and CRC-32, as the zip's directory records them."""
    try:
        with zipfile.ZipFile(npz) as zf:
            info = zf.getinfo("mask.npy")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise LilyVAEError(f"{npz}: not the land mask global-land-mask ships ({exc})") from None
    return f"{info.file_size}_{info.CRC:08x}"


def _save_grid(path: Path, lat, lon, land) -> None:
    with open(path, "wb") as fh:  # a file object: np.savez adds ".npz" to a bare name
        np.savez(fh, lat=lat, lon=lon, land=land)


def _average_land_mask(npz: Path, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from numpy.lib import format as npformat

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
            cell = float(step * step)
            for i in range(rows_out):
                block = np.frombuffer(fh.read(step * n_lon), dtype=np.uint8)
                block = block.reshape(step, cols_out, step)
                # Integer sums (exact) then one division: the mean of each cell.
                ocean = block.sum(axis=0, dtype=np.uint16).sum(axis=1, dtype=np.uint32)
                grid[i] = 1.0 - ocean / cell  # the mask is True over the ocean
    lat_c = lat[: rows_out * step].reshape(rows_out, step).mean(axis=1)
    lon_c = lon[: cols_out * step].reshape(cols_out, step).mean(axis=1)
    return lat_c, lon_c, grid


def fig_borehole_map(positions: pd.DataFrame, held_out_ids=None, title: str = ""):
    """Borehole locations over coastlines (global-land-mask, no download)."""
    plt = pyplot()
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


def _map_caption(inputs: FigureInputs) -> str:
    source = (
        "the table's latitude/longitude columns"
        if position_columns(inputs.table)
        else f"{borehole_table_path(inputs.table_path).name}"
    )
    synthetic = "; SYNTHETIC positions near where each expedition drilled"
    return (
        f"Borehole positions (from {source}{synthetic if inputs.synthetic else ''}). "
        "Coastlines from the land mask shipped in global-land-mask."
    )


BOREHOLE_MAP = FigureSpec(
    name="borehole_map",
    title="borehole locations",
    caption=_map_caption,
    needs=Needs(
        ("positions",),
        "no latitude/longitude columns and no <table stem>.boreholes.csv beside the table",
    ),
    draw=lambda inputs, title: fig_borehole_map(inputs.positions, inputs.held_out_ids, title),
)
