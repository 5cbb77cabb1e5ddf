"""Recipes are data: defaults from the specification, overrides, the beta schedule."""

import pytest
import torch

from lilyvae.errors import LilyVAEError
from lilyvae.model.recipes import HybridRecipe, StandardRecipe, get_recipe, recipe_from_dict
from lilyvae.train.trainer import PlateauScheduler


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
