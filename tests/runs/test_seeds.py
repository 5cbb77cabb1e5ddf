"""Models across seeds: ``train_seeds`` trains each configuration's seeds as one pack,
and each member is the model ``train`` makes for its seed, card included."""

import pytest
import torch

from lilyvae.data.splits import split_boreholes
from lilyvae.errors import LilyVAEError
from lilyvae.runs.ensemble import train_seeds
from lilyvae.training.config import make_config
from lilyvae.training.trainer import train


def test_each_seed_is_the_model_train_makes(data):
    split = split_boreholes(data, 0.2, 0)
    hidden = list(data.class_names[:2])
    configs = {
        "unsup": make_config("unsupervised", "standard", epochs=1),
        "semi": make_config("semisupervised", "hybrid", epochs=1),
    }
    seeds = [5, 6, 7]
    got = train_seeds(data, configs, seeds, split=split, withhold_labels=hidden, workers=2)
    assert list(got) == ["unsup", "semi"] and all(len(v) == 3 for v in got.values())
    for name, config in configs.items():
        for seed, model in zip(seeds, got[name], strict=True):
            withhold = hidden if config.model == "semisupervised" else ()
            alone = train(
                data,
                make_config(config.model, config.recipe.name, epochs=1, seed=seed),
                split=split,
                withhold_labels=withhold,
            )
            a, b = model.module.state_dict(), alone.module.state_dict()
            assert all(torch.equal(a[k], b[k]) for k in a), (name, seed)
            assert model.card.seed == seed and model.card.data == alone.card.data
            assert model.card.split == alone.card.split
            assert dict(model.card.extra) == dict(alone.card.extra)


def test_a_diverging_seed_is_named(data):
    configs = {"wild": make_config("unsupervised", "standard", epochs=2, lr=1e6)}
    with pytest.raises(LilyVAEError, match=r"wild, seed 3: diverged"):
        train_seeds(data, configs, [3], workers=1)
