"""Ensembles with ``--missing mask``: members train on every row."""

import json

import numpy as np
from cli_helpers import run

import lilyvae
from lilyvae.data.schema import FEATURE_COLS


def test_bootstrap_with_missing_mask(tmp_path, small_frame, capsys):
    table = tmp_path / "partial.csv"
    df = small_frame.copy()
    df.loc[np.random.default_rng(1).random(len(df)) < 0.4, ["R", "G", "B"]] = np.nan
    df.to_csv(table, index=False)
    out = tmp_path / "boot"
    args = ["bootstrap", "--model", "unsupervised", "--n", "2", "--data", table]
    args += ["--output-dir", out, "--epochs", "1", "--missing", "mask", "--workers", "1"]
    args += ["--holdout-boreholes", "0.2", "--eval-rows", "1500", "--quiet"]
    code, stdout, err = run(args, capsys)
    assert code == 0, err
    assert "2 of 2 members ok" in stdout and "--missing mask trains on them" in stdout
    identity = json.loads((out / "run.json").read_text())["identity"]
    assert identity["config"]["missing"] == "mask" and identity["data"]["rows_used"] == len(df)
    model = lilyvae.load_model(out / "members" / "m0000.pt")
    assert model.missing == "mask" and model.card.data["rows_partial"] > 0
    no_colour = df[df["R"].isna()][list(FEATURE_COLS)]
    assert np.isfinite(model.embed(no_colour)).all()
