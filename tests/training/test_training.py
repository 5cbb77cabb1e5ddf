"""The trainer: reproducibility, the recipes' mechanics, semi-supervision."""

import math

import numpy as np
import pytest
import torch

from lilyvae.data.tables import training_data_from_frame
from lilyvae.errors import LilyVAEError
from lilyvae.training.config import make_config
from lilyvae.training.engine import ModelStack
from lilyvae.training.trainer import make_deterministic, train


def state_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def losses_only(history):
    return {k: v for k, v in history.items() if k != "epoch_seconds"}


@pytest.mark.parametrize(
    "model,recipe", [("unsupervised", "standard"), ("semisupervised", "hybrid")]
)
def test_same_seed_same_bytes(tmp_path, data, model, recipe):
    runs = []
    for i in range(2):
        trained = train(data, model=model, recipe=recipe, epochs=3, batch_size=128, seed=11)
        trained.save(tmp_path / f"run{i}" / "m.pt")
        runs.append(trained)
    a, b = runs
    assert state_equal(a.module.state_dict(), b.module.state_dict())
    assert losses_only(a.history) == losses_only(b.history)
    pt = [(tmp_path / f"run{i}" / "m.pt").read_bytes() for i in range(2)]
    assert pt[0] == pt[1]
    other = train(data, model=model, recipe=recipe, epochs=3, batch_size=128, seed=12)
    assert not state_equal(a.module.state_dict(), other.module.state_dict())


def test_training_lowers_the_loss_and_counts_batches(data):
    trained = train(data, model="unsupervised", recipe="standard", epochs=4, batch_size=256)
    loss = trained.history["loss"]
    assert loss[-1] < loss[0]
    assert set(trained.history) == {"loss", "recon", "kl", "beta", "lr", "epoch_seconds"}
    steps_per_epoch = math.ceil(data.n_rows / 256)  # the last, shorter batch is kept
    assert int(trained.module.state_dict()["encoder.2.num_batches_tracked"]) == 4 * steps_per_epoch
    # Standard recipe: history is per row, summed over features, so loss = recon + kl.
    assert loss[-1] == pytest.approx(trained.history["recon"][-1] + trained.history["kl"][-1])


def test_hybrid_history_has_schedule_terms(data):
    trained = train(data, model="semisupervised", recipe="hybrid", epochs=3, batch_size=256)
    h = trained.history
    assert set(h) >= {"loss", "recon", "kl", "masked", "class", "beta", "lr", "epoch_seconds"}
    assert h["beta"] == pytest.approx([1e-6 + (0.5 - 1e-6) * e / 30 for e in range(3)])
    assert all(len(v) == 3 for v in h.values())


def test_hybrid_masks_ten_percent_and_clips(monkeypatch, data):
    seen = {"mask": [], "clip": set()}
    forward_backward, apply_gradient = ModelStack.forward_backward, ModelStack.apply_gradient

    def spy_fb(self, batch, weights):
        if batch.mask is not None:
            seen["mask"].append(batch.mask.float().mean().item())
        return forward_backward(self, batch, weights)

    def spy_apply(self, lrs, clip):
        seen["clip"].add(clip)
        norms = apply_gradient(self, lrs, clip)
        if norms is not None:
            seen.setdefault("norms", []).append(norms.max().item())
        return norms

    monkeypatch.setattr(ModelStack, "forward_backward", spy_fb)
    monkeypatch.setattr(ModelStack, "apply_gradient", spy_apply)
    train(data, model="unsupervised", recipe="hybrid", epochs=2, batch_size=256)
    assert np.mean(seen["mask"]) == pytest.approx(0.1, abs=0.01)
    assert seen["clip"] == {1.0}
    assert max(seen["norms"]) > 1.0  # clipping had something to clip
    seen = {"mask": [], "clip": set()}
    train(data, model="unsupervised", recipe="standard", epochs=1)
    assert seen["mask"] == [] and seen["clip"] == {None}


def test_scheduler_halves_the_rate_after_a_plateau(data):
    # A learning rate so small that the loss cannot improve: the plateau rule fires.
    trained = train(
        data,
        model="unsupervised",
        recipe="hybrid",
        epochs=5,
        lr=1e-12,
        plateau_patience=1,
        anneal_epochs=0,
    )
    lrs = trained.history["lr"]
    assert lrs[0] == 1e-12
    assert lrs[-1] == pytest.approx(lrs[0] * 0.5)


def test_semisupervised_uses_unlabelled_rows(small_frame):
    frame = small_frame.copy()
    frame.loc[frame.index[::3], "Principal"] = None
    part = training_data_from_frame(frame, source="part")
    assert 0 < part.n_labelled < part.n_rows
    trained = train(part, model="semisupervised", recipe="standard", epochs=1)
    assert trained.card.data["rows_trained"] == part.n_rows
    assert trained.card.data["rows_labelled"] == part.n_labelled
    frame["Principal"] = None
    with pytest.raises(LilyVAEError, match="no labelled rows"):
        train(training_data_from_frame(frame, source="none"), model="semisupervised", epochs=1)


def test_dropped_rows_are_counted(small_frame):
    frame = small_frame.copy()
    frame.loc[frame.index[:5], "R"] = np.nan
    frame.loc[frame.index[5:7], "NGR total counts (cps)"] = np.inf
    part = training_data_from_frame(frame, source="x")
    assert (part.rows_read, part.rows_dropped, part.n_rows) == (len(frame), 7, len(frame) - 7)


def test_deterministic_flag_sets_the_full_recipe():
    before = torch.are_deterministic_algorithms_enabled()
    try:
        make_deterministic(3)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert torch.initial_seed() == 3
    finally:
        torch.use_deterministic_algorithms(before)
        torch.backends.cudnn.deterministic = False


def test_config_validation():
    for bad in ({"epochs": 0}, {"batch_size": -1}, {"lr": 0.0}, {"model": "other"}):
        with pytest.raises(LilyVAEError):
            make_config(**({"model": "unsupervised"} | bad))
