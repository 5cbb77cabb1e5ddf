"""SYNTHETIC raw LILY tables (``lilyvae synth-lily``): each fault real files have is there.

Every check reads the written CSV files themselves, not the generator's own counts.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from global_land_mask import globe

from lilyvae.cli import main
from lilyvae.data.lily import (
    LILY_FILES,
    LILY_TABLES,
    MEASUREMENT_COLUMNS,
    METADATA_COLUMNS,
    build_dataset,
)
from lilyvae.synthetic.lily_files import SIDECAR_NAME, write_synthetic_lily
from lilyvae.synthetic.measurements import SyntheticLily

SCALE = 0.005
DEPTH = "Depth CSF-A (m)"


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """Written through the command, read back as text (nothing converted)."""
    folder = tmp_path_factory.mktemp("synth_lily") / "lily"
    code = main(["synth-lily", "--output-dir", str(folder), "--scale", str(SCALE), "--seed", "5"])
    assert code == 0
    text = {
        t: pd.read_csv(folder / LILY_FILES[t], dtype=str, keep_default_na=False)
        for t in LILY_TABLES
    }
    return folder, text


def numbers(column: pd.Series) -> pd.Series:
    return pd.to_numeric(column.replace("", np.nan), errors="coerce")


def borehole_ids(df: pd.DataFrame) -> set[str]:
    ok = (df["Exp"] != "") & (df["Site"] != "") & (df["Hole"] != "")
    return set((df["Exp"] + "-" + df["Site"] + "-" + df["Hole"])[ok])


def test_files_sidecar_and_columns(raw):
    folder, text = raw
    from lilyvae.synthetic.properties import PROPERTY_TABLES

    names = sorted(p.name for p in folder.iterdir())
    properties = [f"{t}_DataLITH.csv" for t in PROPERTY_TABLES] + ["properties.synthetic.json"]
    assert names == sorted([*LILY_FILES.values(), SIDECAR_NAME, *properties])
    sidecar = json.loads((folder / SIDECAR_NAME).read_text())
    assert sidecar["synthetic"] is True and "SYNTHETIC" in sidecar["notice"]
    orders = set()
    for t in LILY_TABLES:
        columns = list(text[t].columns)
        required = [*METADATA_COLUMNS, *MEASUREMENT_COLUMNS[t]]
        # The real column names, plus extra columns, in an order of the file's own.
        assert set(required) < set(columns) and len(columns) == len(set(columns))
        assert columns[: len(required)] != required
        orders.add(tuple(c for c in columns if c in METADATA_COLUMNS))
        assert sidecar["files"][t]["rows"] == len(text[t])
    assert len(orders) == len(LILY_TABLES)


def test_sampling_is_realistic(raw):
    _, text = raw
    per_bin = {}
    for t in LILY_TABLES:
        df = text[t]
        depth = numbers(df[DEPTH])
        key = df["Hole"] + df["Site"] + np.rint(depth / 0.2).astype("Int64").astype(str)
        per_bin[t] = key[depth.notna()].value_counts().median()
    assert per_bin["GRA"] >= 6 and per_bin["MS"] >= 6
    assert per_bin["NGR"] >= 2
    assert per_bin["RGB"] >= 30
    assert len(text["RGB"]) > 10 * len(text["NGR"])
    # Each instrument has its own spacing: depth steps within a borehole.
    for t, step in (("GRA", 0.025), ("NGR", 0.1), ("RGB", 0.005)):
        df = text[t]
        depth = numbers(df[DEPTH]).to_numpy()
        same = (df["Hole"].to_numpy()[1:] == df["Hole"].to_numpy()[:-1]) & np.isfinite(
            depth[1:] - depth[:-1]
        )
        steps = np.round(np.diff(depth)[same], 3)
        assert pd.Series(steps).mode()[0] == step


def test_missing_values_everywhere(raw):
    _, text = raw
    for t in LILY_TABLES:
        df = text[t]
        for col in [DEPTH, "Principal", "Hole", *MEASUREMENT_COLUMNS[t]]:
            assert (df[col] == "").sum() > 0, (t, col)


def test_outliers_outside_the_filters(raw):
    _, text = raw
    gra = numbers(text["GRA"]["Bulk density (GRA)"])
    assert (gra < 0.3).sum() > 0 and (gra > 4.0).sum() > 0
    rgb = pd.concat([numbers(text["RGB"][c]) for c in "RGB"])
    assert (rgb < 0).sum() > 0 and (rgb > 255).sum() > 0


def test_non_numeric_junk_in_a_measurement_column(raw):
    _, text = raw
    for t, col in (("MS", MEASUREMENT_COLUMNS["MS"][0]), ("RGB", "G")):
        cells = text[t][col]
        junk = cells[(cells != "") & numbers(cells).isna()]
        assert len(junk) > 0
        assert not junk.str.fullmatch(r"-?\d+(\.\d+)?").any()


def test_boreholes_in_only_some_tables(raw):
    _, text = raw
    ids = {t: borehole_ids(text[t]) for t in LILY_TABLES}
    everywhere = set.intersection(*ids.values())
    assert all(len(ids[t] - everywhere) > 0 for t in LILY_TABLES)
    assert ids["GRA"] - ids["RGB"] and ids["MS"] - ids["GRA"]


def test_depths_on_bin_edges(raw):
    _, text = raw
    for t in ("GRA", "MS", "RGB"):
        depth = text[t][DEPTH]
        depth = depth[depth != ""]
        millimetres = (depth.astype(float) * 1000).round().astype(np.int64)
        on_edge = depth[millimetres % 200 == 100].astype(float)
        assert len(on_edge) > 10
        quotient = on_edge / 0.2
        # Some land exactly on .5 (half to even decides), some just below it in float64.
        assert (quotient - np.floor(quotient) == 0.5).any()
        assert (quotient - np.floor(quotient) < 0.5).any()


def test_ties_in_the_lithology_vote(raw):
    _, text = raw
    df = text["GRA"]
    depth = numbers(df[DEPTH])
    ok = depth.notna() & (df["Principal"] != "") & (df["Hole"] != "")
    df = df[ok].assign(bin=np.rint(depth[ok] / 0.2).astype(np.int64))
    votes = df.groupby(["Exp", "Site", "Hole", "bin", "Principal"]).size()
    top = votes.groupby(level=[0, 1, 2, 3]).transform("max")
    tied = (votes == top).groupby(level=[0, 1, 2, 3]).sum()
    assert (tied >= 2).sum() > 0


def test_ocean_positions(raw):
    _, text = raw
    df = text["GRA"]
    lat = numbers(df["Latitude (DD)"]).to_numpy()
    lon = numbers(df["Longitude (DD)"]).to_numpy()
    water = numbers(df["Water Depth (mbsl)"]).to_numpy()
    assert np.isfinite(lat).all() and np.isfinite(lon).all()
    assert (np.abs(lat) <= 90).all() and (np.abs(lon) <= 180).all()
    assert globe.is_ocean(lat, lon).all()
    assert (water > 0).all()


def test_built_table_follows_the_synth_generator(raw, tmp_path):
    folder, _ = raw
    sidecar = json.loads((folder / SIDECAR_NAME).read_text())
    built = tmp_path / "table.csv"
    build_dataset(folder, built, progress=False)
    got = pd.read_csv(built, dtype={"Borehole_ID": str, "Principal": str})
    table = SyntheticLily(rows=sidecar["table_bins"], seed=5).table()
    both = got.merge(table, on=["Borehole_ID", "Depth_Bin"], suffixes=("", "_synth"))
    assert len(both) == len(got) >= 0.9 * len(table)
    assert (both["Principal"] == both["Principal_synth"]).mean() > 0.97
    for col in ("Bulk density (GRA)", "NGR total counts (cps)", "R", "G", "B"):
        assert np.corrcoef(both[col], both[col + "_synth"])[0, 1] > 0.9, col


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.csv")}


def test_same_seed_same_files(tmp_path):
    smallest = 0.0013
    a = write_synthetic_lily(tmp_path / "a", scale=smallest, seed=1)
    write_synthetic_lily(tmp_path / "b", scale=smallest, seed=1)
    write_synthetic_lily(tmp_path / "c", scale=smallest, seed=2)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")
    assert a["boreholes"] == 296


@pytest.mark.parametrize(
    "args, message",
    [
        (["--scale", "0.0001"], "too small"),
        (["--scale", "-1"], "--scale"),
        (["--seed", "x"], "--seed"),
    ],
)
def test_bad_arguments(tmp_path, capsys, args, message):
    out = tmp_path / "lily"
    try:
        code = main(["synth-lily", "--output-dir", str(out), *args])
    except SystemExit as exc:
        code = exc.code
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code != 0 and len(err) == 1 and message in err[0]
    assert not out.exists()


def test_synth_lily_writes_the_property_tables_unless_told_not_to(raw, tmp_path):
    from lilyvae.synthetic.properties import PROPERTY_TABLES

    folder, _ = raw
    for table in PROPERTY_TABLES:
        assert (folder / f"{table}_DataLITH.csv").is_file(), table
    assert json.loads((folder / "properties.synthetic.json").read_text())["synthetic"] is True
    bare = tmp_path / "bare"
    args = ["synth-lily", "--output-dir", bare, "--scale", SCALE, "--no-properties", "--quiet"]
    assert main([str(a) for a in args]) == 0
    assert sorted(p.name for p in bare.glob("*_DataLITH.csv")) == sorted(LILY_FILES.values())
