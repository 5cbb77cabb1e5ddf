"""The hand-written engine computes what autograd computes on the nn.Module."""

import math

import pytest
import torch
import torch.nn.functional as F

from lilyvae.model.networks import VAE, SemiSupervisedVAE
from lilyvae.model.recipes import HybridRecipe, StandardRecipe
from lilyvae.training.engine import ModelStack, StepInputs, StepWeights, build_layout

N, D, L, C = 37, 6, 10, 5


def make_model(kind, seed, indicators=False):
    torch.manual_seed(seed)
    if kind == "unsupervised":
        return VAE(missing_indicators=indicators)
    return SemiSupervisedVAE(n_classes=C, missing_indicators=indicators)


def make_batch(kind, masked, seed=0, missing=False):
    """A batch; with ``missing``, a third of the rows lack their colour (the last three
    inputs) and a few other entries are missing too (NaN)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(N, D, generator=g)
    eps = torch.randn(N, L, generator=g)
    mask = (torch.rand(N, D, generator=g) < 0.1) if masked else None
    labels = torch.randint(-1, C, (N,), generator=g) if kind == "semisupervised" else None
    drop = None
    if kind == "semisupervised":
        drop = (torch.rand(N, 64, generator=g) >= 0.3).float() / 0.7
    if missing:
        gone = torch.rand(N, D, generator=g) < 0.05
        gone[torch.rand(N, generator=g) < 0.33, 3:] = True
        x = x.masked_fill(gone, float("nan"))
    return x, eps, mask, labels, drop


def engine_inputs(x, eps, mask, labels, drop, k=1):
    """The engine's batch: missing inputs as 0 with their ``observed`` mask (the
    trainer's layout), for a model with missing-value indicators."""
    observed = torch.isfinite(x)
    return StepInputs.from_rows(
        k,
        x=torch.nan_to_num(x, nan=0.0),
        eps=eps,
        mask=None if mask is None else mask.float(),
        labels=labels,
        dropout=drop,
        observed=observed.float() if not bool(observed.all()) else None,
    )


def autograd_loss(model, x, eps, mask, labels, drop, beta, alpha, reduction, mask_weight):
    """The networks' own statement of the loss (``loss_function``), through autograd,
    on the networks' forward pass given the batch's noise (and, for the head, dropout). A model
    with missing-value indicators sees an entry the recipe masks as missing (NaN)."""
    observed = torch.isfinite(x) if model.missing_indicators else None
    hidden = 0.0 if observed is None else float("nan")
    x_in = x if mask is None else x.masked_fill(mask, hidden)
    recon, mu, logvar = model(x_in, noise=eps)[:3]
    z = model.reparameterize(mu, logvar, eps)  # the code the head reads, same noise
    weights = {"beta": beta, "reduction": reduction, "mask": mask, "mask_weight": mask_weight}
    weights["observed"] = observed
    if labels is None:
        parts = model.loss_function(recon, x, mu, logvar, **weights)
    else:
        head = model.classifier
        logits = head[3](F.relu(head[0](z)) * drop)
        # the recipes' pairing: sum-reduced terms with a summed cross-entropy (standard)
        parts = model.loss_function(
            recon, x, mu, logvar, logits, labels, alpha=alpha, class_reduction=reduction, **weights
        )
    named = parts.as_dict()
    return named.pop("loss"), named


CASES = [
    ("unsupervised", "sum", False),
    ("unsupervised", "mean", True),
    ("semisupervised", "sum", False),
    ("semisupervised", "mean", True),
]


#: The engine's batch norms: PyTorch operations (what a GPU runs), or the fused numba
#: kernels (the CPU's default).
KERNELS = {"pytorch-ops": {"fused": False}, "fused": {"fused": True}}


@pytest.mark.parametrize("missing", ["drop", "mask"])
@pytest.mark.parametrize("layout", KERNELS)
@pytest.mark.parametrize("kind,reduction,masked", CASES)
def test_gradients_match_autograd(kind, reduction, masked, layout, missing):
    """Every model and recipe; with ``mask``, a model with missing-value indicators on
    a batch with missing inputs (its masked-observation loss)."""
    indicators = missing == "mask"
    model = make_model(kind, seed=3, indicators=indicators)
    stack = ModelStack([make_model(kind, seed=3, indicators=indicators)], **KERNELS[layout])
    x, eps, mask, labels, drop = make_batch(kind, masked, missing=indicators)
    beta, alpha, mask_weight = 0.7, 0.3, 0.5

    model.train()
    loss, ref_parts = autograd_loss(model, x, eps, mask, labels, drop, beta, alpha, reduction, 0.5)
    loss.backward()
    assert torch.isfinite(loss)

    # labels as (B, K) with K = 1
    batch = engine_inputs(x, eps, mask, None if labels is None else labels.unsqueeze(1), drop)
    weights = StepWeights(beta, alpha, reduction, mask_weight, class_reduction=reduction)
    parts = stack.forward_backward(batch, weights)
    grad = stack.grad

    torch.testing.assert_close(parts.pop("loss")[0], loss.detach(), rtol=1e-5, atol=1e-5)
    assert set(parts) == set(ref_parts)
    for name, value in ref_parts.items():
        torch.testing.assert_close(parts[name][0], value.detach(), rtol=1e-5, atol=1e-6)

    named = dict(model.named_parameters())
    layout, _ = build_layout(model)
    for p in layout.params:
        got = grad[0, p.offset : p.offset + p.size].view(p.shape)
        for name, lo, hi in p.pieces:
            # float32 rounding of the batch sums grows with the gradient's size (sums
            # reach 40 here; autograd itself is 2.5e-5 off a float64 computation)
            want = named[name].grad
            atol = 1e-5 * max(1.0, float(want.abs().max()) / 10)
            torch.testing.assert_close(got[lo:hi], want, rtol=1e-4, atol=atol)
    # Batch-norm running statistics advance exactly as nn.BatchNorm1d's do.
    exported = stack.to_module(0).state_dict()
    for key, value in model.state_dict().items():
        if "running" in key:
            torch.testing.assert_close(exported[key], value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("missing", ["drop", "mask"])
@pytest.mark.parametrize("kind", ["unsupervised", "semisupervised"])
def test_stacked_members_equal_single_members(kind, missing):
    """Two members stepped together give each member's own single-model result."""
    indicators = missing == "mask"
    models = [make_model(kind, seed=s, indicators=indicators) for s in (1, 2)]
    pair = ModelStack([make_model(kind, seed=s, indicators=indicators) for s in (1, 2)])
    batches = [make_batch(kind, True, seed=s, missing=indicators) for s in (10, 20)]
    w = StepWeights(0.5, 0.5, "mean", 0.5)

    def side_by_side(i):
        return torch.cat([b[i] for b in batches], dim=1)

    x, eps = side_by_side(0), side_by_side(1)
    mask = torch.cat([b[2] for b in batches], dim=1)
    labels = torch.stack([b[3] for b in batches], dim=1) if kind == "semisupervised" else None
    drop = side_by_side(4) if kind == "semisupervised" else None
    parts2 = pair.forward_backward(engine_inputs(x, eps, mask, labels, drop, k=2), w)
    grad2 = pair.grad
    for k, model in enumerate(models):
        single = ModelStack([model])
        bx, beps, bmask, blab, bdrop = batches[k]
        blab = None if blab is None else blab[:, None]
        parts1 = single.forward_backward(engine_inputs(bx, beps, bmask, blab, bdrop), w)
        torch.testing.assert_close(grad2[k], single.grad[0], rtol=1e-4, atol=1e-6)
        for name in parts1:  # includes "loss"
            torch.testing.assert_close(parts2[name][k], parts1[name][0])


def test_adam_matches_torch_optim():
    model = make_model("unsupervised", seed=5)
    stack = ModelStack([make_model("unsupervised", seed=5)])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, fused=True)
    layout, _ = build_layout(model)
    named = dict(model.named_parameters())
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        grad = torch.randn(1, layout.n_params, generator=gen)
        for p in layout.params:
            block = grad[0, p.offset : p.offset + p.size].view(p.shape)
            for name, lo, hi in p.pieces:
                named[name].grad = block[lo:hi].clone()
        opt.step()
        stack.grad.copy_(grad)
        stack.apply_gradient([1e-2], clip=None)
    for key, value in stack.to_module(0).state_dict().items():
        if key in named:
            torch.testing.assert_close(value, named[key].detach(), rtol=1e-6, atol=1e-8)


def test_clipping_limits_each_members_norm():
    stack = ModelStack([make_model("unsupervised", seed=s) for s in (1, 2)])
    grad = torch.zeros(2, stack.layout.n_params)
    grad[0, 0] = 10.0  # norm 10: clipped to 1
    grad[1, 0] = 0.5  # norm 0.5: left alone
    before = stack.theta.clone()
    stack.grad.copy_(grad)
    norms = stack.apply_gradient([1.0, 1.0], clip=1.0)
    torch.testing.assert_close(norms, torch.tensor([10.0, 0.5]))
    # First Adam step moves by lr * g / (|g| + eps): the sign survives, the size is ~lr,
    # so check the stored first moment instead: (1 - beta1) * clipped gradient.
    torch.testing.assert_close(stack.exp_avg[0, 0], torch.tensor(0.1 * 10.0 / (10.0 + 1e-6)))
    torch.testing.assert_close(stack.exp_avg[1, 0], torch.tensor(0.1 * 0.5))
    assert not torch.equal(before, stack.theta)


def test_fused_kernels_are_the_cpus_default_and_cpu_only():
    model = make_model("unsupervised", seed=1)
    assert ModelStack([model]).fused  # the CPU's default, one member included
    assert not ModelStack([model], fused=False).fused
    with pytest.raises(ValueError, match="CPU only"):
        ModelStack([model], device="meta", fused=True)


def test_masked_term_of_loss_function():
    """The hybrid recipe's masked term, by hand: mean squared error on masked entries."""
    model = make_model("unsupervised", seed=1)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    recon = torch.tensor([[1.5, 2.0], [3.0, 2.0]])
    mu = logvar = torch.zeros(2, 3)
    mask = torch.tensor([[True, False], [False, True]])
    parts = model.loss_function(recon, x, mu, logvar, reduction="mean", mask=mask, mask_weight=0.5)
    assert parts.masked.item() == pytest.approx((0.25 + 4.0) / 2)
    assert parts.recon.item() == pytest.approx((0.25 + 4.0) / 4)
    assert parts.total.item() == pytest.approx(parts.recon.item() + 0.5 * parts.masked.item())
    nothing = model.loss_function(recon, x, mu, logvar, mask=torch.zeros(2, 2, dtype=torch.bool))
    assert nothing.masked.item() == 0.0


def test_masked_observation_loss_by_hand():
    """With ``observed``, only observed entries count: what x or the reconstruction
    hold at a missing entry changes nothing."""
    model = make_model("unsupervised", seed=1)
    nan = float("nan")
    x = torch.tensor([[1.0, nan], [3.0, 4.0]])
    recon = torch.tensor([[1.5, 100.0], [3.0, 2.0]])
    observed = torch.isfinite(x)
    mu = logvar = torch.zeros(2, 3)
    summed = model.loss_function(recon, x, mu, logvar, observed=observed)
    mean = model.loss_function(recon, x, mu, logvar, reduction="mean", observed=observed)
    assert summed.recon.item() == pytest.approx(0.25 + 4.0)
    assert mean.recon.item() == pytest.approx((0.25 + 4.0) / 3)  # 3 observed entries
    assert summed.total.item() == pytest.approx(0.25 + 4.0)  # KL is 0 here
    other = model.loss_function(
        recon.clone().fill_(7.0).masked_scatter(observed, recon[observed]),
        x.nan_to_num(-5.0),
        mu,
        logvar,
        observed=observed,
    )
    assert other.recon.item() == summed.recon.item()
    # The hybrid recipe's masked term: entries masked AND observed.
    mask = torch.tensor([[True, True], [False, False]])
    parts = model.loss_function(
        recon, x, mu, logvar, reduction="mean", mask=mask, mask_weight=0.5, observed=observed
    )
    assert parts.masked.item() == pytest.approx(0.25)
    assert parts.total.item() == pytest.approx((0.25 + 4.0) / 3 + 0.5 * 0.25)
    nothing = model.loss_function(recon, x, mu, logvar, observed=torch.zeros(2, 2, dtype=bool))
    assert nothing.recon.item() == 0.0


def test_missing_indicators_in_the_encoders_input():
    """A 'mask' model's encoder reads [inputs with NaN as 0, 1 where missing]."""
    model = make_model("unsupervised", seed=1, indicators=True)
    assert model.encoder[0].in_features == 12 and model.fc_out.out_features == 6
    x = torch.tensor([[1.0, 2.0, 3.0, float("nan"), float("nan"), float("nan")]])
    got = model.encoder_input(x)
    assert got.tolist() == [[1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 0, 0, 0, 1.0, 1.0, 1.0]]
    assert torch.isfinite(model.eval().get_embeddings(x)).all()
    plain = make_model("unsupervised", seed=1)
    assert plain.encoder_input(x) is x  # the reference's six inputs, as given


def test_cross_entropy_reductions_by_hand():
    """The standard recipe sums the cross-entropy over a batch's labelled rows (as the
    reference's train_vae.py); the hybrid recipe averages it; unlabelled rows count in
    neither."""
    model = SemiSupervisedVAE(latent_dim=2, hidden_dims=[4], n_classes=2)
    logits = torch.log(torch.tensor([[0.5, 0.5], [0.2, 0.8], [0.9, 0.1]]))
    labels = torch.tensor([0, 1, -1])  # the third row is unlabelled
    x = recon = torch.zeros(3, 6)
    mu = logvar = torch.zeros(3, 2)
    by_hand = [-math.log(0.5), -math.log(0.8)]
    summed = model.loss_function(recon, x, mu, logvar, logits, labels, class_reduction="sum")
    mean = model.loss_function(recon, x, mu, logvar, logits, labels, class_reduction="mean")
    assert summed.cls.item() == pytest.approx(sum(by_hand), rel=1e-6)
    assert mean.cls.item() == pytest.approx(sum(by_hand) / 2, rel=1e-6)
    assert summed.total.item() == pytest.approx(0.1 * sum(by_hand), rel=1e-6)
    assert StandardRecipe().class_reduction == "sum" and HybridRecipe().class_reduction == "mean"
