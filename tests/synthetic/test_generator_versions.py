"""Generator versions: version 1 still gives the first generator's tables, version 2 (the
default) makes lithologies overlap, and the sidecar records which one made a table."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lilyvae.cli import main
from lilyvae.errors import LilyVAEError
from lilyvae.synthetic.generator import generate_table, write_synthetic_table
from lilyvae.synthetic.measurements import SyntheticLily

FIXTURES = Path(__file__).parent.parent / "fixtures"


@pytest.mark.parametrize("version", [1, 2])
def test_old_versions_give_their_first_generators_rows(version):
    # Every 150th row of generate_table(rows=3000, seed=3, version=version), written by
    # the generator as it was before the next version existed.
    stored = pd.read_csv(FIXTURES / f"synthetic_v{version}_rows.csv")
    table = generate_table(rows=3000, seed=3, version=version)
    now = table.iloc[stored["row"].to_numpy()].reset_index(drop=True)
    expected = stored.drop(columns="row")
    pd.testing.assert_frame_equal(now, expected, check_dtype=False, rtol=0, atol=1e-9)


def test_version_two_keeps_the_beds_and_changes_the_values():
    one = SyntheticLily(rows=3000, seed=3, version=1)
    two = SyntheticLily(rows=3000, seed=3, version=2)
    pd.testing.assert_frame_equal(one.bins, two.bins)
    assert not np.allclose(one.table()["R"], two.table()["R"])
    pd.testing.assert_frame_equal(two.table(), SyntheticLily(rows=3000, seed=3).table())


def test_true_values_follow_the_table_in_version_two():
    lily = SyntheticLily(rows=3000, seed=3, version=2)
    table = lily.table()
    bh = table["Borehole_ID"].iloc[0]
    rows = table[table["Borehole_ID"] == bh]
    true = lily.true_values(bh, rows["Depth_Bin"].to_numpy())
    # The table is the true values plus small measurement noise.
    gra = rows["Bulk density (GRA)"].to_numpy()
    assert np.median(np.abs(gra - true[:, 0])) < 0.05


def test_sidecar_and_cli_record_the_version(tmp_path):
    path = write_synthetic_table(tmp_path / "v1.csv", rows=1000, seed=1, version=1)
    meta = json.loads((tmp_path / "v1.synthetic.json").read_text())
    assert meta["generator_version"] == "1.0" and "overlap" not in meta["parameters"]
    assert main(["synth", "--output", str(tmp_path / "v2.csv"), "--rows", "1000"]) == 0
    meta = json.loads((tmp_path / "v2.synthetic.json").read_text())
    assert meta["generator_version"] == "2.0" and "overlap" in meta["parameters"]
    assert path.read_bytes() != (tmp_path / "v2.csv").read_bytes()


def test_unknown_version_is_refused(tmp_path):
    with pytest.raises(LilyVAEError, match="generator version must be one of 1, 2"):
        write_synthetic_table(tmp_path / "t.csv", rows=1000, version=3)
    assert not (tmp_path / "t.csv").exists()
