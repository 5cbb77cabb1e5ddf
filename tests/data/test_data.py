"""Held-out borehole split files: the formats a user writes, and their mistakes."""

import pytest

from lilyvae.data.splits import read_split_file, split_boreholes
from lilyvae.errors import LilyVAEError


@pytest.fixture(scope="module")
def two(data):
    return sorted(set(data.boreholes))[:2]


@pytest.mark.parametrize("name", ["split.txt", "split.csv"])
def test_one_id_per_line_with_comments(tmp_path, data, two, name):
    path = tmp_path / name
    path.write_text(f"# held out for the paper\n{two[1]}\n\n  {two[0]}  \n")
    split = read_split_file(path, data)
    assert split.holdout == tuple(two)
    assert split.holdout_mask(data.boreholes).sum() == sum((data.boreholes == b).sum() for b in two)


@pytest.mark.parametrize("name", ["split.txt", "split.csv", "split"])
def test_csv_with_a_borehole_column_whatever_the_extension(tmp_path, data, two, name):
    path = tmp_path / name
    path.write_text(f"Borehole_ID,reason\n{two[0]},deep\n{two[1]}, shallow\n")
    assert read_split_file(path, data).holdout == tuple(two)


def test_split_round_trips_through_a_file(tmp_path, data):
    drawn = split_boreholes(data, 0.2, seed=3)
    path = tmp_path / "split.txt"
    path.write_text("\n".join(drawn.holdout) + "\n")
    assert read_split_file(path, data).holdout == drawn.holdout


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "lists no borehole IDs"),
        ("# nothing\n", "lists no borehole IDs"),
        ("999-U9999-Z\n", "borehole '999-U9999-Z' is not in small"),
    ],
)
def test_bad_split_files_name_the_file_and_the_problem(tmp_path, data, text, message):
    path = tmp_path / "split.txt"
    path.write_text(text)
    with pytest.raises(LilyVAEError, match=message) as err:
        read_split_file(path, data)
    assert str(err.value).startswith(str(path))


def test_holding_out_everything_is_refused(tmp_path, data):
    path = tmp_path / "all.txt"
    path.write_text("\n".join(sorted(set(data.boreholes))))
    with pytest.raises(LilyVAEError, match="holds out every borehole"):
        read_split_file(path, data)
    with pytest.raises(LilyVAEError, match="no such split file"):
        read_split_file(tmp_path / "missing.txt", data)
