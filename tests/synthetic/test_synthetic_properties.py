"""SYNTHETIC property tables: real names, scaled counts, coherent geology, real-file junk.

Every check reads the written CSV files back as text, as ``lilyvae properties`` does.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lilyvae.data.lily import METADATA_COLUMNS, depth_bin_index
from lilyvae.data.lily.property_tables import PROPERTY_TABLES, property_file, reference_variables
from lilyvae.errors import LilyVAEError
from lilyvae.synthetic.generator import SyntheticLily, generate_table
from lilyvae.synthetic.lily_files import check_scale
from lilyvae.synthetic.properties import SIDECAR_NAME, write_property_tables

SCALE = 0.05
SEED = 4


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic_properties") / "lily"
    write_property_tables(out, scale=SCALE, seed=SEED)
    return out


@pytest.fixture(scope="module")
def sidecar(folder):
    return json.loads((folder / SIDECAR_NAME).read_text())


@pytest.fixture(scope="module")
def table():
    """The synthetic training table of the same scale and seed (its bins)."""
    df = generate_table(rows=check_scale(SCALE), seed=SEED)
    return df.assign(bin=depth_bin_index(df["Depth_Bin"]))


def read(folder, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / property_file(name), dtype=str, keep_default_na=False)


def numbers(df: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(df[column], errors="coerce").to_numpy(float)


def matched(folder, name: str, table: pd.DataFrame) -> pd.DataFrame:
    """Rows of a property table in a bin of the training table, with that bin's inputs."""
    df = read(folder, name)
    depth_col = next(c for c in df.columns if c in ("Depth CSF-A (m)", "Top depth CSF-A (m)"))
    df = df[np.isfinite(numbers(df, depth_col))].copy()
    df["Borehole_ID"] = df["Exp"] + "-" + df["Site"] + "-" + df["Hole"]
    df["bin"] = depth_bin_index(numbers(df, depth_col))
    return df.merge(table, on=["Borehole_ID", "bin"], how="inner", suffixes=("", "_table"))


def test_every_table_with_the_real_names_and_metadata(folder, sidecar):
    ref = reference_variables()
    assert sidecar["synthetic"] and "SYNTHETIC" in sidecar["notice"]
    assert sorted(sidecar["files"]) == sorted(PROPERTY_TABLES)
    for name in PROPERTY_TABLES:
        df = read(folder, name)
        expected = set(ref.loc[ref["table"] == name, "variable"])
        own_depth = ref.loc[ref["table"] == name, "depth_column"].iat[0]
        assert expected <= set(df.columns), name  # names kept exactly, trailing blanks too
        assert own_depth in df.columns and "Sample" in df.columns
        assert {"Exp", "Site", "Hole", "Latitude (DD)"} <= set(df.columns)
        assert len(set(METADATA_COLUMNS) & set(df.columns)) >= 23
    assert sum(len(f["variables"]) for f in sidecar["files"].values()) == len(ref) == 267


def test_counts_scale_from_the_real_matched_counts(folder, table):
    ref = reference_variables().set_index(["table", "variable"])["n_matched_bins"]
    for name in ("MAD", "JR6A", "CARB"):
        m = matched(folder, name, table)
        for variable, n_real in ref[name].items():
            have = np.isfinite(numbers(m, variable))
            bins = m.loc[have, ["Borehole_ID", "bin"]].drop_duplicates().shape[0]
            target = max(1, round(n_real * SCALE))
            assert 0.9 * target <= bins <= target, (name, variable, bins, target)


def test_rows_outside_bins_and_the_same_boreholes(folder, sidecar, table):
    lily = SyntheticLily(rows=check_scale(SCALE), seed=SEED)
    known = set(lily.boreholes["Borehole_ID"])
    sites = {b.rsplit("-", 1)[0] for b in known}
    for name in PROPERTY_TABLES:
        places = sidecar["files"][name]["rows_by_place"]
        assert places["below_cored_bins"] > 0 and places["extra_holes"] > 0
        df = read(folder, name)
        ids = set((df["Exp"] + "-" + df["Site"] + "-" + df["Hole"]).loc[df["Hole"] != ""])
        extra = ids - known
        assert extra and {b.rsplit("-", 1)[0] for b in extra} <= sites
        assert all(b[-1] in "VWXYZ" for b in extra)  # never a letter the core tables use
        assert len(matched(folder, name, table)) < len(df)


def test_coherent_geology(folder, table):
    mad = matched(folder, "MAD", table)
    rho = numbers(mad, "Bulk density (g/cm^3)")
    gra = mad["Bulk density (GRA)"].to_numpy(float)
    porosity = numbers(mad, "Porosity (vol%)")
    ok = np.isfinite(rho) & np.isfinite(porosity)
    assert np.corrcoef(rho[ok], gra[ok])[0, 1] > 0.9  # MAD follows GRA
    assert np.corrcoef(rho[ok], porosity[ok])[0, 1] < -0.8  # porosity falls with density
    carb = matched(folder, "CARB", table)
    caco3 = numbers(carb, "Calcium carbonate (wt%)")
    inorganic = numbers(carb, "Inorganic carbon (wt%)")
    both = np.isfinite(caco3) & np.isfinite(inorganic)
    np.testing.assert_allclose(inorganic[both], 0.12 * caco3[both], rtol=1e-4, atol=1e-5)
    group = SyntheticLily(rows=check_scale(SCALE), seed=SEED).classes.set_index("Principal")
    groups = group["Group"].reindex(carb["Principal_table"]).to_numpy()
    ooze = np.nanmean(caco3[groups == "Carbonate"])
    assert ooze > 50 and ooze > 3 * np.nanmean(caco3[groups == "Clay/Mud"])


def test_site_level_and_noise_variables(folder, sidecar):
    kinds = [v["kind"] for f in sidecar["files"].values() for v in f["variables"].values()]
    assert {"lithology", "depth", "mixed", "site", "noise"} == set(kinds)
    jr6a = read(folder, "JR6A")
    volume = numbers(jr6a, "Sample volume (cm^3)")
    hole = jr6a["Exp"] + jr6a["Site"] + jr6a["Hole"]
    per_hole = pd.Series(volume).groupby(hole.to_numpy()).nunique()
    assert (per_hole <= 1).all() and pd.Series(volume).nunique() > 1


def test_real_file_junk(folder, sidecar):
    for name in ("CARB", "IW", "MAD"):
        df = read(folder, name)
        art = sidecar["files"][name]["artefacts"]
        values = [c for c in sidecar["files"][name]["variables"]]
        text = df[values].replace("", np.nan)
        junk = text.notna() & text.apply(pd.to_numeric, errors="coerce").isna()
        assert int(junk.to_numpy().sum()) == art["junk_cells"] > 0
        assert (df["Hole"] == "").sum() == art["missing_hole"] > 0
    orders = {tuple(read(folder, t).columns) for t in ("MAD", "PWC")}
    assert len(orders) == 2


def test_same_seed_same_bytes_and_bad_input(tmp_path, folder):
    write_property_tables(tmp_path / "again", scale=SCALE, seed=SEED, tables=["TOR"])
    assert (tmp_path / "again" / "TOR_DataLITH.csv").read_bytes() == (
        folder / "TOR_DataLITH.csv"
    ).read_bytes()
    with pytest.raises(LilyVAEError, match="scale"):
        write_property_tables(tmp_path / "x", scale=0)
    with pytest.raises(LilyVAEError, match="unknown property table"):
        write_property_tables(tmp_path / "x", scale=SCALE, tables=["XRF"])
    (tmp_path / "file").write_text("")
    with pytest.raises(LilyVAEError, match="not a directory"):
        write_property_tables(tmp_path / "file", scale=SCALE)
    assert not (tmp_path / "x").exists()
