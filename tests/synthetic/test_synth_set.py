"""The synthetic outputs are written as a set, and a synthetic table carries its mark:
an interrupt leaves none of the set, and a table copied without its sidecar is still
labelled SYNTHETIC (with a one-line warning), never taken for real data."""

import shutil

import pandas as pd
import pytest

from lilyvae.data.provenance import carries_mark, table_provenance
from lilyvae.data.tables import load_training_data
from lilyvae.synthetic import generator
from lilyvae.synthetic.generator import write_synthetic_table


def test_an_interrupt_while_writing_leaves_none_of_the_set(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generator, "boreholes_frame", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_synthetic_table(tmp_path / "t.csv", rows=1000, borehole_table=True)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_while_moving_leaves_none_of_the_set(tmp_path, monkeypatch):
    import os

    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("t.csv"):  # the table moves last, after its sidecar
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        write_synthetic_table(tmp_path / "t.csv", rows=1000, borehole_table=True)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_without_its_sidecar_is_still_synthetic(tmp_path, capsys, suffix):
    table = write_synthetic_table(tmp_path / f"t{suffix}", rows=1000, seed=3)
    copy = tmp_path / "copied" / table.name
    copy.parent.mkdir()
    shutil.copy(table, copy)
    assert table_provenance(table).evidence == str(tmp_path / "t.synthetic.json")
    data = load_training_data(copy)
    assert data.origin.synthetic and data.origin.evidence == str(copy)
    assert "sidecar t.synthetic.json is missing" in data.origin.notice
    err = [line for line in capsys.readouterr().err.splitlines() if line]
    assert len(err) == 1 and err[0].startswith(f"warning: {copy}: ")
    assert err[0].endswith("labelled SYNTHETIC")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_table_without_the_mark_is_not_called_synthetic(tmp_path, small_frame, suffix):
    path = tmp_path / f"real{suffix}"
    if suffix == ".csv":
        small_frame.to_csv(path, index=False)
    else:
        small_frame.to_parquet(path, index=False)
    assert not carries_mark(path)
    assert not load_training_data(path).origin.synthetic


def test_the_mark_keeps_every_value(tmp_path):
    table = write_synthetic_table(tmp_path / "t.csv", rows=2000, seed=4)
    assert (tmp_path / "t.csv").read_text().splitlines()[1].split(",")[1] == "0.0000"
    pd.testing.assert_frame_equal(pd.read_csv(table), generator.generate_table(2000, seed=4))
    parquet = write_synthetic_table(tmp_path / "t.parquet", rows=2000, seed=4)
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), generator.generate_table(2000, seed=4))


def test_synth_lily_writes_its_files_as_a_set(tmp_path, monkeypatch):
    from lilyvae.synthetic.lily_files import write as lily_write

    real = lily_write.write_file
    calls = []

    def fails_on_the_third(tmp, *args, **kwargs):
        calls.append(tmp)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(tmp, *args, **kwargs)

    monkeypatch.setattr(lily_write, "write_file", fails_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        lily_write.write_synthetic_lily(tmp_path / "lily", scale=0.002, seed=1)
    assert list((tmp_path / "lily").iterdir()) == []
