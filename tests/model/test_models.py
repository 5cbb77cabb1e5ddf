"""The networks: layer shapes, parameter counts, and the reference checkpoints."""

import numpy as np
import pytest
import torch
from reference_helpers import REFERENCE, hand_embedding

from lilyvae import FEATURE_COLS, VAE, SemiSupervisedVAE
from lilyvae.model.architecture import Architecture, parameter_count
from lilyvae.model.checkpoint import load_state_dict_into
from lilyvae.model.networks import build_model


def test_layer_shapes_and_parameter_counts():
    vae = VAE(input_dim=6, latent_dim=10, hidden_dims=[64, 32])
    semi = SemiSupervisedVAE(input_dim=6, latent_dim=10, hidden_dims=[64, 32], n_classes=139)
    assert sum(p.numel() for p in vae.parameters()) == 6426
    assert sum(p.numel() for p in semi.parameters()) == 16165
    # Counted from the sizes alone, as a model card's check does before allocating.
    for sizes in ((6, 10, [64, 32], None), (6, 10, [64, 32], 139), (4, 3, [7, 5, 2], 2)):
        kind = "unsupervised" if sizes[-1] is None else "semisupervised"
        built = build_model(kind, Architecture(*sizes[:2], tuple(sizes[2]), sizes[3]))
        assert parameter_count(*sizes) == sum(p.numel() for p in built.parameters())
    shapes = {k: tuple(v.shape) for k, v in semi.state_dict().items()}
    assert shapes["encoder.0.weight"] == (64, 6)
    assert shapes["encoder.3.weight"] == (32, 64)
    assert shapes["fc_mu.weight"] == shapes["fc_logvar.weight"] == (10, 32)
    assert shapes["decoder.0.weight"] == (32, 10)
    assert shapes["decoder.3.weight"] == (64, 32)
    assert shapes["fc_out.weight"] == (6, 64)
    assert shapes["classifier.0.weight"] == (64, 10)
    assert shapes["classifier.3.weight"] == (139, 64)
    assert isinstance(semi.classifier[2], torch.nn.Dropout) and semi.classifier[2].p == 0.3
    # Linear -> ReLU -> BatchNorm1d, in that order.
    kinds = [type(m).__name__ for m in vae.encoder]
    assert kinds == ["Linear", "ReLU", "BatchNorm1d"] * 2


def test_forward_shapes_and_loss_tuple():
    torch.manual_seed(0)
    semi = SemiSupervisedVAE(n_classes=5)
    x = torch.randn(8, 6)
    recon, mu, logvar, logits = semi(x)
    assert recon.shape == (8, 6) and mu.shape == logvar.shape == (8, 10)
    assert logits.shape == (8, 5)
    labels = torch.tensor([0, 1, -1, 2, 3, 4, -1, 0])
    total, rec, kl, cls = semi.loss_function(
        recon, x, mu, logvar, logits, labels, beta=1.0, alpha=0.1
    )
    assert torch.isclose(total, rec + kl + 0.1 * cls)
    # Unlabelled rows (-1) do not enter the classification term.
    expected = torch.nn.functional.cross_entropy(logits[labels >= 0], labels[labels >= 0])
    assert torch.isclose(cls, expected)
    vae = VAE()
    recon, mu, logvar = vae(x)
    total, rec, kl = vae.loss_function(recon, x, mu, logvar, beta=2.0)
    assert torch.isclose(total, rec + 2.0 * kl)


def test_loss_terms_on_hand_made_tensors():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    recon = torch.tensor([[1.5, 2.0], [3.0, 3.0]])
    mu = torch.tensor([[0.5], [-1.0]])
    logvar = torch.tensor([[0.0], [np.log(2.0)]], dtype=torch.float32)
    vae = VAE(input_dim=2, latent_dim=1, hidden_dims=[4])
    total, rec, kl = vae.loss_function(recon, x, mu, logvar, beta=0.5)
    # sum of squared errors: 0.25 + 1.0
    assert rec.item() == pytest.approx(1.25)
    # KL per row: -0.5 * (1 + lv - mu^2 - e^lv): row 1 -> 0.125, row 2 -> 1 - 0.5 ln 2
    assert kl.item() == pytest.approx(0.125 + 1.0 - 0.5 * np.log(2.0), rel=1e-6)
    assert total.item() == pytest.approx(rec.item() + 0.5 * kl.item())
    _, rec_mean, kl_mean = vae.loss_function(recon, x, mu, logvar, reduction="mean")
    assert rec_mean.item() == pytest.approx(1.25 / 4)
    assert kl_mean.item() == pytest.approx(kl.item() / 2, rel=1e-6)


@pytest.mark.parametrize(
    "name,model", [("unsup", VAE()), ("semisup", SemiSupervisedVAE(n_classes=139))]
)
def test_reference_checkpoints_load_and_embed_as_documented(name, model):
    path = REFERENCE / f"{name}.pt"
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)  # the specification's own loading line works
    load_state_dict_into(model, path)
    x = np.random.default_rng(0).normal(size=(50, len(FEATURE_COLS)))
    got = model.get_embeddings(torch.as_tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(got, hand_embedding(state, x), rtol=1e-4, atol=1e-4)


def test_parameter_count_with_missing_value_indicators():
    from lilyvae.model.networks import build_model

    for kind, classes in (("unsupervised", None), ("semisupervised", 7)):
        built = build_model(kind, Architecture(6, 10, (64, 32), classes, True))
        count = parameter_count(6, 10, (64, 32), classes, True)
        assert count == sum(p.numel() for p in built.parameters())
        assert count == parameter_count(6, 10, (64, 32), classes) + 6 * 64
