"""The borehole table beside a table: its path, writing it from positions, reading it."""

import pandas as pd
import pytest

from lilyvae.data.boreholes import (
    borehole_positions,
    borehole_table_path,
    read_borehole_table,
    write_borehole_table,
)
from lilyvae.data.schema import BOREHOLE_TABLE_COLUMNS
from lilyvae.errors import LilyVAEError


def test_written_from_positions_and_the_tables_depths(tmp_path):
    table = tmp_path / "t.csv"
    pd.DataFrame({"Borehole_ID": ["b", "b", "a", "c"], "Depth_Bin": [0.2, 0.6, 1.0, 5.0]}).to_csv(
        table, index=False
    )
    positions = pd.DataFrame(
        {
            "Borehole_ID": ["a", "b", "z"],  # z has no rows; c has no position
            "latitude": [1.0, 2.0, 3.0],
            "longitude": [10.0, 20.0, 30.0],
            "water_depth_m": [100.0, 200.0, 300.0],
        }
    )
    path = write_borehole_table(table, positions)
    assert path == borehole_table_path(table) == tmp_path / "t.boreholes.csv"
    written = read_borehole_table(path)
    assert tuple(written.columns) == BOREHOLE_TABLE_COLUMNS
    assert written.set_index("Borehole_ID")[["rows", "min_depth_m", "max_depth_m"]].to_dict(
        "index"
    ) == {
        "a": {"rows": 1, "min_depth_m": 1.0, "max_depth_m": 1.0},
        "b": {"rows": 2, "min_depth_m": 0.2, "max_depth_m": 0.6},
    }
    # The map reads the positions from it when the table has no lat/lon columns.
    found = borehole_positions(pd.read_csv(table), table)
    assert sorted(found["Borehole_ID"]) == ["a", "b"]


def test_bad_borehole_tables(tmp_path):
    path = tmp_path / "t.boreholes.csv"
    path.write_text("Borehole_ID,latitude\na,1\n", encoding="utf-8")
    with pytest.raises(LilyVAEError, match="missing column.*'longitude'"):
        read_borehole_table(path)
    path.write_bytes(b"")
    with pytest.raises(LilyVAEError, match="not a readable borehole table"):
        read_borehole_table(path)
