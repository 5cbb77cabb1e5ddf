"""Training with ``missing="mask"``: every row, missing inputs masked."""

import json

import numpy as np
import pytest
import torch
from cli_helpers import run

from lilyvae.data.schema import FEATURE_COLS
from lilyvae.data.tables import load_training_data, training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.model.checkpoint import load_model
from lilyvae.training.config import grid_axes, make_config
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import scale_for_training, train, train_members

COLOUR = ["R", "G", "B"]


@pytest.fixture(scope="module")
def partial_frame(small_frame):
    """The small table with the colour of 40% of its rows gone, and a few MS cells."""
    df = small_frame.copy()
    rng = np.random.default_rng(0)
    df.loc[rng.random(len(df)) < 0.4, COLOUR] = np.nan
    df.loc[rng.random(len(df)) < 0.02, FEATURE_COLS[1]] = np.nan
    return df


def _same_but_indicators(drop, mask) -> torch.Tensor:
    """Every parameter and buffer equal but the indicators' weights; returns those."""
    a, b = drop.module.state_dict(), mask.module.state_dict()
    assert a.keys() == b.keys()
    for key, value in a.items():
        other = b[key]
        if key == "encoder.0.weight":
            assert other.shape == (64, 12) and value.shape == (64, 6)
            indicators, other = other[:, 6:], other[:, :6]
        torch.testing.assert_close(other, value, rtol=1e-5, atol=1e-6)
    return indicators


@pytest.mark.parametrize("model", ["unsupervised", "semisupervised"])
def test_mask_without_missing_rows_trains_like_drop_but_for_the_indicators(data, model):
    """On complete rows a 'mask' model is the 'drop' model of its seed plus indicator
    inputs whose weights start at zero and, never seeing a missing input, stay zero."""
    options = {"model": model, "recipe": "standard", "epochs": 2, "batch_size": 128, "seed": 5}
    drop = train(data, **options)
    mask = train(data, **options, missing="mask")
    assert mask.history["loss"] == pytest.approx(drop.history["loss"], rel=1e-5)
    assert torch.count_nonzero(_same_but_indicators(drop, mask)) == 0
    assert (
        mask.card.architecture.missing_indicators and not drop.card.architecture.missing_indicators
    )
    assert "missing_indicators" not in drop.card.to_dict()["model"]["architecture"]
    assert "missing" not in drop.card.training  # 'drop' cards as they were
    assert mask.card.training["missing"] == "mask"


def test_hybrid_masking_hides_entries_as_missing_through_the_indicators(data):
    """The hybrid recipe's random mask hides entries the way a missing one is hidden
    (value 0, indicator 1): on complete rows the first step is the 'drop' model's for
    every weight but the indicators', which are the only ones it moves differently."""
    options = {"model": "unsupervised", "recipe": "hybrid", "epochs": 1, "seed": 5}
    options["batch_size"] = data.n_rows  # one step
    drop = train(data, **options)
    mask = train(data, **options, missing="mask")
    assert mask.history["loss"] == pytest.approx(drop.history["loss"], rel=1e-6)
    assert mask.history["masked"] == pytest.approx(drop.history["masked"], rel=1e-6)
    assert torch.count_nonzero(_same_but_indicators(drop, mask)) > 0


def test_mask_trains_on_every_row_and_embeds_rows_without_colour(partial_frame, tmp_path):
    trained = train(
        partial_frame, model="semisupervised", recipe="hybrid", epochs=2, missing="mask"
    )
    assert (
        np.isfinite(trained.history["loss"]).all() and np.isfinite(trained.history["masked"]).all()
    )
    assert trained.card.data["rows_used"] == trained.card.data["rows_trained"] == len(partial_frame)
    assert trained.card.data["rows_partial"] == int(
        partial_frame[list(FEATURE_COLS)].isna().any(axis=1).sum()
    )
    # The scaler is fitted on each feature's observed values.
    scaler = trained.card.scaler
    observed = partial_frame[list(FEATURE_COLS)].notna().sum().tolist()
    assert scaler["n_observed"] == observed
    trained.save(tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.missing == "mask" and loaded.module.encoder[0].in_features == 12
    no_colour = partial_frame[partial_frame["R"].isna()][list(FEATURE_COLS)]
    emb = loaded.embed(no_colour)
    assert emb.shape == (len(no_colour), 10) and np.isfinite(emb).all()
    np.testing.assert_array_equal(emb, trained.embed(no_colour))
    assert np.isfinite(loaded.reconstruct(no_colour)).all()
    assert loaded.predict(no_colour).shape == (len(no_colour),)


def test_drop_leaves_rows_with_a_missing_input_out(partial_frame):
    trained = train(partial_frame, model="unsupervised", epochs=1)
    complete = int(partial_frame[list(FEATURE_COLS)].notna().all(axis=1).sum())
    assert trained.card.data["rows_used"] == complete
    assert trained.card.data["rows_dropped"] == len(partial_frame) - complete
    with pytest.raises(LilyVAEError, match="trained with missing='drop'"):
        trained.embed(partial_frame[list(FEATURE_COLS)])
    # The engine refuses missing inputs for a 'drop' model rather than train on NaN.
    data = training_data_from_frame(partial_frame, keep_partial=True)
    _, X, _ = scale_for_training(data)
    with pytest.raises(LilyVAEError, match="missing='mask'"):
        train_members(X, None, [MemberSpec(1)], make_config(epochs=1))


def test_partial_tables_load_and_scale_with_nan(partial_frame):
    data = training_data_from_frame(partial_frame, keep_partial=True)
    assert data.n_rows == len(partial_frame) and data.n_partial > 0
    assert np.isnan(data.features).any(axis=1).sum() == data.n_partial
    complete = data.rows_for("drop")
    assert complete.n_rows == data.n_rows - data.n_partial
    assert complete.rows_dropped == data.n_partial
    assert data.rows_for("mask") is data
    # A table read without its partial rows is the same data, bit for bit.
    plain = training_data_from_frame(partial_frame)
    np.testing.assert_array_equal(plain.features, complete.features)
    assert plain.features.flags.f_contiguous == complete.features.flags.f_contiguous
    scaler, X, _ = scale_for_training(data)
    assert torch.isnan(X).equal(torch.as_tensor(np.isnan(data.features)))


def test_missing_is_a_setting_of_train_bootstrap_and_sweep_but_no_grid_axis():
    assert make_config(missing="mask").missing == "mask"
    assert "missing" not in grid_axes()
    with pytest.raises(LilyVAEError, match="missing must be one of 'drop', 'mask'"):
        make_config(missing="impute")


def test_train_command_with_missing_mask(tmp_path, partial_frame, capsys):
    table = tmp_path / "partial.csv"
    partial_frame.to_csv(table, index=False)
    out = tmp_path / "m.pt"
    args = ["train", "--model", "unsupervised", "--data", table, "--output", out]
    code, stdout, err = run([*args, "--epochs", 1, "--missing", "mask", "--quiet"], capsys)
    assert code == 0, err
    assert f"{len(partial_frame):,} used" in stdout and "--missing mask trains on them" in stdout
    card = json.loads(out.with_name("m.meta.json").read_text())
    assert card["model"]["architecture"]["missing_indicators"] is True
    code, stdout, _ = run(["inspect", out], capsys)
    assert code == 0 and "missing-value indicators" in stdout
    # The same held-out boreholes whatever --missing says.
    splits = []
    for missing in ("drop", "mask"):
        out = tmp_path / f"{missing}.pt"
        extra = ["--holdout-boreholes", 0.2, "--missing", missing, "--epochs", 1, "--quiet"]
        code, stdout, _ = run([*args[:-1], out, *extra], capsys)
        assert code == 0
        splits.append(json.loads(out.with_name(f"{missing}.meta.json").read_text())["split"])
    assert splits[0]["holdout_boreholes"] == splits[1]["holdout_boreholes"]
    assert "--missing drop leaves them out" in stdout or "--missing mask" in stdout


def test_load_training_data_keeps_partial_rows_only_when_asked(tmp_path, partial_frame):
    table = tmp_path / "t.parquet"
    partial_frame.to_parquet(table)
    assert load_training_data(table).n_partial == 0
    assert load_training_data(table, keep_partial=True).n_rows == len(partial_frame)
