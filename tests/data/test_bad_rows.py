"""Bad rows and bad files of a training table, met as a user meets them: one line
naming the file, the cause, a count and the first line (the header is line 1), exit
status 1, and nothing written."""

import numpy as np
import pandas as pd
import pytest
from cli_helpers import run

from lilyvae.data.schema import BOREHOLE_COL, DEPTH_COL, FEATURE_COLS, GRA
from lilyvae.data.tables import load_training_data, read_table, training_data_from_frame
from lilyvae.errors import LilyVAEError


@pytest.fixture(scope="module")
def lines(small_csv):
    """The small table's lines, each with its newline."""
    return small_csv.read_text().splitlines(keepends=True)


def write(tmp_path, lines, name="bad.csv"):
    path = tmp_path / name
    path.write_text("".join(lines))
    return path


def with_field(line: str, index: int, value: str) -> str:
    fields = line.rstrip("\n").split(",")
    fields[index] = value
    return ",".join(fields) + "\n"


def train_fails(capsys, data, tmp_path, *extra):
    """Train on ``data``: the exit status and the first error line; no output written."""
    out = tmp_path / "out" / "m.pt"
    args = ["train", "--model", "unsupervised", "--data", data, "--epochs", "1", "--quiet"]
    code, _, err = run([*args, "--output", out, *extra], capsys)
    assert not out.parent.exists() or list(out.parent.iterdir()) == []
    return code, err


def test_text_in_a_measurement_column_is_an_error_with_count_and_line(tmp_path, capsys, lines):
    bad = list(lines)
    gra = lines[0].rstrip("\n").split(",").index(GRA)
    bad[5] = with_field(bad[5], gra, "abc")
    bad[9] = with_field(bad[9], gra, "n.d.")
    code, err = train_fails(capsys, write(tmp_path, bad), tmp_path)
    assert code == 1 and len(err) == 1
    assert "bad.csv: 2 cell(s) of measurement columns hold text" in err[0]
    assert f"first: line 6, {GRA!r} = 'abc'" in err[0]


def test_an_empty_cell_stays_a_missing_input(tmp_path, lines):
    bad = list(lines)
    gra = lines[0].rstrip("\n").split(",").index(GRA)
    bad[5] = with_field(bad[5], gra, "")
    data = load_training_data(write(tmp_path, bad))
    assert data.rows_dropped == 1 and data.rows_read == len(lines) - 1


@pytest.mark.parametrize("keep", [5, 10], ids=["short", "long"])
def test_a_ragged_row_is_an_error_with_count_and_line(tmp_path, capsys, lines, keep):
    bad = list(lines)
    fields = bad[9].rstrip("\n").split(",")
    bad[9] = ",".join((fields + ["1"])[:keep]) + "\n"
    code, err = train_fails(capsys, write(tmp_path, bad), tmp_path)
    assert code == 1 and len(err) == 1
    assert "bad.csv: 1 ragged row(s) whose field count differs from the header's 9" in err[0]
    assert f"(first: line 10, {keep} fields)" in err[0]


def test_a_csv_cut_off_mid_line_is_an_error(tmp_path, capsys, small_csv):
    text = small_csv.read_text()
    cut = tmp_path / "cut.csv"
    cut.write_text(text[: len(text) - 40])
    code, err = train_fails(capsys, cut, tmp_path)
    n_lines = text.count("\n")
    assert code == 1 and len(err) == 1
    assert f"cut.csv: cut off mid-line: its last line ({n_lines})" in err[0]


def test_line_numbers_count_blank_lines_and_quoted_newlines(tmp_path, lines):
    bad = list(lines)
    label = lines[0].rstrip("\n").split(",").index("Principal")
    bad[2] = with_field(bad[2], label, '"clay, with\nsilt"')  # one row over two lines
    bad.insert(4, "\n")
    gra = lines[0].rstrip("\n").split(",").index(GRA)
    bad[6] = with_field(bad[6], gra, "oops")  # data row 5: line 8 of the file
    with pytest.raises(LilyVAEError, match=r"first: line 8, "):
        read_table(write(tmp_path, bad), check=True)


def test_a_repeated_borehole_depth_key_is_an_error(tmp_path, capsys, lines):
    bad = list(lines)
    bad.insert(20, bad[19])
    code, err = train_fails(capsys, write(tmp_path, bad), tmp_path)
    assert code == 1 and len(err) == 1
    assert "bad.csv: 1 row(s) repeat a (Borehole_ID, Depth_Bin) key" in err[0]
    assert "(first: line 21 repeats line 20, " in err[0]


def test_an_empty_borehole_id_is_refused_at_load(tmp_path, capsys, lines):
    bad = list(lines)
    bad[7] = with_field(bad[7], 0, "")
    bad[11] = with_field(bad[11], 0, "  ")
    path = write(tmp_path, bad)
    code, err = train_fails(capsys, path, tmp_path, "--holdout-boreholes", "0.2")
    assert code == 1 and len(err) == 1
    assert f"bad.csv: 2 row(s) with an empty {BOREHOLE_COL} (first: line 8)" in err[0]
    # evaluate and bootstrap read their table through the same loader
    with pytest.raises(LilyVAEError, match="empty Borehole_ID"):
        load_training_data(path, keep_partial=True)


def test_a_column_named_twice_is_refused(tmp_path, capsys, lines):
    bad = [lines[0].rstrip("\n") + ",R\n"] + [ln.rstrip("\n") + ",1\n" for ln in lines[1:]]
    code, err = train_fails(capsys, write(tmp_path, bad), tmp_path)
    assert code == 1 and len(err) == 1
    assert err[0].endswith("bad.csv: column 'R' appears twice in the header")


def test_a_parquet_column_named_twice_is_refused(tmp_path, small_frame):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(small_frame.head(50), preserve_index=False)
    table = table.append_column("R", table.column("R"))
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(LilyVAEError, match="bad.parquet: column 'R' appears twice"):
        read_table(tmp_path / "bad.parquet")


def test_a_good_table_reads_as_before(small_csv, small_frame):
    df = read_table(small_csv, check=True)
    pd.testing.assert_frame_equal(df[list(FEATURE_COLS)], small_frame[list(FEATURE_COLS)])
    assert df[DEPTH_COL].equals(small_frame[DEPTH_COL])


def test_training_data_keeps_each_rows_depth(small_frame):
    frame = small_frame.head(40).copy()
    frame.loc[frame.index[3], "R"] = np.nan  # a dropped row leaves a gap in depth
    data = training_data_from_frame(frame)
    kept = frame.drop(index=frame.index[3])
    assert np.array_equal(data.depths, kept[DEPTH_COL].to_numpy(np.float64))
    picked = np.arange(data.n_rows) % 2 == 0
    assert np.array_equal(data.subset(picked).depths, data.depths[picked])
    assert training_data_from_frame(frame.drop(columns=[DEPTH_COL])).depths is None


def test_data_that_is_a_directory_says_so(tmp_path, capsys):
    (tmp_path / "tables").mkdir()
    code, err = train_fails(capsys, tmp_path / "tables", tmp_path)
    assert code == 1 and err[0].endswith(
        "tables: is a directory, not a table file (.csv or .parquet)"
    )


@pytest.mark.parametrize("missing", ["drop", "mask"])
def test_an_all_empty_input_column_suggests_nothing_that_fails(
    tmp_path, capsys, small_frame, missing
):
    frame = small_frame.head(300).copy()
    frame["G"] = np.nan
    frame.to_csv(tmp_path / "noG.csv", index=False)
    code, err = train_fails(capsys, tmp_path / "noG.csv", tmp_path, "--missing", missing)
    assert code == 1 and len(err) == 1
    assert "noG.csv: input column 'G' is empty in every row" in err[0]
    assert "--missing" not in err[0] and "missing=" not in err[0]
