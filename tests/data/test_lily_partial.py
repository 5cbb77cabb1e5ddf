"""``build-dataset --keep-partial``: bins with GRA, MS and NGR but no colour, on hand-made
raw tables; the default table unchanged, the manifest counting both."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run
from test_lily import reading, write_lily

from lilyvae.data.lily import LILY_TABLES, build_dataset, sidecar_paths

#: (hole, depth, in which tables, GRA reading, colour) and what each bin becomes:
#: "complete", "partial" (kept only with --keep-partial) or None (never kept).
BINS = [
    ("A", "0.0", "GRA MS NGR RGB", "1.5", ("50", "60", "70"), "complete"),
    ("A", "0.2", "GRA MS NGR RGB", "1.6", ("51", "61", "71"), "complete"),
    ("A", "0.4", "GRA MS NGR", "1.7", None, "partial"),  # a gap in the colour scan
    ("A", "0.6", "GRA MS NGR RGB", "1.8", ("52", "62", "72"), "complete"),
    ("A", "0.8", "GRA MS", "1.9", None, None),  # no NGR: never
    ("A", "1.0", "GRA MS NGR RGB", "1.5", ("300", "60", "70"), None),  # colour out of range
    ("A", "1.2", "GRA MS NGR", "4.5", None, None),  # GRA out of range, no colour
    ("B", "0.0", "GRA MS NGR", "1.4", None, "partial"),  # a borehole never scanned
    ("B", "0.2", "GRA MS NGR", "1.3", None, "partial"),
]


def rows() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {t: [] for t in LILY_TABLES}
    for hole, depth, tables, gra, colour, _ in BINS:
        for table in tables.split():
            value = {"GRA": gra, "MS": "12.5", "NGR": "30.25", "RGB": colour}[table]
            out[table].append(reading(table, depth, value, hole=hole))
    return out


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    root = tmp_path_factory.mktemp("partial")
    lily_dir = write_lily(root / "lily", rows())
    default = build_dataset(lily_dir, root / "default.csv", progress=False)
    partial = build_dataset(lily_dir, root / "partial.csv", progress=False, keep_partial=True)
    return root, default, partial


def read(path):
    return pd.read_csv(path, dtype={"Borehole_ID": str, "Principal": str})


def test_default_table_has_only_complete_bins(builds):
    root, manifest, _ = builds
    table = read(root / "default.csv")
    want = [(f"100-U1-{h}", float(d)) for h, d, *_, kind in BINS if kind == "complete"]
    assert list(zip(table["Borehole_ID"], table["Depth_Bin"], strict=True)) == want
    assert table.notna().all().all()
    assert manifest["parameters"]["keep_partial"] is False
    assert manifest["filters"]["rows_final"] == len(table) == 3


def test_keep_partial_keeps_bins_without_colour_empty(builds):
    root, _, manifest = builds
    table = read(root / "partial.csv")
    kept = [(f"100-U1-{h}", float(d), k) for h, d, *_, k in BINS if k is not None]
    assert list(zip(table["Borehole_ID"], table["Depth_Bin"], strict=True)) == [k[:2] for k in kept]
    partial = np.array([k[2] == "partial" for k in kept])
    assert table.loc[partial, ["R", "G", "B"]].isna().all().all()
    assert table.loc[~partial, ["R", "G", "B"]].notna().all().all()
    assert table.drop(columns=["R", "G", "B"]).notna().all().all()
    assert table.loc[partial, "Bulk density (GRA)"].tolist() == [1.7, 1.4, 1.3]
    # Its complete rows are the default table, value for value.
    complete = table.dropna(subset=["R"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(complete, read(root / "default.csv"))
    # The CSV leaves the colour cells of a bin without colour empty.
    lines = (root / "partial.csv").read_text().splitlines()
    assert lines[3].endswith(",,,") and lines[3].startswith("100-U1-A,0.4,1.7,")
    boreholes = pd.read_csv(sidecar_paths(root / "partial.csv")[0])
    assert boreholes["rows"].tolist() == [4, 2]


def test_manifest_counts_both(builds):
    _, default, partial = builds
    for manifest in (default, partial):
        colour = manifest["colour"]
        assert colour["bins_with_colour"] == 3 and colour["boreholes_with_colour"] == 1
        assert colour["bins_without_colour"] == 3  # A 0.4, B 0.0, B 0.2
        assert colour["boreholes_without_any_colour"] == 1  # B
    assert default["colour"]["bins_without_colour_kept"] is False
    assert partial["colour"]["bins_without_colour_kept"] is True
    assert partial["parameters"]["keep_partial"] is True
    assert partial["join"]["rows_after_join_RGB"] == default["join"]["rows_after_join_RGB"] == 4
    assert partial["join"]["rows_without_RGB_kept"] == 4  # A 0.4, A 1.2, B 0.0, B 0.2
    assert partial["filters"] == {
        "gra_outliers_removed": 1,  # A 1.2
        "rgb_outliers_removed": 1,  # A 1.0
        "rows_final": 6,
    }
    assert default["filters"] == {
        "gra_outliers_removed": 0,
        "rgb_outliers_removed": 1,
        "rows_final": 3,
    }
    assert partial["output"]["rows"] == 6 and partial["output"]["boreholes"] == 2


def test_keep_partial_command(tmp_path, capsys):
    lily_dir = write_lily(tmp_path / "lily", rows())
    out = tmp_path / "out" / "t.parquet"
    args = ["build-dataset", "--lily-dir", lily_dir, "--output", out, "--keep-partial"]
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    assert "3 bins with, 3 without (kept" in stdout
    assert "bins without colour kept" in "\n".join(err)
    table = pd.read_parquet(out)
    assert len(table) == 6 and table["R"].isna().sum() == 3
    manifest = json.loads(sidecar_paths(out)[1].read_text())
    assert manifest["output"]["sha256"] and manifest["colour"]["bins_without_colour_kept"]
