"""Building the training table from raw LILY files (``lilyvae build-dataset``).

The output is checked against a slow, obviously correct computation of the reference's
rules (one Python loop over the CSV rows), the bin-edge and tie rules against hand-made
rows, the manifest's counts against each other and against the synthetic files, and
every bad input against the installed command.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run

from lilyvae.data.lily import (
    LILY_FILES,
    LILY_TABLES,
    MEASUREMENT_COLUMNS,
    METADATA_COLUMNS,
    build_dataset,
    depth_bin_index,
    depth_bin_value,
    sidecar_paths,
)
from lilyvae.data.schema import TABLE_COLUMNS
from lilyvae.errors import LilyVAEError
from lilyvae.synthetic.lily_files import write_synthetic_lily

GRA, MS, NGR = (MEASUREMENT_COLUMNS[t][0] for t in ("GRA", "MS", "NGR"))
DEPTH = "Depth CSF-A (m)"

#: pandas' default missing-value strings (the reference read the files with pandas).
PANDAS_NA = {
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
}


# -- the slow, obviously correct computation ---------------------------------------------
def _number(text):
    if text is None or text in PANDAS_NA:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def slow_bins(path: Path, table: str, bin_size: float = 0.2) -> dict:
    """{(Borehole_ID, bin index): (means, most frequent Principal)} of one raw file."""
    readings = defaultdict(lambda: ([], Counter()))
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ids = [row["Exp"], row["Site"], row["Hole"]]
            depth = _number(row[DEPTH])
            principal = row["Principal"]
            values = [_number(row[c]) for c in MEASUREMENT_COLUMNS[table]]
            if any(x in PANDAS_NA for x in ids) or depth is None or principal in PANDAS_NA:
                continue
            if any(v is None for v in values):
                continue
            key = ("-".join(ids), round(depth / bin_size))  # round(): half to even
            readings[key][0].append(values)
            readings[key][1][principal] += 1
    out = {}
    for key, (values, votes) in readings.items():
        top = max(votes.values())
        means = [math.fsum(col) / len(col) for col in zip(*values, strict=True)]
        out[key] = (means, min(p for p, n in votes.items() if n == top))
    return out


def slow_build(lily_dir: Path, bin_size: float = 0.2) -> pd.DataFrame:
    per = {t: slow_bins(lily_dir / LILY_FILES[t], t, bin_size) for t in LILY_TABLES}
    rows = []
    for key in sorted(per["GRA"]):
        if not all(key in per[t] for t in ("MS", "NGR", "RGB")):
            continue
        (gra,), principal = per["GRA"][key]
        rgb = per["RGB"][key][0]
        if not 0.3 <= gra <= 4.0 or not all(0.0 <= c <= 255.0 for c in rgb):
            continue
        depth = round(key[1] * bin_size, 1)
        rows.append([key[0], depth, gra, principal, per["MS"][key][0][0], per["NGR"][key][0][0]])
        rows[-1] += rgb
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def assert_same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(TABLE_COLUMNS)
    assert len(got) == len(want) > 0
    for col in ("Borehole_ID", "Principal"):
        assert got[col].astype(str).tolist() == want[col].tolist(), col
    assert got["Depth_Bin"].tolist() == want["Depth_Bin"].tolist()
    for col in TABLE_COLUMNS:
        if col in ("Borehole_ID", "Depth_Bin", "Principal"):
            continue
        x, y = got[col].to_numpy(np.float64), want[col].to_numpy(np.float64)
        # Means of the same readings: equal up to the last bits of the summation.
        scale = max(1.0, float(np.abs(y).max()))
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-12 * scale, err_msg=col)


# -- small synthetic raw tables, built once ------------------------------------------------
@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    path = tmp_path_factory.mktemp("lily") / "raw"
    sidecar = write_synthetic_lily(path, scale=0.008, seed=3)
    return path, sidecar


@pytest.fixture(scope="module")
def built(raw, tmp_path_factory):
    lily_dir, _ = raw
    out = tmp_path_factory.mktemp("built") / "table.csv"
    manifest = build_dataset(lily_dir, out, progress=False)
    return out, manifest


def test_output_equals_the_slow_per_bin_computation(raw, built):
    lily_dir, _ = raw
    out, manifest = built
    got = pd.read_csv(out, dtype={"Borehole_ID": str, "Principal": str})
    want = slow_build(lily_dir)
    assert_same_table(got, want)
    assert manifest["output"]["rows"] == len(want)
    assert manifest["output"]["lithologies"] == want["Principal"].nunique()


def test_output_columns_order_and_clean_depths(built):
    out, _ = built
    with open(out, newline="") as fh:
        reader = csv.reader(fh)
        assert next(reader) == list(TABLE_COLUMNS)
        depths = [row[1] for row in reader]
    # Clean decimals (188.4), never the reference's float noise (188.40000000000003).
    assert all(len(d.split(".")[1]) == 1 for d in depths)
    df = pd.read_csv(out, dtype={"Borehole_ID": str, "Principal": str})
    # The very text pandas would write for this table.
    assert out.read_text() == df.to_csv(index=False)
    index = np.rint(df["Depth_Bin"].to_numpy() / 0.2).astype(np.int64)
    assert np.array_equal(depth_bin_value(index), df["Depth_Bin"].to_numpy())
    keys = list(zip(df["Borehole_ID"], index, strict=True))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert df.notna().all().all()
    assert df["Bulk density (GRA)"].between(0.3, 4.0).all()
    assert df[["R", "G", "B"]].stack().between(0, 255).all()


def test_manifest_counts_add_up(raw, built):
    lily_dir, sidecar = raw
    out, manifest = built
    on_disk = json.loads(sidecar_paths(out)[1].read_text())
    assert on_disk == manifest
    per_file = {t: slow_bins(lily_dir / LILY_FILES[t], t) for t in LILY_TABLES}
    for t in LILY_TABLES:
        counts = manifest["tables"][t]
        assert counts["rows_read"] == sidecar["files"][t]["rows"]
        assert counts["rows_read"] == counts["rows_dropped"] + counts["rows_used"]
        assert counts["rows_dropped"] == sum(counts["rows_dropped_by_reason"].values())
        assert counts["bins"] == len(per_file[t])
        assert counts["boreholes"] == len({bh for bh, _ in per_file[t]})
        info = manifest["inputs"][t]
        path = lily_dir / LILY_FILES[t]
        assert info["bytes"] == path.stat().st_size
        assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    # Every junk cell the generator wrote is counted as non-numeric, and only those.
    junk = manifest["tables"]["MS"]["non_numeric_values"][MS]
    assert junk == sidecar["files"]["MS"]["artefacts"]["junk_cells"] > 0
    assert (
        manifest["tables"]["RGB"]["non_numeric_values"]["G"]
        == (sidecar["files"]["RGB"]["artefacts"]["junk_cells"])
    )
    assert manifest["tables"]["GRA"]["non_numeric_values"][GRA] == 0
    assert manifest["tables"]["GRA"]["lithology_ties"] > 0
    join, filters = manifest["join"], manifest["filters"]
    assert join["bins_GRA"] == manifest["tables"]["GRA"]["bins"]
    assert (
        join["bins_GRA"]
        >= join["rows_after_join_MS"]
        >= join["rows_after_join_NGR"]
        >= join["rows_after_join_RGB"]
    )
    assert filters["gra_outliers_removed"] > 0 and filters["rgb_outliers_removed"] > 0
    assert filters["rows_final"] == (
        join["rows_after_join_RGB"]
        - filters["gra_outliers_removed"]
        - filters["rgb_outliers_removed"]
    )
    assert manifest["output"]["rows"] == filters["rows_final"]
    assert manifest["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["synthetic_inputs"] is True
    assert manifest["parameters"]["bin_size_m"] == 0.2
    assert manifest["wall_time_s"] > 0


def test_borehole_table(raw, built):
    out, manifest = built
    boreholes = pd.read_csv(sidecar_paths(out)[0], dtype={"Borehole_ID": str})
    table = pd.read_csv(out, dtype={"Borehole_ID": str})
    assert list(boreholes.columns) == [
        "Borehole_ID",
        "latitude",
        "longitude",
        "water_depth_m",
        "rows",
        "min_depth_m",
        "max_depth_m",
    ]
    per = table.groupby("Borehole_ID")["Depth_Bin"].agg(["size", "min", "max"])
    assert boreholes["Borehole_ID"].tolist() == per.index.tolist()
    assert boreholes["rows"].tolist() == per["size"].tolist()
    assert boreholes["min_depth_m"].tolist() == per["min"].tolist()
    assert boreholes["max_depth_m"].tolist() == per["max"].tolist()
    # Small scale: a borehole whose only bins were gaps or outliers is gone.
    assert len(boreholes) == manifest["output"]["boreholes"]
    assert 0.95 * raw[1]["boreholes"] <= len(boreholes) <= raw[1]["boreholes"]
    assert boreholes["latitude"].between(-90, 90).all()
    assert boreholes["longitude"].between(-180, 180).all()
    assert (boreholes["water_depth_m"] > 0).all()
    # Positions are those the GRA file gives each borehole.
    position = ["Latitude (DD)", "Longitude (DD)", "Water Depth (mbsl)"]
    gra = pd.read_csv(raw[0] / LILY_FILES["GRA"], usecols=["Exp", "Site", "Hole", *position])
    gra = gra.dropna().astype({"Exp": str})
    gra["Borehole_ID"] = gra["Exp"] + "-" + gra["Site"] + "-" + gra["Hole"]
    gra = gra.drop_duplicates().set_index("Borehole_ID")
    assert gra.index.is_unique
    got = boreholes.set_index("Borehole_ID")[["latitude", "longitude", "water_depth_m"]]
    assert np.array_equal(got.to_numpy(), gra.loc[got.index, position].to_numpy())


def test_parquet_output_holds_the_same_table(raw, built, tmp_path):
    out = tmp_path / "table.parquet"
    build_dataset(raw[0], out, progress=False)
    got = pd.read_parquet(out)
    want = pd.read_csv(built[0], dtype={"Borehole_ID": str, "Principal": str})
    assert list(got.columns) == list(TABLE_COLUMNS)
    for col in TABLE_COLUMNS:
        assert got[col].tolist() == want[col].tolist(), col


# -- hand-made rows: bin edges, ties, the filters ---------------------------------------
EXTRA = "Some extra column"


def write_lily(folder: Path, rows: dict[str, list[dict]], drop_column=None) -> Path:
    """Raw LILY files from a few rows each (every metadata column, shuffled order)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, table in enumerate(LILY_TABLES):
        columns = [*METADATA_COLUMNS, *MEASUREMENT_COLUMNS[table], EXTRA]
        columns = columns[k * 7 :] + columns[: k * 7]
        if drop_column and drop_column[0] == table:
            columns.remove(drop_column[1])
        with open(folder / LILY_FILES[table], "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
            writer.writeheader()
            for row in rows[table]:
                writer.writerow({c: row.get(c, "x") for c in columns})
    return folder


def reading(table, depth, value, principal="clay", hole="A", **extra):
    row = {"Exp": "100", "Site": "U1", "Hole": hole, DEPTH: depth, "Principal": principal}
    row.update({"Latitude (DD)": "-10.5", "Longitude (DD)": "150.25"})
    # A comment with a comma: a quoted field, as in real files.
    row.update({"Water Depth (mbsl)": "3000.0", "Comments": 'cracked, "soupy"', "Prefix": ""})
    if table == "RGB":
        row.update(zip(("R", "G", "B"), value, strict=True))
    else:
        row[MEASUREMENT_COLUMNS[table][0]] = value
    row.update(extra)
    return row


MEAN3 = math.fsum([1.1, 1.2, 1.3]) / 3

#: (depth of the readings, GRA readings with their Principal) for hand-made bins, and the
#: (Depth_Bin, GRA mean, Principal) each should give; None: the bin must not appear.
HAND_MADE = [
    # 0.1 / 0.2 = 0.5 exactly: half to even -> bin 0 (not 1).
    (["0.1", "0.0"], [("1.5", "clay"), ("1.7", "clay")], (0.0, (1.5 + 1.7) / 2, "clay")),
    # 0.3 / 0.2 = 1.4999999999999998 in float64 -> bin 1 (exact decimals would give 2).
    # Tied vote silt/sand: the alphabetically first.
    (["0.3", "0.2"], [("2.0", "silt"), ("2.2", "sand")], (0.2, (2.0 + 2.2) / 2, "sand")),
    # 0.5 / 0.2 = 2.5 -> bin 2 (even); tie ooze/chalk -> chalk.
    (["0.5", "0.4"], [("1.2", "ooze"), ("1.4", "chalk")], (0.4, (1.2 + 1.4) / 2, "chalk")),
    # 1.1 / 0.2 = 5.5 -> bin 6 (even, up); tie by code point: "Zeolite" < "ash".
    (["1.1", "1.2"], [("1.8", "ash"), ("1.9", "Zeolite")], (1.2, (1.8 + 1.9) / 2, "Zeolite")),
    # 188.7 / 0.2 = 943.4999999999999 -> bin 943 (188.6), not 944.
    (["188.7", "188.6"], [("1.6", "mud"), ("1.61", "mud")], (188.6, (1.6 + 1.61) / 2, "mud")),
    # Majority beats the alphabet.
    (["12.4", "12.45", "12.5"], [("1.1", "b"), ("1.2", "a"), ("1.3", "b")], (12.4, MEAN3, "b")),
    # GRA filter on bin means: 4.1 out, exactly 4.0 in, readings outside but mean inside in.
    (["10.3", "10.35"], [("4.2", "clay"), ("4.0", "clay")], None),
    (["10.6"], [("4.0", "clay")], (10.6, 4.0, "clay")),
    (["10.8", "10.85"], [("4.6", "clay"), ("0.2", "clay")], (10.8, (4.6 + 0.2) / 2, "clay")),
    # Non-numeric junk is dropped (and counted); "NA" is missing, not junk.
    (["11.0", "11.05"], [("OVER", "clay"), ("1.5", "clay")], (11.0, 1.5, "clay")),
    (["11.4", "11.45"], [("NA", "clay"), ("1.9", "clay")], (11.4, 1.9, "clay")),
    # A reading without Principal is dropped with its value.
    (["11.2", "11.25"], [("1.5", ""), ("1.7", "clay")], (11.2, 1.7, "clay")),
    # Colour filter (bins 11.6, 11.8 get bad colours below); 12.0 has 255 and 0: kept.
    (["11.6"], [("1.5", "clay")], None),
    (["11.8"], [("1.5", "clay")], None),
    (["12.0"], [("1.5", "clay")], (12.0, 1.5, "clay")),
    # No MS reading in this bin: the inner join drops it.
    (["12.2"], [("1.5", "clay")], None),
]
COLOURS = {"11.6": ("255.5", "100", "100"), "11.8": ("10", "10", "-0.5"), "12.0": ("255", "0", "9")}


def hand_made_rows() -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {t: [] for t in LILY_TABLES}
    for depths, readings, _ in HAND_MADE:
        for depth, (value, principal) in zip(depths, readings, strict=True):
            rows["GRA"].append(reading("GRA", depth, value, principal))
        depth = depths[0]
        if depth != "12.2":
            # A different Principal in the other tables: the GRA one must win.
            rows["MS"].append(reading("MS", depth, "12.5", "basalt"))
        rows["NGR"].append(reading("NGR", depth, "30.25", "granite"))
        rows["RGB"].append(reading("RGB", depth, COLOURS.get(depth, ("50", "60", "70"))))
    # A borehole in only three of the tables, and a row without a Hole.
    for t in ("GRA", "MS", "NGR"):
        rows[t].append(reading(t, "0.0", "1.5", hole="B"))
    rows["GRA"].append(reading("GRA", "0.0", "1.5", hole=""))
    return rows


def test_hand_made_bin_edges_ties_and_filters(tmp_path):
    lily_dir = write_lily(tmp_path / "lily", hand_made_rows())
    out = tmp_path / "out" / "table.csv"
    manifest = build_dataset(lily_dir, out, progress=False)
    got = pd.read_csv(out, dtype={"Borehole_ID": str, "Principal": str})
    expected = sorted(e for _, _, e in HAND_MADE if e is not None)
    assert got["Borehole_ID"].tolist() == ["100-U1-A"] * len(expected)
    assert got["Depth_Bin"].tolist() == [e[0] for e in expected]
    assert got["Bulk density (GRA)"].tolist() == [e[1] for e in expected]
    assert got["Principal"].tolist() == [e[2] for e in expected]
    assert (got[MS] == 12.5).all() and (got[NGR] == 30.25).all()
    rgb = got.set_index("Depth_Bin").loc[12.0, ["R", "G", "B"]].tolist()
    assert rgb == [255.0, 0.0, 9.0]
    # The slow computation agrees on these rows too.
    assert_same_table(got, slow_build(lily_dir))

    gra = manifest["tables"]["GRA"]
    assert gra["rows_read"] == len(hand_made_rows()["GRA"])
    assert gra["non_numeric_values"][GRA] == 1
    assert gra["rows_dropped_by_reason"] == {
        "missing_borehole_id": 1,
        "missing_or_bad_depth": 0,
        "missing_principal": 1,
        "missing_or_bad_measurement": 2,
    }
    assert gra["lithology_ties"] == 3
    assert gra["boreholes"] == 2 and manifest["tables"]["RGB"]["boreholes"] == 1
    assert manifest["filters"]["gra_outliers_removed"] == 1
    assert manifest["filters"]["rgb_outliers_removed"] == 2
    # 16 bins of hole A and one of hole B; 12.2 has no MS, hole B no RGB.
    assert manifest["join"]["rows_after_join_MS"] == len(HAND_MADE)
    assert manifest["join"]["rows_after_join_RGB"] == len(HAND_MADE) - 1
    assert manifest["output"]["rows"] == len(expected) == 12
    assert manifest["synthetic_inputs"] is False
    boreholes = pd.read_csv(sidecar_paths(out)[0])
    assert boreholes.loc[0, ["latitude", "longitude", "water_depth_m"]].tolist() == [
        -10.5,
        150.25,
        3000.0,
    ]


def test_depth_bin_helpers_follow_the_float_quotient():
    depths = [0.1, 0.3, 0.5, 1.1, 188.7, 10.3, -0.3]
    assert depth_bin_index(depths).tolist() == [0, 1, 2, 6, 943, 52, -1]
    assert depth_bin_value([0, 1, 942, 943, 52]).tolist() == [0.0, 0.2, 188.4, 188.6, 10.4]
    assert depth_bin_value([3, 7], 0.25).tolist() == [0.75, 1.75]


def test_other_bin_size(tmp_path):
    lily_dir = write_lily(tmp_path / "lily", hand_made_rows())
    out = tmp_path / "t.csv"
    manifest = build_dataset(lily_dir, out, bin_size=0.5, progress=False)
    got = pd.read_csv(out)
    assert manifest["parameters"]["bin_size_m"] == 0.5
    assert manifest["parameters"]["depth_decimals"] == 1
    assert np.allclose(got["Depth_Bin"] / 0.5, np.round(got["Depth_Bin"] / 0.5))
    assert_same_table(got, slow_build(lily_dir, bin_size=0.5))


# -- the command -----------------------------------------------------------------------
def test_build_dataset_command_logs_and_writes(tmp_path, capsys):
    lily_dir = write_lily(tmp_path / "lily", hand_made_rows())
    out = tmp_path / "out" / "table.parquet"
    code, stdout, err = run(["build-dataset", "--lily-dir", lily_dir, "--output", out], capsys)
    assert code == 0
    assert "wrote" in stdout and "table.boreholes.csv" in stdout
    log = "\n".join(err)
    for name in LILY_FILES.values():
        assert f"{name} (" in log
    assert "rows read" in log and "x MS" in log and "GRA outside [0.3, 4.0]" in log
    assert "final: 12 rows" in log
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "table.boreholes.csv",
        "table.manifest.json",
        "table.parquet",
    ]


def _outputs(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _break_missing_table(d):
    (d / "NGR_DataLITH.csv").unlink()
    return "NGR_DataLITH.csv"


def _break_missing_column(d):
    write_lily(d, hand_made_rows(), drop_column=("MS", "Principal"))
    return "MS_DataLITH.csv: missing required column(s) 'Principal'"


def _break_missing_measurement(d):
    write_lily(d, hand_made_rows(), drop_column=("RGB", "G"))
    return "RGB_DataLITH.csv: missing required column(s) 'G'"


def _break_no_usable_rows(d):
    rows = hand_made_rows()
    rows["NGR"] = [dict(r, Principal="") for r in rows["NGR"]]
    write_lily(d, rows)
    return "NGR_DataLITH.csv: no usable rows"


def _break_empty_file(d):
    (d / "GRA_DataLITH.csv").write_bytes(b"")
    return "GRA_DataLITH.csv: the file is empty"


def _break_binary_file(d):
    (d / "MS_DataLITH.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe" * 50)
    return "MS_DataLITH.csv: cannot read"


def _break_unparsable_body(d):
    path = d / "RGB_DataLITH.csv"
    with open(path, "a") as fh:
        fh.write('1,2,"an unterminated quote\n')
    return "RGB_DataLITH.csv: cannot read the file"


def _break_table_is_a_folder(d):
    (d / "GRA_DataLITH.csv").unlink()
    (d / "GRA_DataLITH.csv").mkdir()
    return "GRA_DataLITH.csv: is not a file"


def _break_no_common_bins(d):
    rows = hand_made_rows()
    rows["RGB"] = [dict(r, Hole="Z") for r in rows["RGB"]]
    write_lily(d, rows)
    return "no rows left"


@pytest.mark.parametrize(
    "damage",
    [
        _break_missing_table,
        _break_missing_column,
        _break_missing_measurement,
        _break_no_usable_rows,
        _break_empty_file,
        _break_binary_file,
        _break_unparsable_body,
        _break_table_is_a_folder,
        _break_no_common_bins,
    ],
)
def test_bad_input_one_line_error_and_no_output(tmp_path, capsys, damage):
    lily_dir = write_lily(tmp_path / "lily", hand_made_rows())
    message = damage(lily_dir)
    out = tmp_path / "out" / "table.csv"
    code, stdout, err = run(["build-dataset", "--lily-dir", lily_dir, "--output", out], capsys)
    assert code == 1
    # The progress log may have started; the error is one line, the last one.
    errors = [line for line in err if line.startswith("lilyvae build-dataset: error: ")]
    assert len(errors) == 1 and err[-1] == errors[0]
    assert message in errors[0]
    assert not any("Traceback" in line for line in err)
    assert _outputs(out.parent) == []


@pytest.mark.parametrize("value", ["0", "-0.2", "nan", "abc"])
def test_bin_size_must_be_positive(tmp_path, capsys, value):
    lily_dir = write_lily(tmp_path / "lily", hand_made_rows())
    out = tmp_path / "out" / "table.csv"
    args = ["build-dataset", "--lily-dir", lily_dir, "--output", out, "--bin-size", value]
    code, _, err = run(args, capsys)
    assert code == 2 and len(err) == 1 and "--bin-size" in err[0]
    assert _outputs(out.parent) == []
    with pytest.raises(LilyVAEError, match="bin-size"):
        build_dataset(lily_dir, out, bin_size=float(value) if value != "abc" else 0.0)


def test_other_bad_arguments(tmp_path, capsys):
    lily_dir = write_lily(tmp_path / "lily", hand_made_rows())
    code, _, err = run(
        ["build-dataset", "--lily-dir", tmp_path / "nope", "--output", "t.csv"], capsys
    )
    assert code == 1 and len(err) == 1 and "no such directory" in err[0]
    code, _, err = run(
        ["build-dataset", "--lily-dir", lily_dir, "--output", tmp_path / "t.txt"], capsys
    )
    assert code == 1 and len(err) == 1 and "'.txt'" in err[0]
    out = lily_dir / "GRA_DataLITH.csv"
    code, _, err = run(["build-dataset", "--lily-dir", lily_dir, "--output", out], capsys)
    assert code == 1 and len(err) == 1 and "would overwrite the input" in err[0]


def test_installed_command_reports_a_missing_table(tmp_path):
    lily_dir = write_lily(tmp_path / "lily", hand_made_rows())
    (lily_dir / "RGB_DataLITH.csv").unlink()
    out = tmp_path / "out" / "table.csv"
    command = Path(sys.executable).with_name("lilyvae")
    proc = subprocess.run(
        [str(command), "build-dataset", "--lily-dir", str(lily_dir), "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "missing LILY table(s) RGB_DataLITH.csv" in proc.stderr
    assert _outputs(out.parent) == []
