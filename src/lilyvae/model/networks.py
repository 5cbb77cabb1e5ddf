"""The two networks, exactly as the specification documents them.

Pure ``nn.Module`` s: layers and maths only. Training lives in :mod:`lilyvae.training.trainer`,
saving and loading in :mod:`lilyvae.model.checkpoint`. Parameter names match the reference
checkpoints, so ``VAE().load_state_dict(torch.load("unsup.pt", weights_only=True))``
works for the published ``unsup.pt`` (and likewise ``SemiSupervisedVAE`` for
``semisup.pt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lilyvae.model.architecture import (
    CLASSIFIER_DROPOUT,
    CLASSIFIER_HIDDEN,
    DEFAULT_HIDDEN_DIMS,
    DEFAULT_LATENT_DIM,
    SEMISUPERVISED,
    UNSUPERVISED,
    Architecture,
    has_head,
)


@dataclass(frozen=True)
class LossParts:
    """A loss and its named parts, each a 0-d tensor (``None`` where a recipe has none).

    ``masked`` is the hybrid recipe's MSE on masked entries, ``cls`` the cross-entropy
    (``class`` in histories). Unpacks as the specification's tuple: ``total, recon,
    kl`` for the VAE, ``total, recon, kl, cls`` for the semi-supervised model.
    """

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor
    masked: torch.Tensor | None = None
    cls: torch.Tensor | None = None

    def __iter__(self):
        yield from (self.total, self.recon, self.kl)
        if self.cls is not None:
            yield self.cls

    def __getitem__(self, index):
        return tuple(self)[index]

    def __len__(self) -> int:
        return 3 if self.cls is None else 4

    def as_dict(self) -> dict[str, torch.Tensor]:
        """The parts under their history names: loss, recon, kl, masked, class."""
        named = {"loss": self.total, "recon": self.recon, "kl": self.kl}
        named |= {"masked": self.masked, "class": self.cls}
        return {k: v for k, v in named.items() if v is not None}


def _observed_mse(recon, x, observed, reduction: str) -> torch.Tensor:
    """MSE over the observed entries only, summed or averaged over them (0 when none is)."""
    if not bool(observed.any()):
        return recon.sum() * 0.0
    return F.mse_loss(recon[observed], x[observed], reduction=reduction)


def _block(n_in: int, n_out: int) -> list[nn.Module]:
    # The reference's order: Linear -> ReLU -> BatchNorm1d.
    return [nn.Linear(n_in, n_out), nn.ReLU(), nn.BatchNorm1d(n_out)]


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) = -0.5 * (1 + logvar - mu^2 - exp(logvar)), reduced."""
    terms = 1 + logvar - mu.pow(2) - logvar.exp()
    if reduction == "sum":
        return -0.5 * terms.sum()
    if reduction == "mean":
        return -0.5 * terms.mean()
    raise ValueError(f"unknown reduction {reduction!r}")


class VAE(nn.Module):
    """Unsupervised VAE: 6 -> 64 -> 32 -> (mu, logvar) in 10-D, and the mirror back.

    With ``missing_indicators`` (``missing="mask"``) the encoder reads 12 inputs: the
    six, a missing one entering as 0, and beside them one indicator per input, 1 where
    it is missing (:meth:`encoder_input`); a missing input is NaN in ``x``.
    """

    kind = UNSUPERVISED
    #: The prefix of its embedding columns by default (the reference's ``unsup_emb_*``).
    short_name = "unsup"
    #: Whether the network has a lithology head (see ``architecture.has_head``).
    has_head = False

    def __init__(
        self,
        input_dim: int = 6,
        latent_dim: int = DEFAULT_LATENT_DIM,
        hidden_dims: Sequence[int] = DEFAULT_HIDDEN_DIMS,
        missing_indicators: bool = False,
    ):
        super().__init__()
        self.input_dim = int(input_dim)
        self.latent_dim = int(latent_dim)
        self.hidden_dims = [int(h) for h in hidden_dims]
        self.missing_indicators = bool(missing_indicators)
        if not self.hidden_dims:
            raise ValueError("hidden_dims must name at least one layer")

        enc: list[nn.Module] = []
        n_in = self.encoder_input_dim
        for h in self.hidden_dims:
            enc += _block(n_in, h)
            n_in = h
        self.encoder = nn.Sequential(*enc)
        self.fc_mu = nn.Linear(n_in, self.latent_dim)
        self.fc_logvar = nn.Linear(n_in, self.latent_dim)

        dec: list[nn.Module] = []
        n_in = self.latent_dim
        for h in reversed(self.hidden_dims):
            dec += _block(n_in, h)
            n_in = h
        self.decoder = nn.Sequential(*dec)
        self.fc_out = nn.Linear(n_in, self.input_dim)

    @property
    def encoder_input_dim(self) -> int:
        return self.input_dim * (2 if self.missing_indicators else 1)

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the encoder's first layer reads: ``x`` itself, or for a model with
        missing-value indicators ``[x with NaN as 0, 1 where x is NaN]`` (n, 12)."""
        if not self.missing_indicators:
            return x
        missing = torch.isnan(x)
        return torch.cat([x.masked_fill(missing, 0.0), missing.to(x.dtype)], dim=1)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(self.encoder_input(x))
        return self.fc_mu(h), self.fc_logvar(h)

    def reparameterize(
        self, mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``mu + noise * std``; ``noise`` (standard normal, shaped like ``mu``) is drawn
        from the global stream when not given (tests and the engine give their own)."""
        std = torch.exp(0.5 * logvar)
        if noise is None:
            noise = torch.randn_like(std)
        return mu + noise * std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.fc_out(self.decoder(z))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, noise)
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def get_embeddings(self, x: torch.Tensor) -> torch.Tensor:
        """The posterior mean: the deterministic 10-D embedding of each row."""
        return self.encode(x)[0]

    def loss_function(
        self,
        recon,
        x,
        mu,
        logvar,
        beta: float = 1.0,
        reduction: str = "sum",
        *,
        mask=None,
        mask_weight: float = 0.0,
        observed=None,
    ) -> LossParts:
        """Every term of both recipes: MSE(recon, x) + beta * KL, both
        ``reduction``-reduced, plus ``mask_weight`` * the mean MSE on the entries where
        the boolean ``mask`` is set (the hybrid recipe's masked term; zero when none is).

        With ``observed`` (boolean like ``x``, False where an input is missing; a model
        trained with ``missing="mask"``), only observed entries count: the
        reconstruction term is the sum of (recon - x)^2 over the observed entries, or
        with ``reduction="mean"`` its mean over them (that sum / their number); the
        masked term is the mean over entries both masked and observed. What ``x`` holds
        at a missing entry (NaN, say) never enters a term. The KL term is unchanged.

        Unpacks as ``(total, recon, kl)``, as the specification writes it. This is the
        statement of the maths the training engine's hand-written gradients are tested
        against.
        """
        if observed is None:
            recon_loss = F.mse_loss(recon, x, reduction=reduction)
        else:
            observed = observed.bool()
            recon_loss = _observed_mse(recon, x, observed, reduction)
            if mask is not None:
                mask = mask.bool() & observed
        kl = kl_divergence(mu, logvar, reduction)
        total = recon_loss + beta * kl
        masked = None
        if mask is not None:
            mask = mask.bool()
            if bool(mask.any()):
                masked = F.mse_loss(recon[mask], x[mask], reduction="mean")
            else:
                masked = recon.sum() * 0.0
            total = total + mask_weight * masked
        return LossParts(total, recon_loss, kl, masked)


class SemiSupervisedVAE(VAE):
    """The VAE plus a lithology head on the latent code: 10 -> 64 -> ReLU -> Dropout -> classes.

    During training the head reads the sampled code ``z`` (so class information must
    survive the posterior noise); :meth:`classify` reads the mean.
    """

    kind = SEMISUPERVISED
    short_name = "semisup"
    has_head = True
    #: The head's linear layers in order, as named in the state dict (the training
    #: engine lays out its parameters by these names; the last one gives the classes).
    HEAD_LINEARS = ("classifier.0", "classifier.3")

    def __init__(
        self,
        input_dim: int = 6,
        latent_dim: int = DEFAULT_LATENT_DIM,
        hidden_dims: Sequence[int] = DEFAULT_HIDDEN_DIMS,
        n_classes: int = 139,
        dropout: float = CLASSIFIER_DROPOUT,
        missing_indicators: bool = False,
    ):
        super().__init__(input_dim, latent_dim, hidden_dims, missing_indicators)
        self.n_classes = int(n_classes)
        if self.n_classes < 1:
            raise ValueError("n_classes must be at least 1")
        self.classifier = nn.Sequential(
            nn.Linear(self.latent_dim, CLASSIFIER_HIDDEN),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(CLASSIFIER_HIDDEN, self.n_classes),
        )

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, noise)
        return self.decode(z), mu, logvar, self.classifier(z)

    @torch.no_grad()
    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits from the posterior mean (call ``eval()`` first for inference)."""
        return self.classifier(self.encode(x)[0])

    def loss_function(
        self,
        recon,
        x,
        mu,
        logvar,
        logits=None,
        labels=None,
        beta: float = 1.0,
        alpha: float = 0.1,
        reduction: str = "sum",
        *,
        mask=None,
        mask_weight: float = 0.0,
        class_reduction: str = "mean",
        observed=None,
    ) -> LossParts:
        """The VAE's terms (see :meth:`VAE.loss_function`, ``observed`` included) +
        alpha * CE; CE uses only labelled rows (label >= 0), summed or averaged over
        them (``class_reduction``: the standard recipe sums, as the reference's
        ``train_vae.py`` did).

        Unpacks as ``(total, recon, kl, class)``.
        """
        parts = super().loss_function(
            recon,
            x,
            mu,
            logvar,
            beta,
            reduction,
            mask=mask,
            mask_weight=mask_weight,
            observed=observed,
        )
        ce = classification_loss(logits, labels, class_reduction)
        return LossParts(parts.total + alpha * ce, parts.recon, parts.kl, parts.masked, ce)


def classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Cross-entropy over labelled rows (label >= 0), their ``"mean"`` or ``"sum"``;
    zero when none is labelled."""
    labelled = labels >= 0
    if not bool(labelled.any()):
        return logits.sum() * 0.0
    return F.cross_entropy(logits[labelled], labels[labelled], reduction=reduction)


MODEL_CLASSES = {VAE.kind: VAE, SemiSupervisedVAE.kind: SemiSupervisedVAE}


def build_model(kind: str, arch: Architecture | None = None) -> VAE:
    """Construct a model by kind name (``unsupervised`` or ``semisupervised``) with the
    sizes of ``arch`` (default: the documented architecture, 139 classes for a head)."""
    if kind not in MODEL_CLASSES:
        raise ValueError(f"unknown model kind {kind!r}; choose {' or '.join(MODEL_CLASSES)}")
    if arch is None:
        classes = 139 if has_head(kind) else None
        arch = Architecture(6, DEFAULT_LATENT_DIM, DEFAULT_HIDDEN_DIMS, classes)
    sizes = (arch.input_dim, arch.latent_dim, arch.hidden_dims)
    if not has_head(kind):
        return MODEL_CLASSES[kind](*sizes, missing_indicators=arch.missing_indicators)
    if arch.n_classes is None:
        raise ValueError(f"a {kind} model needs n_classes")
    return MODEL_CLASSES[kind](*sizes, arch.n_classes, missing_indicators=arch.missing_indicators)


def architecture_of(model: VAE) -> Architecture:
    """The sizes of a built network."""
    return Architecture(
        model.input_dim,
        model.latent_dim,
        tuple(model.hidden_dims),
        getattr(model, "n_classes", None),
        model.missing_indicators,
    )


def with_missing_indicators(model: VAE) -> VAE:
    """``model`` with missing-value indicator inputs added, their weights zero: on rows
    with every input present it computes exactly what ``model`` computes.

    A ``missing="mask"`` model starts so from the ``missing="drop"`` model of its seed,
    and so draws the same random numbers: trained on complete rows it trains like that
    model, the indicators' weights staying zero.
    """
    arch = architecture_of(model).replace(missing_indicators=True)
    with torch.random.fork_rng(devices=[]):  # the new module's own initial draws are discarded
        wider = build_model(model.kind, arch)
    state = model.state_dict()
    first = state["encoder.0.weight"]
    state["encoder.0.weight"] = torch.cat([first, torch.zeros_like(first)], dim=1)
    wider.load_state_dict(state)
    return wider.train(model.training)
