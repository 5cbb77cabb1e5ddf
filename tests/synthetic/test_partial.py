"""Bins without colour in the synthetic data: gaps in the colour scans and boreholes never
scanned, in the real proportions (``synth --partial``, ``synth-lily --partial``); the
default outputs of a seed unchanged."""

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run
from global_land_mask import globe

from lilyvae.data.lily import build_dataset
from lilyvae.data.schema import COLOUR_COLS, TABLE_COLUMNS
from lilyvae.synthetic.generator import (
    generate_table,
    sidecar_path,
    synthetic_boreholes,
    write_synthetic_table,
)
from lilyvae.synthetic.lily_files import SIDECAR_NAME, write_synthetic_lily
from lilyvae.synthetic.measurements import SyntheticLily
from lilyvae.synthetic.partial import (
    REAL_BINS_WITH_COLOUR,
    REAL_BINS_WITHOUT_COLOUR,
    REAL_BOREHOLES_WITHOUT_COLOUR,
    PartialColour,
    colour_gaps,
)

REAL_RATIO = REAL_BINS_WITHOUT_COLOUR / REAL_BINS_WITH_COLOUR  # 0.69
ROWS = 6000


@pytest.fixture(scope="module")
def partial():
    return PartialColour(SyntheticLily(rows=ROWS, seed=3))


def test_the_default_table_is_the_partial_tables_colour_scanned_part(partial):
    full = partial.table()
    default = generate_table(rows=ROWS, seed=3)
    assert list(full.columns) == list(TABLE_COLUMNS)
    scanned = full.iloc[:ROWS].reset_index(drop=True)
    others = [c for c in TABLE_COLUMNS if c not in COLOUR_COLS]
    pd.testing.assert_frame_equal(scanned[others], default[others])
    kept = ~partial.gap
    pd.testing.assert_frame_equal(scanned[kept], default[kept])
    assert scanned.loc[partial.gap, list(COLOUR_COLS)].isna().all().all()


def test_real_proportions(partial):
    table = partial.table()
    without = table["R"].isna()
    assert table.loc[without, list(COLOUR_COLS)].isna().all().all()  # all three or none
    assert table.drop(columns=list(COLOUR_COLS)).notna().all().all()
    assert without.sum() / (~without).sum() == pytest.approx(REAL_RATIO, rel=0.01)
    coloured = table.groupby("Borehole_ID")["R"].apply(lambda r: r.notna().any())
    assert (~coloured).sum() == REAL_BOREHOLES_WITHOUT_COLOUR == 220
    assert coloured.sum() == 296  # every scanned borehole keeps some colour
    record = partial.record()
    assert record["bins_without_colour"] == without.sum()
    assert record["gap_bins"] == partial.gap.sum() > 0
    # Earlier expeditions, with ocean positions, holes of a site together.
    bh = partial.colourless.boreholes
    assert set(bh["Exp"]) <= {"320", "321", "323", "324", "327", "329", "330", "335"} | {
        "336",
        "342",
        "345",
    }
    assert globe.is_ocean(bh["latitude"].to_numpy(), bh["longitude"].to_numpy()).all()
    assert (bh.groupby(["Exp", "Site"])["latitude"].nunique() == 1).all()


def test_gaps_are_runs_inside_boreholes():
    row_ptr = np.array([0, 1, 40, 400, 1000])
    gap = colour_gaps(row_ptr, 100, np.random.default_rng(0))
    assert 100 <= gap.sum() <= 100 + 50  # the last run may overshoot
    for b in range(4):
        assert not gap[row_ptr[b] : row_ptr[b + 1]].all()
    starts = np.flatnonzero(np.diff(np.r_[0, gap.astype(int)]) == 1)
    assert len(starts) < gap.sum() / 2  # runs, not scattered bins


def test_synth_partial_command_and_sidecar(tmp_path, capsys):
    out = tmp_path / "t.csv"
    code, stdout, _ = run(
        ["synth", "--rows", 3000, "--seed", 2, "--partial", "--output", out], capsys
    )
    assert code == 0 and "without colour" in stdout
    table = pd.read_csv(out)
    info = json.loads(sidecar_path(out).read_text())
    assert info["rows"] == len(table) > 3000 and info["generator_rows"] == 3000
    assert info["partial"]["bins_without_colour"] == table["R"].isna().sum()
    assert set(synthetic_boreholes(info)["Borehole_ID"]) == set(table["Borehole_ID"])
    # Without --partial, the same seed's table as ever (no empty cell).
    plain = tmp_path / "plain.csv"
    write_synthetic_table(plain, rows=3000, seed=2)
    assert pd.read_csv(plain).notna().all().all()
    assert "partial" not in json.loads(sidecar_path(plain).read_text())


@pytest.fixture(scope="module")
def raw_partial(tmp_path_factory):
    folder = tmp_path_factory.mktemp("raw_partial")
    sidecar = write_synthetic_lily(folder, scale=0.01, seed=4, partial=True)
    return folder, sidecar


def test_synth_lily_partial_rgb_lacks_the_unscanned_boreholes(raw_partial):
    folder, sidecar = raw_partial
    ids = {}
    for table in ("GRA", "RGB"):
        df = pd.read_csv(
            folder / f"{table}_DataLITH.csv", usecols=["Exp", "Site", "Hole"], dtype=str
        ).dropna()
        ids[table] = set(df["Exp"] + "-" + df["Site"] + "-" + df["Hole"])
    unscanned = {b for b in ids["GRA"] if b.split("-")[0] in {"320", "329", "345"}}
    assert unscanned and not unscanned & ids["RGB"]
    assert json.loads((folder / SIDECAR_NAME).read_text())["partial"] == sidecar["partial"]


def test_building_partial_files_keeps_bins_without_colour_in_real_proportions(
    raw_partial, tmp_path
):
    folder, _ = raw_partial
    kept = build_dataset(folder, tmp_path / "p.csv", progress=False, keep_partial=True)
    plain = build_dataset(folder, tmp_path / "d.csv", progress=False)
    colour = kept["colour"]
    assert colour == plain["colour"] | {
        "bins_without_colour_kept": True,
        "what": colour["what"],
    }
    ratio = colour["bins_without_colour"] / colour["bins_with_colour"]
    assert 0.55 < ratio < 0.8  # real: 0.69 (the files' own artefacts add noise)
    assert 180 <= colour["boreholes_without_any_colour"] <= 260  # real: 220
    table = pd.read_csv(tmp_path / "p.csv", dtype={"Borehole_ID": str})
    default = pd.read_csv(tmp_path / "d.csv", dtype={"Borehole_ID": str})
    complete = table.dropna(subset=list(COLOUR_COLS)).reset_index(drop=True)
    pd.testing.assert_frame_equal(complete, default)
