"""Every CSV lilyvae writes through DuckDB is the text pandas' ``to_csv`` would write."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from lilyvae.data.csv_text import write_csv


def _pandas_text(df: pd.DataFrame) -> str:
    body = io.StringIO()
    df.to_csv(body, index=False)
    return body.getvalue()


def _edges() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "f": [np.nan, np.inf, -0.0, 1e-5, 1e20, 1.2345678901234567e17, 0.1, -np.inf],
            "f32": np.array([0.1, np.nan, 1e-7, 3.4e38, 1 / 3, 2.5, -1, 0], np.float32),
            "i": np.arange(8),
            # differs from "i" only in case: DuckDB alone would rename it "I_1"
            "I": pd.array([1, None, 3, 4, 5, 6, 7, 8], dtype="Int64"),
            "c": pd.Categorical(["a", None, "b,c", 'q"x', "", "b", "a", "z"]),
            "s": ["x", "", None, "a\nb", " lead", "é", "y", "z"],
            "b": [True, False] * 4,
            "ob": pd.Series([True, np.nan, False, True, True, False, np.nan, True], dtype=object),
            "str": pd.array(["p", None, "", "q", "r", "s", "t", "u"], dtype="string"),
            "mix": pd.Series([1, "a", 2.5, None, True, "", "x", 3], dtype=object),
            "a,b": [1.5] * 8,
        }
    )


def _long(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 100, n)
    x[rng.random(n) < 0.1] = np.nan
    names = np.array(["clay", "nannofossil ooze", "silty clay, with sand", ""], dtype=object)
    return pd.DataFrame(
        {
            "Borehole_ID": pd.Categorical(rng.choice(["U1461-C", "U1490-A"], n)),
            "Depth_Bin": np.round(np.arange(n) * 0.2, 1),
            "value": x,
            "Principal": names[rng.integers(0, 4, n)],
            "novel": rng.random(n) < 0.01,
        }
    )


@pytest.mark.parametrize("make", [_edges, _long, lambda: _long().iloc[:0]])
def test_write_csv_is_pandas_text_byte_for_byte(tmp_path, make):
    df = make()
    path = tmp_path / "t.csv"
    write_csv(df, path)
    assert path.read_text(encoding="utf-8") == _pandas_text(df)
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # nothing left beside


def test_write_csv_of_dates_or_coded_numbers_is_pandas_text(tmp_path):
    # columns DuckDB would write otherwise: the whole table is pandas' to write
    df = pd.DataFrame(
        {
            "t": pd.to_datetime(["2019-01-02", None]),
            "x": [1.0, 2.0],
            "code": pd.Categorical([1, 2]),
        }
    )
    write_csv(df, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text() == _pandas_text(df)


def test_a_csv_duckdb_cannot_write_is_an_os_error_naming_the_file(tmp_path):
    """DuckDB's own errors (a full disk, say) reach the commands as an OSError naming the
    file, which they print as one line."""
    path = tmp_path / "t.csv"
    (tmp_path / "t.csv.body").mkdir()  # where DuckDB writes the rows: it cannot
    with pytest.raises(OSError) as caught:
        write_csv(_long(100), path)
    assert caught.value.filename == str(path)
    assert "cannot write the CSV" in caught.value.strerror
