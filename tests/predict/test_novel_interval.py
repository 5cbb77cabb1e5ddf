"""``lilyvae synth --novel-interval``: an out-of-distribution interval, recorded."""

from __future__ import annotations

import json

import pandas as pd

from lilyvae.synthetic.novel import NOVEL_LITHOLOGY, NOVEL_RANGES, novel_mask
from tests.cli_helpers import run


def test_synth_injects_and_records_a_novel_interval(tmp_path, capsys):
    path = tmp_path / "t.csv"
    code, out, err = run(["synth", "--rows", "2000", "--output", path, "--novel-interval"], capsys)
    assert code == 0, err
    assert "novel lithology" in out
    sidecar = json.loads(path.with_name("t.synthetic.json").read_text())
    record = sidecar["novel_interval"]
    table = pd.read_csv(path, dtype={"Borehole_ID": str})
    inside = novel_mask(table, record)
    assert inside.sum() == record["bins"] > 0
    assert (table.loc[inside, "Principal"] == NOVEL_LITHOLOGY).all()
    assert (table.loc[~inside, "Principal"] != NOVEL_LITHOLOGY).all()
    for column, (low, high) in NOVEL_RANGES.items():
        assert table.loc[inside, column].between(low, high).all()
    # The injected bins are contiguous bins of one borehole.
    rows = table.index[inside]
    assert (rows.to_series().diff().dropna() == 1).all()
    from lilyvae.files import sha256_file

    assert sidecar["sha256"] == sha256_file(path)  # the sidecar still describes the table
