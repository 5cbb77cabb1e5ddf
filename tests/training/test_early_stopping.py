"""Early stopping: validation boreholes from the training data, the best epoch kept,
the same stop on a rerun, members of a pack stopping on their own."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from cli_helpers import run

from lilyvae.data.splits import split_boreholes
from lilyvae.errors import LilyVAEError
from lilyvae.training.config import config_from_dict, make_config
from lilyvae.training.early_stopping import balanced_accuracy, draw_validation
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import scale_for_training, train, train_members

PATIENCE = 2
#: A learning rate high enough that the validation loss stops falling within the
#: epochs of a fast test.
FAST = {"epochs": 25, "batch_size": 64, "lr": 0.02, "seed": 5}


def state_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def without_times(history):
    return {k: v for k, v in history.items() if k != "epoch_seconds"}


@pytest.fixture(scope="module")
def held_out(data):
    return split_boreholes(data, 0.2, seed=1)


@pytest.fixture(scope="module")
def stopped(data, held_out):
    """A semi-supervised model trained twice with early stopping, same seed."""
    config = make_config("semisupervised", "standard", early_stopping=PATIENCE, **FAST)
    return config, [train(data, config, split=held_out) for _ in range(2)]


def test_early_stopping_keeps_the_best_epoch_and_stops_the_same_on_a_rerun(
    tmp_path, data, held_out, stopped
):
    config, (a, b) = stopped
    record = a.card.extra["early_stopping"]
    val = a.history["val_loss"]
    epochs_run = len(a.history["loss"])
    assert record["stopped_early"] and epochs_run < config.epochs
    assert record["epochs_run"] == epochs_run == len(val)
    assert record["best_epoch"] == int(np.argmin(val)) + 1
    assert epochs_run == record["best_epoch"] + PATIENCE
    assert record["best_val_loss"] == min(val)
    assert all(0 <= v <= 1 for v in a.history["val_balanced_accuracy"])
    # The rerun: the same stop, the same bytes.
    assert b.card.extra["early_stopping"] == record
    assert state_equal(a.module.state_dict(), b.module.state_dict())
    assert without_times(a.history) == without_times(b.history)
    paths = [m.save(tmp_path / f"run{i}" / "m.pt")["checkpoint"] for i, m in enumerate((a, b))]
    assert paths[0].read_bytes() == paths[1].read_bytes()
    # The weights kept are the best epoch's: those of the same rows trained for that
    # many epochs without early stopping (and not the last epoch's).
    trained = data.subset(~held_out.holdout_mask(data.boreholes))
    aside = np.isin(trained.boreholes, record["validation_boreholes"])
    plain = dataclasses.replace(config, early_stopping=None, epochs=record["best_epoch"])
    best = train(trained.subset(~aside), plain)
    assert state_equal(a.module.state_dict(), best.module.state_dict())
    last = train(trained.subset(~aside), dataclasses.replace(plain, epochs=epochs_run))
    assert not state_equal(a.module.state_dict(), last.module.state_dict())
    assert a.card.data["rows_trained"] == int((~aside).sum())


def test_the_card_reports_the_kept_epoch_not_the_last(tmp_path, data, stopped):
    from lilyvae.model.checkpoint import load_model

    _, (a, _) = stopped
    best = a.card.extra["early_stopping"]["best_epoch"]
    assert best < len(a.history["loss"])  # an earlier epoch was kept
    assert a.card.final == {k: v[best - 1] for k, v in a.history.items()} | {"epoch": best}
    assert a.card.final["loss"] != a.history["loss"][-1]
    assert f"(epoch {best}, whose weights were kept)" in "\n".join(a.card.describe())
    a.save(tmp_path / "m.pt")
    saved = json.loads((tmp_path / "m.meta.json").read_text())
    assert saved["final"]["epoch"] == best and saved["final"]["loss"] == a.card.final["loss"]
    assert load_model(tmp_path / "m.pt").card.final == saved["final"]
    # Without early stopping the card is as before: the last epoch's row, no epoch named.
    few = data.subset(np.arange(data.n_rows) < 300)
    plain = train(few, model="unsupervised", epochs=3, batch_size=64, seed=1)
    assert plain.card.final == {k: v[-1] for k, v in plain.history.items()}


def test_validation_boreholes_never_overlap_the_held_out_ones(data, stopped):
    _, (a, _) = stopped
    validated = set(a.card.extra["early_stopping"]["validation_boreholes"])
    assert validated and not validated & set(a.card.held_out_boreholes)
    for seed in range(5):
        split = split_boreholes(data, 0.3, seed=seed)
        trained = data.subset(~split.holdout_mask(data.boreholes))
        config = make_config(early_stopping=1, validation_boreholes=0.3, validation_seed=seed)
        v = draw_validation(trained, config)
        assert not set(v.boreholes) & set(split.holdout)
        assert set(v.boreholes) <= set(trained.boreholes)
        assert set(trained.boreholes[v.rows]) == set(v.boreholes)
        assert not set(trained.boreholes[v.fit_rows]) & set(v.boreholes)
        assert len(v.rows) + len(v.fit_rows) == trained.n_rows


def test_members_of_a_pack_stop_on_their_own_as_they_would_alone(data):
    config = make_config("unsupervised", "standard", early_stopping=PATIENCE, **FAST)
    validation = draw_validation(data, config)
    _, X, _ = scale_for_training(data, validation=validation)
    seeds = [3, 4]

    def members(chosen):
        specs = [MemberSpec(s, validation.fit_rows) for s in chosen]
        return train_members(X, None, specs, config, validation_rows=validation.rows)

    pack = members(seeds)
    for j, seed in enumerate(seeds):
        (alone,) = members([seed])
        assert pack[j].stopping == alone.stopping
        assert state_equal(pack[j].model.state_dict(), alone.model.state_dict())
        assert without_times(pack[j].history) == without_times(alone.history)
    assert pack[0].stopping["epochs_run"] != pack[1].stopping["epochs_run"]


def test_early_stopping_is_recorded_only_when_on():
    default = make_config("unsupervised")
    assert not {"early_stopping", "validation_boreholes"} & set(default.to_dict())
    on = make_config("unsupervised", early_stopping=5, validation_boreholes=0.25)
    saved = on.to_dict()
    assert saved["early_stopping"] == 5 and saved["validation_boreholes"] == 0.25
    assert config_from_dict(json.loads(json.dumps(saved))) == on
    with pytest.raises(LilyVAEError, match="early_stopping must be a positive integer"):
        make_config(early_stopping=0)


def test_balanced_accuracy_weighs_every_class_alike():
    labels = np.array([0, 0, 0, 0, 1, -1])
    assert balanced_accuracy(np.array([0, 0, 0, 0, 0, 1]), labels) == 0.5
    assert balanced_accuracy(np.array([0, 0, 1, 1, 1, 0]), labels) == 0.75


def test_a_table_without_boreholes_to_spare_is_refused_in_one_line(data):
    one = data.subset(data.boreholes == data.boreholes[0])
    with pytest.raises(LilyVAEError, match="two training boreholes or more"):
        train(one, model="unsupervised", epochs=1, early_stopping=1)


def test_the_train_command_says_when_it_stopped(tmp_path, small_csv, capsys):
    out = tmp_path / "m.pt"
    args = ["train", "--model", "unsupervised", "--data", small_csv, "--output", out]
    args += ["--early-stopping", "1", "--epochs", "3", "--validation-seed", "2", "--quiet"]
    code, text, err = run(args, capsys)
    assert code == 0, err
    assert "early stopping:" in text and "weights are kept" in text
    card = json.loads(out.with_suffix(".meta.json").read_text())
    assert card["early_stopping"]["validation_seed"] == 2
    assert card["training"]["early_stopping"] == 1
    history = json.loads(out.with_suffix(".json").read_text())
    assert len(history["val_loss"]) == card["early_stopping"]["epochs_run"]


def test_a_bootstrap_member_with_early_stopping_is_the_model_train_makes(tmp_path, data, held_out):
    from lilyvae.model.checkpoint import load_model
    from lilyvae.runs.ensemble import bootstrap, member_seeds

    config = make_config("unsupervised", "standard", early_stopping=PATIENCE, **FAST)
    result = bootstrap(
        data,
        config,
        n=2,
        output_dir=tmp_path / "boot",
        resample="seed-only",
        split=held_out,
        evaluation=None,
        workers=1,
    )
    assert result.trained == 2 and result.failed == 0
    for i, seed in enumerate(member_seeds(config.seed, 2)):
        member = load_model(tmp_path / "boot" / "members" / f"m{i:04d}.pt")
        alone = train(data, dataclasses.replace(config, seed=seed), split=held_out)
        assert state_equal(member.module.state_dict(), alone.module.state_dict())
        assert member.card.extra["early_stopping"] == alone.card.extra["early_stopping"]
        assert len(member.history["val_loss"]) == alone.card.extra["early_stopping"]["epochs_run"]
        # members.csv's losses are the kept epoch's, as the card's are.
        best = alone.card.extra["early_stopping"]["best_epoch"]
        row = result.members[i]
        assert row["final_epoch"] == best == member.card.final["epoch"]
        assert row["final_loss"] == alone.history["loss"][best - 1] == alone.card.final["loss"]
