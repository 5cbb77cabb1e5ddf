"""Recipes are data: defaults from the specification, overrides, the beta schedule."""

import json
from dataclasses import dataclass

import pytest
import torch
from cli_helpers import run

from lilyvae.errors import LilyVAEError
from lilyvae.hyperparams import NON_NEGATIVE_NUMBER, hyper
from lilyvae.model.recipes import (
    RECIPES,
    HybridRecipe,
    StandardRecipe,
    get_recipe,
    recipe_from_dict,
    register_recipe,
)
from lilyvae.training.config import config_from_dict, grid_axes, make_config, parse_grid_value
from lilyvae.training.pack_run import PlateauScheduler


def test_specification_defaults():
    std, hyb = StandardRecipe(), HybridRecipe()
    assert (std.reduction, std.beta, std.alpha, std.mask_ratio, std.grad_clip) == (
        "sum",
        1.0,
        0.1,
        0.0,
        None,
    )
    assert std.plateau_patience is None
    assert (hyb.reduction, hyb.beta_start, hyb.beta, hyb.anneal_epochs) == ("mean", 1e-6, 0.5, 30)
    assert (hyb.alpha, hyb.mask_ratio, hyb.mask_weight, hyb.grad_clip) == (0.5, 0.1, 0.5, 1.0)
    assert (hyb.plateau_patience, hyb.plateau_factor) == (10, 0.5)


@pytest.mark.parametrize(
    "epoch,expected", [(0, 1e-6), (15, 1e-6 + (0.5 - 1e-6) * 0.5), (30, 0.5), (99, 0.5)]
)
def test_hybrid_beta_schedule(epoch, expected):
    assert HybridRecipe().beta_at(epoch) == pytest.approx(expected, rel=1e-12)


def test_standard_beta_is_fixed():
    assert [StandardRecipe().beta_at(e) for e in (0, 15, 99)] == [1.0, 1.0, 1.0]
    assert StandardRecipe(beta=0.25).beta_at(50) == 0.25


def test_overrides_and_round_trip():
    r = get_recipe("hybrid", beta=0.8, mask_ratio=0.2, alpha=None)
    assert (r.beta, r.mask_ratio, r.alpha) == (0.8, 0.2, 0.5)
    assert recipe_from_dict(r.to_dict()) == r
    with pytest.raises(LilyVAEError, match="no hyper-parameter 'gamma'"):
        get_recipe("standard", gamma=1.0)
    with pytest.raises(LilyVAEError, match="unknown recipe"):
        get_recipe("fancy")
    with pytest.raises(LilyVAEError, match="mask_ratio"):
        get_recipe("hybrid", mask_ratio=1.5)


def test_plateau_scheduler_follows_torch():
    """Same decisions as torch's ReduceLROnPlateau(patience, factor) on a loss sequence."""
    losses = [5, 4, 4, 4, 4, 3.9999, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2]
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", patience=2, factor=0.5)
    ours = PlateauScheduler([1.0, 1.0], patience=2, factor=0.5)
    for loss in losses:
        ref.step(loss)
        ours.step([loss, loss])
        assert ours.lrs == [opt.param_groups[0]["lr"]] * 2
    assert ours.lrs[0] < 1.0  # it did halve along the way


# --- a recipe of its own: one dataclass, registered once ----------------------------------------


@pytest.fixture
def fancy_recipe():
    """A recipe with a field of its own, registered for one test only."""
    saved = dict(RECIPES)

    @register_recipe
    @dataclass(frozen=True)
    class FancyRecipe(HybridRecipe):
        name: str = "fancy"
        beta: float = 0.2
        gamma: float = hyper(0.3, "weight of a term of its own", NON_NEGATIVE_NUMBER)

    yield FancyRecipe
    RECIPES.clear()
    RECIPES.update(saved)


def test_a_recipe_field_of_its_own_survives_a_round_trip(fancy_recipe):
    recipe = get_recipe("fancy", gamma=0.7)
    back = recipe_from_dict(json.loads(json.dumps(recipe.to_dict())))
    assert type(back) is fancy_recipe and back == recipe and back.gamma == 0.7
    config = make_config("semisupervised", "fancy", gamma=0.7, epochs=3)
    assert config_from_dict(json.loads(json.dumps(config.to_dict()))) == config
    # its field is checked, and is an axis of a sweep's grid
    with pytest.raises(LilyVAEError, match=r"recipe 'fancy': gamma must be a number >= 0, not -1"):
        get_recipe("fancy", gamma=-1)
    assert "gamma" in grid_axes() and parse_grid_value("gamma", "0.5") == 0.5
    # other recipes do not have it
    with pytest.raises(LilyVAEError, match="recipe 'standard' has no hyper-parameter 'gamma'"):
        make_config("unsupervised", "standard", gamma=0.7)


def test_a_saved_recipe_with_unknown_keys_is_refused_in_one_line(fancy_recipe):
    saved = get_recipe("fancy").to_dict()
    with pytest.raises(LilyVAEError) as err:
        recipe_from_dict(saved | {"name": "hybrid", "delta": 1.0})
    assert str(err.value).count("\n") == 0
    assert "recipe 'hybrid': unknown hyper-parameter(s) 'delta', 'gamma'" in str(err.value)
    with pytest.raises(LilyVAEError, match="unknown hyper-parameter"):
        config_from_dict(make_config().to_dict() | {"recipe": saved | {"delta": 1.0}})


def test_a_recipe_field_without_a_declaration_is_refused_at_registration():
    before = dict(RECIPES)
    with pytest.raises(TypeError, match="recipe 'bare': declare field"):

        @register_recipe
        @dataclass(frozen=True)
        class BareRecipe(StandardRecipe):
            name: str = "bare"
            delta: float = 1.0

    assert RECIPES == before


def test_a_recipe_of_its_own_gets_a_flag_and_resumes(fancy_recipe, tmp_path, small_csv, capsys):
    out = tmp_path / "run"
    args = ["bootstrap", "--model", "unsupervised", "--data", small_csv, "--output-dir", out]
    args += ["--quiet", "--no-eval", "--workers", "1"]
    code, _, err = run(
        [*args, "--recipe", "fancy", "--gamma", "0.7", "--n", "1", "--epochs", "1"], capsys
    )
    assert code == 0, err
    # --resume rebuilds the run's settings from its run.json: the same recipe, its own field
    code, stdout, err = run([*args, "--resume", "--n", "2"], capsys)
    assert code == 0, err
    assert "continued the run with the settings stored in its run.json" in stdout
    for member in ("m0000", "m0001"):
        recipe = json.loads((out / "members" / f"{member}.meta.json").read_text())["training"]
        assert (recipe["recipe"]["name"], recipe["recipe"]["gamma"]) == ("fancy", 0.7)


def test_retired_settings():
    """--compile went: old files that say ``"compile": false`` still load; asking fails."""
    assert config_from_dict(make_config().to_dict() | {"compile": False}) == make_config()
    with pytest.raises(LilyVAEError, match="unknown setting"):
        config_from_dict(make_config().to_dict() | {"colour": "red"})
    with pytest.raises(LilyVAEError, match="compile was removed: "):
        make_config(compile=True)
