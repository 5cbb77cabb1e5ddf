"""SYNTHETIC LILY property tables (``AVS_DataLITH.csv`` ... ``TOR_DataLITH.csv``).

The reference's zero-shot test predicts 267 variables of 14 more LILY tables from the
embeddings (see ``lilyvae properties``). The real tables cannot ship, so this module
writes look-alikes beside the synthetic raw core tables of
:mod:`lilyvae.synthetic.lily_files`, for the same ``scale`` and ``seed``: the same
boreholes (``Exp``, ``Site``, ``Hole``, positions), the same depth grid and the same
geology (:mod:`lilyvae.synthetic.property_geology`), the real variable names
(``resources/lily_properties.csv``), each table's own depth column, and the LILY
metadata columns. Everything written here is SYNTHETIC: the sidecar
``properties.synthetic.json`` says so and records what each variable follows.

Rows
----
Each variable is present in about ``scale x`` its real number of matched bins (about 200
for most ICP and IW chemistry, 26k for JR6A at scale 1; at least one), on the boreholes
its coverage drew (variables with the same real count share their rows, as MAD's
do). Most rows lie inside bins of the synthetic training table; some do not: samples
below the cored bins of a borehole, and samples of extra holes (letters from the end
of the alphabet, so they never clash with the extra holes of the core tables). A few
bins hold a replicate sample. Soft-sediment tools (vane shear, torvane, penetrometer,
P-wave bayonets, pore water, gas) sample soft sediment almost only.

Junk, as in real files: missing cells, non-numeric tokens in some value columns,
missing depths and holes, a free-text ``Sample`` column, a bottom depth beside the top
depth, and the columns in a different order in every file.
"""

from __future__ import annotations

import math
import os
import string
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from lilyvae.data.csv_text import write_csv
from lilyvae.data.lily.property_tables import PROPERTY_TABLES, property_file, reference_variables
from lilyvae.data.lily.release import LATITUDE_COLUMN, LONGITUDE_COLUMN
from lilyvae.data.lily.release import WATER_DEPTH_COLUMN as WATER_COLUMN
from lilyvae.errors import LilyVAEError
from lilyvae.files import write_atomic, write_json_atomic
from lilyvae.synthetic.counts import BIN_M
from lilyvae.synthetic.generator import SYNTHETIC_NOTICE, SyntheticLily
from lilyvae.synthetic.lily_files import DEFAULT_SCALE, check_scale
from lilyvae.synthetic.property_geology import Sites, Values, drivers
from lilyvae.synthetic.property_values import table_values

#: Bumped whenever the same scale and seed would give different files.
GENERATOR_VERSION = "1.0"
SIDECAR_NAME = "properties.synthetic.json"

#: Share of the boreholes each table samples, and whether its tool needs soft sediment.
TABLE_LAYOUT = {
    "AVS": (0.3, True),
    "CARB": (0.7, False),
    "GE": (0.5, True),
    "ICP": (0.35, False),
    "IW": (0.5, True),
    "JR6A": (0.35, False),
    "KAPPA": (0.3, False),
    "MAD": (0.8, False),
    "PEN": (0.3, True),
    "PWB": (0.3, True),
    "PWC": (0.6, False),
    "SRMD": (0.35, False),
    "TCON": (0.6, False),
    "TOR": (0.2, True),
}
#: Weight of a bin by diagenetic rank (soft, lithified, basement) for soft-sediment tools.
SOFT_WEIGHTS = np.array([1.0, 0.1, 0.0])
#: Rows of a table beyond those its most common variable needs (other variables' bins).
SPARE_ROWS = 0.1
#: Rows outside every bin of the training table, as a share of the inside rows.
OUTSIDE_SHARE = {"below_cored_bins": 0.05, "extra_holes": 0.04}
OUTSIDE_PRESENT = 0.7  # chance that a variable has a value on an outside row
REPLICATE_SHARE = 0.04  # inside bins that hold a second sample
RATES = {"missing_cells": 0.002, "junk_cells": 0.003, "missing_depth": 0.002, "missing_hole": 0.001}
JUNK_TOKENS = ("n.d.", "<0.01", "BDL", "--", "#VALUE!")
SIGNIFICANT_DIGITS = 6


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise LilyVAEError(f"--seed must be >= 0 (a whole number), not {seed!r}")
    return int(seed)


def scaled_counts(scale: float, table: str) -> dict[str, int]:
    """Bins each variable of ``table`` is present in: its real matched count x scale."""
    ref = reference_variables()
    ref = ref[ref["table"] == table]
    return {
        v: max(1, int(round(n * scale)))
        for v, n in zip(ref["variable"], ref["n_matched_bins"], strict=True)
    }


# -- where the samples are ---------------------------------------------------------------
def _inside_rows(lily: SyntheticLily, table: str, n_rows: int, rng) -> np.ndarray:
    """Distinct generator rows (bins) sampled by a table's tool."""
    s = lily.strat
    share, soft = TABLE_LAYOUT[table]
    weight = SOFT_WEIGHTS[lily.signatures.rank[s.row_class]] if soft else np.ones(lily.rows)
    chosen = rng.random(len(lily.boreholes)) < share
    for b in rng.permutation(len(lily.boreholes)):  # more boreholes while too few bins
        if np.count_nonzero(weight[chosen[s.row_borehole]]) >= n_rows:
            break
        chosen[b] = True
    weight = weight * chosen[s.row_borehole]
    n_rows = min(n_rows, int(np.count_nonzero(weight)))
    return np.sort(rng.choice(lily.rows, size=n_rows, replace=False, p=weight / weight.sum()))


def _coverage(boreholes: np.ndarray, count: int, rng) -> np.ndarray:
    """Rows (mask) of ``count`` samples drawn from randomly ordered whole boreholes."""
    holes, sizes = np.unique(boreholes, return_counts=True)
    order = rng.permutation(holes.size)
    need = int(np.searchsorted(np.cumsum(sizes[order]), count)) + 1
    pool = np.flatnonzero(np.isin(boreholes, holes[order[:need]]))
    mask = np.zeros(boreholes.size, dtype=bool)
    mask[rng.choice(pool, size=min(count, pool.size), replace=False)] = True
    return mask


def _extra_hole_ids(lily: SyntheticLily, sources: np.ndarray) -> list[str]:
    """A new hole of each source borehole's site, lettered from the end of the alphabet."""
    bh = lily.boreholes
    used: dict[tuple, set] = {}
    for e, s, h in zip(bh["Exp"], bh["Site"], bh["Hole"], strict=True):
        used.setdefault((e, s), set()).add(h)
    out = []
    for b in sources:
        key = (bh["Exp"].iat[b], bh["Site"].iat[b])
        letter = next(c for c in reversed(string.ascii_uppercase) if c not in used[key])
        out.append(f"{key[0]}-{key[1]}-{letter}")
    return out


def _samples(lily: SyntheticLily, table: str, counts: dict[str, int], rng) -> dict:
    """Every sample of a table: source borehole, hole ID, depth, where it lies, presence."""
    s, ids = lily.strat, lily.boreholes["Borehole_ID"].to_numpy()
    n_inside = math.ceil((1 + SPARE_ROWS) * max(counts.values()))
    inside = _inside_rows(lily, table, n_inside, rng)
    present = {}
    for count in sorted(set(counts.values())):
        present[count] = _coverage(s.row_borehole[inside], count, rng)
    replicate = rng.random(inside.size) < REPLICATE_SHARE
    rows = np.concatenate([inside, inside[replicate]])
    source = s.row_borehole[rows]
    depth = s.row_bin[rows] * BIN_M + rng.uniform(-0.09, 0.09, rows.size)
    where = np.array(["inside"] * rows.size, dtype=object)
    holes = list(ids[source])
    masks = {c: np.concatenate([m, m[replicate]]) for c, m in present.items()}

    n_below = max(1, round(OUTSIDE_SHARE["below_cored_bins"] * inside.size))
    n_extra = max(1, round(OUTSIDE_SHARE["extra_holes"] * inside.size))
    below_src = rng.choice(np.unique(source), n_below)
    bottom = s.row_bin[s.row_ptr[below_src + 1] - 1] * BIN_M
    extra_src = rng.choice(np.unique(source), n_extra)
    extra_depth = s.row_bin[rng.integers(s.row_ptr[extra_src], s.row_ptr[extra_src + 1])] * BIN_M
    source = np.concatenate([source, below_src, extra_src])
    depth = np.concatenate([depth, bottom + rng.uniform(0.3, 30.0, n_below), extra_depth])
    holes += list(ids[below_src]) + _extra_hole_ids(lily, extra_src)
    where = np.concatenate([where, ["below_cored_bins"] * n_below, ["extra_holes"] * n_extra])
    n_out = n_below + n_extra
    masks = {c: np.concatenate([m, rng.random(n_out) < OUTSIDE_PRESENT]) for c, m in masks.items()}
    order = np.lexsort((depth, np.asarray(holes)))
    return {
        "source": source[order],
        "hole": np.asarray(holes, dtype=object)[order],
        "depth": np.round(depth[order], 2),
        "where": where[order],
        "present": {c: m[order] for c, m in masks.items()},
    }


# -- the file ---------------------------------------------------------------------------
def _significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """Values rounded to ``digits`` significant digits, as an instrument would print them."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mag = np.floor(np.log10(np.abs(values)))
    scale = 10.0 ** (digits - 1 - np.where(np.isfinite(mag), mag, 0.0))
    return np.round(values * scale) / scale


def depth_columns(table: str) -> tuple[str, ...]:
    """The depth columns a table's file has: its own depth column comes first."""
    own = reference_variables().set_index("table")["depth_column"].groupby(level=0).first()[table]
    if own.startswith("Top depth"):
        return own, "Bottom depth CSF-A (m)", "Top depth CSF-B (m)", "Bottom depth CSF-B (m)"
    return own, "Depth CSF-B (m)"


def _metadata(lily: SyntheticLily, table: str, smp: dict) -> dict[str, object]:
    """LILY metadata columns of each sample (positions and lithology of its borehole)."""
    bh = lily.boreholes
    src, depth = smp["source"], smp["depth"]
    parts = pd.Series(smp["hole"]).str.split("-", n=2, expand=True)
    top = bh["top_depth"].to_numpy()[src]
    rel = np.maximum(depth - top, 0.0)
    core = (rel // 9.5).astype(np.int64) + 1
    sect = np.minimum(((rel - (core - 1) * 9.5) // 1.5).astype(np.int64) + 1, 7)
    names = np.empty(src.size, dtype=object)
    for b in np.unique(src):
        names[src == b] = lily.lithology_at(bh["Borehole_ID"].iat[b], depth[src == b])
    group = lily.classes.set_index("Principal")["Group"]
    hard = np.array([lily.signatures.rank[i] == 2 for i in range(len(lily.classes))])
    hard_names = set(lily.classes["Principal"][hard])
    kind = np.where(depth < 250, 0, np.where(depth < 600, 1, 2))
    n = src.size
    return {
        "Exp": parts[0].to_numpy(),
        "Site": parts[1].to_numpy(),
        "Hole": parts[2].to_numpy(),
        "Core": core,
        "Type": np.array(["H", "X", "R"])[kind],
        "Sect": sect,
        "A/W": np.full(n, "W"),
        "Offset (cm)": np.round((rel - (core - 1) * 9.5 - (sect - 1) * 1.5) * 100, 1),
        "Timestamp (UTC)": pd.Timestamp("2015-01-01") + pd.to_timedelta(np.arange(n), "min"),
        "Instrument": np.full(n, table),
        "Text ID": [f"{table}{zlib.crc32(f'{table}{i}'.encode()) % 10**8}" for i in range(n)],
        "Test No.": 70_000_000 + np.arange(n),
        "Comments": np.full(n, None),
        "Prefix": np.full(n, None),
        "Principal": names,
        "Suffix": np.full(n, None),
        "Full Lithology": names,
        "Simplified Lithology": group.reindex(names).to_numpy(),
        "Lithology Type": np.where(np.isin(names, list(hard_names)), "igneous", "sedimentary"),
        LATITUDE_COLUMN: bh["latitude"].to_numpy()[src],
        LONGITUDE_COLUMN: bh["longitude"].to_numpy()[src],
        WATER_COLUMN: bh["water_depth_m"].to_numpy()[src],
        "Expanded Core Type": np.array(["APC", "XCB", "RCB"])[kind],
        "Sample": [f"{h}-{c}-{k} {table}" for h, c, k in zip(smp["hole"], core, sect, strict=True)],
    }


def _add_depths(cols: dict, table: str, depth: np.ndarray, rng) -> None:
    own, *others = depth_columns(table)
    cols[own] = depth
    length = rng.choice([0.01, 0.02, 0.05], depth.size)
    for name in others:
        bottom = name.startswith("Bottom")
        csf_b = "CSF-B" in name
        cols[name] = np.round((depth + (length if bottom else 0)) * (0.985 if csf_b else 1), 2)


def _junk(df: pd.DataFrame, value_columns: list[str], depth_column: str, rng) -> dict:
    """Real-file junk in place: missing cells, text tokens, missing depths and holes."""
    n = len(df)

    def pick(rate: float) -> np.ndarray:
        return rng.choice(n, size=min(n, max(1, int(rng.binomial(n, rate)))), replace=False)

    counts = {"missing_cells": 0, "junk_cells": 0}
    for col in value_columns:
        rows = pick(RATES["missing_cells"])
        counts["missing_cells"] += int(df[col].iloc[rows].notna().sum())
        df.loc[df.index[rows], col] = np.nan
    for col in value_columns[:2]:
        rows = pick(RATES["junk_cells"])
        text = df[col].astype(object)
        text.iloc[rows] = rng.choice(JUNK_TOKENS, rows.size)
        df[col] = text
        counts["junk_cells"] += int(rows.size)
    rows = pick(RATES["missing_depth"])
    df.loc[df.index[rows], depth_column] = np.nan
    counts["missing_depth"] = int(rows.size)
    rows = pick(RATES["missing_hole"])
    df.loc[df.index[rows], "Hole"] = None
    counts["missing_hole"] = int(rows.size)
    return counts


def property_table(
    lily: SyntheticLily, table: str, scale: float, sites: Sites, rng: np.random.Generator
) -> tuple[pd.DataFrame, dict]:
    """One SYNTHETIC property table (columns in a random order) and its sidecar entry."""
    counts = scaled_counts(scale, table)
    smp = _samples(lily, table, counts, rng)
    hole_codes = pd.factorize(smp["hole"])[0]
    made = table_values(
        table,
        Values(drivers(lily, smp["source"], smp["depth"], hole_codes), sites, rng),
        list(counts),
    )
    cols = _metadata(lily, table, smp)
    _add_depths(cols, table, smp["depth"], rng)
    variables = {}
    for name, (values, kind) in made.items():
        present = smp["present"][counts[name]]
        cols[name] = np.where(present, _significant(values), np.nan)
        variables[name] = {"kind": kind, "bins": counts[name]}
    df = pd.DataFrame(cols)
    artefacts = _junk(df, list(made), depth_columns(table)[0], rng)
    df = df[[df.columns[i] for i in rng.permutation(df.shape[1])]]
    where, n_where = np.unique(smp["where"], return_counts=True)
    info = {
        "file": property_file(table),
        "rows": len(df),
        "boreholes": int(pd.Series(smp["hole"]).nunique()),
        "depth_column": depth_columns(table)[0],
        "rows_by_place": dict(zip(where.tolist(), n_where.tolist(), strict=True)),
        "artefacts": artefacts,
        "variables": variables,
    }
    return df, info


def _check_tables(tables) -> tuple[str, ...]:
    if tables is None:
        return PROPERTY_TABLES
    tables = tuple(tables)
    unknown = [t for t in tables if t not in PROPERTY_TABLES]
    if unknown or not tables:
        raise LilyVAEError(
            f"unknown property table(s) {unknown}; choose from {', '.join(PROPERTY_TABLES)}"
        )
    return tables


def _output_folder(path) -> Path:
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: exists and is not a directory")
    return out


def write_property_tables(
    output_dir: str | os.PathLike,
    scale: float = DEFAULT_SCALE,
    seed: int = 0,
    tables=None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the SYNTHETIC property tables and ``properties.synthetic.json`` into a folder.

    ``scale`` and ``seed`` mean what they mean for
    :func:`lilyvae.synthetic.lily_files.write_synthetic_lily` (call both with the same
    values for consistent files). ``tables``: a subset of the 14 names (default all).
    Each file is written atomically; arguments are checked before anything is written.
    Returns the sidecar (also written).
    """
    bins, seed, tables = check_scale(scale), _check_seed(seed), _check_tables(tables)
    out = _output_folder(output_dir)
    lily = SyntheticLily(rows=bins, seed=seed)
    say = progress or (lambda _msg: None)
    streams = np.random.SeedSequence([seed, 2]).spawn(1 + len(PROPERTY_TABLES))
    n_sites = int(lily.strat.site_of_borehole.max()) + 1
    n_exp = int(lily.boreholes["Exp"].nunique())
    sites = Sites.draw(n_sites, n_exp, np.random.default_rng(streams[0]))
    files = {}
    out.mkdir(parents=True, exist_ok=True)
    for table in tables:
        rng = np.random.default_rng(streams[1 + PROPERTY_TABLES.index(table)])
        df, info = property_table(lily, table, float(scale), sites, rng)
        path = write_atomic(out / property_file(table), lambda tmp, df=df: write_csv(df, tmp))
        info["bytes"] = path.stat().st_size
        files[table] = info
        say(f"wrote {path} ({len(df):,} rows, {len(info['variables'])} variables)")
    from lilyvae import __version__

    sidecar = {
        "synthetic": True,
        "notice": SYNTHETIC_NOTICE.replace(
            "lilyvae.synthetic.generator", "lilyvae.synthetic.properties"
        )
        + " These files imitate the LILY property tables (Zenodo record 8408296).",
        "generator": "lilyvae.synthetic.properties",
        "generator_version": GENERATOR_VERSION,
        "lilyvae_version": __version__,
        "scale": float(scale),
        "seed": seed,
        "table_bins": bins,
        "kinds": {
            "lithology": "follows the lithology and the state behind the six measurements",
            "depth": "follows depth and per-site profiles (pore water, gas, strength)",
            "mixed": "both, or a site factor times one of them",
            "site": "constant within a borehole (instrument settings, file numbers)",
            "noise": "pure noise",
        },
        "files": files,
    }
    write_json_atomic(out / SIDECAR_NAME, sidecar)
    return sidecar
