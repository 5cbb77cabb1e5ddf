"""Checkpoints: three files, self-contained, checked on load, written atomically."""

import dataclasses
import hashlib
import json
import pickle

import numpy as np
import pytest
import torch

from lilyvae import FEATURE_COLS, load_model
from lilyvae.data.tables import training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.files import write_atomic
from lilyvae.model.checkpoint import read_state_dict
from lilyvae.model.networks import VAE
from lilyvae.training.trainer import train


@pytest.fixture(scope="module")
def saved(tmp_path_factory, small_frame):
    data = training_data_from_frame(small_frame, source="small.csv", sha256="abc")
    trained = train(data, model="semisupervised", recipe="hybrid", epochs=2, seed=5)
    out = tmp_path_factory.mktemp("models") / "semisup.pt"
    trained.save(out)
    return trained, out, data


def test_three_files_and_a_complete_card(saved):
    trained, out, data = saved
    assert out.is_file() and out.with_suffix(".json").is_file()
    card = json.loads(out.with_name("semisup.meta.json").read_text())
    assert card["model"]["kind"] == "semisupervised"
    assert card["training"]["recipe"]["name"] == "hybrid"
    for key in ("epochs", "batch_size", "lr", "seed", "latent_dim", "hidden_dims", "device"):
        assert key in card["training"]
    for key in ("beta", "beta_start", "anneal_epochs", "alpha", "mask_ratio", "grad_clip"):
        assert key in card["training"]["recipe"]
    assert card["input_columns"] == list(FEATURE_COLS)
    assert card["class_names"] == sorted(card["class_names"]) and len(card["class_names"]) == 139
    assert card["data"]["sha256"] == "abc"
    assert card["data"]["rows_used"] == data.n_rows and card["data"]["rows_dropped"] == 0
    assert card["environment"]["torch"] == torch.__version__
    assert card["wall_time_s"] > 0 and card["seed"] == 5
    history = json.loads(out.with_suffix(".json").read_text())
    assert len(history["loss"]) == 2 and len(history["epoch_seconds"]) == 2
    # The .pt is the plain state dict the specification saves.
    state = torch.load(out, map_location="cpu", weights_only=True)
    assert set(state) == set(trained.module.state_dict())


def test_load_and_embed_without_the_training_table(saved, small_frame):
    trained, out, _ = saved
    loaded = load_model(out)
    rows = small_frame.iloc[:100]
    np.testing.assert_array_equal(loaded.embed(rows), trained.embed(rows))
    assert loaded.embed(rows).shape == (100, 10)
    recon = loaded.reconstruct(rows)
    assert recon.shape == (100, 6) and np.isfinite(recon).all()
    assert set(loaded.predict(rows)) <= set(loaded.class_names)


def test_card_must_match_its_checkpoint(saved, tmp_path):
    _, out, _ = saved
    other = tmp_path / "semisup.pt"
    other.write_bytes(out.read_bytes())
    with pytest.raises(LilyVAEError, match="model card semisup.meta.json is missing"):
        load_model(other)
    card = json.loads(out.with_name("semisup.meta.json").read_text())
    other.with_name("semisup.meta.json").write_text(json.dumps(card))
    assert load_model(other).kind == "semisupervised"
    torch.save(VAE().state_dict(), other)  # a different checkpoint under the card
    with pytest.raises(LilyVAEError, match="does not match its model card"):
        load_model(other)
    card["checkpoint"]["sha256"] = None  # even without the hash, kind and shapes are checked
    other.with_name("semisup.meta.json").write_text(json.dumps(card))
    with pytest.raises(LilyVAEError, match="holds a unsupervised model, but a semisupervised"):
        load_model(other)


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_only_plain_state_dicts_are_read(tmp_path):
    path = tmp_path / "evil.pt"
    with open(path, "wb") as fh:
        pickle.dump({"w": Evil()}, fh)
    with pytest.raises(LilyVAEError, match="refused"):
        read_state_dict(path)
    torch.save({"model": VAE().state_dict(), "epoch": 3}, path)
    with pytest.raises(LilyVAEError, match="not a plain state dict"):
        read_state_dict(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(LilyVAEError, match="not a PyTorch checkpoint"):
        read_state_dict(path)
    with pytest.raises(LilyVAEError, match="no such checkpoint"):
        read_state_dict(tmp_path / "missing.pt")


def test_interrupted_write_leaves_nothing_half_written(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")

    def failing(tmp):
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, failing)
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_outputs_get_the_ordinary_file_mode(tmp_path):
    """Outputs are as readable as a plain open() would make them, not owner-only."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    written = write_atomic(tmp_path / "atomic.txt", lambda tmp: tmp.write_text("x"))
    assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_the_card_round_trips_and_is_never_changed_in_place(saved):
    trained, out, _ = saved
    loaded = load_model(out)
    assert loaded.card == trained.card  # what save wrote is what load reads
    assert loaded.card.checkpoint_file == "semisup.pt"
    assert loaded.card.checkpoint_sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.card.seed = 1
    assert repr(loaded) == "TrainedModel(semisupervised, hybrid, 6-64-32-10, semisup.pt)"


@pytest.mark.parametrize(
    "hidden,message",
    [([-5], r"hidden_dims\[0\] is -5"), ([10_000_000, 10_000_000], "must be in 1..65536")],
)
def test_absurd_architecture_is_refused_before_allocation(saved, tmp_path, hidden, message):
    _, out, _ = saved
    bad = tmp_path / "semisup.pt"
    bad.write_bytes(out.read_bytes())
    card = json.loads(out.with_name("semisup.meta.json").read_text())
    card["model"]["architecture"]["hidden_dims"] = hidden
    bad.with_name("semisup.meta.json").write_text(json.dumps(card))
    with pytest.raises(LilyVAEError, match=message):
        load_model(bad)
