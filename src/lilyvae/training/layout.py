"""Where each parameter of a model lives in the engine's flat ``(K, P)`` matrix.

The engine keeps every parameter of every member in one matrix, a row per member, so
that one Adam call updates a whole pack. :func:`build_layout` walks the documented
layers of a :class:`~lilyvae.model.networks.VAE` (or its semi-supervised subclass) and
says which columns of a row hold which state-dict tensor; :func:`load_member` and
:func:`member_state` convert between a row and an ``nn.Module`` state dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lilyvae.model.networks import VAE, SemiSupervisedVAE


@dataclass(frozen=True)
class ParamBlock:
    """One block of the flat parameter matrix and the state-dict tensors it holds."""

    role: str
    shape: tuple[int, ...]
    offset: int
    # (state-dict name, first row, last row): the latent layer packs fc_mu and
    # fc_logvar into one (2L, H) matrix so both are one matrix product.
    pieces: tuple[tuple[str, int, int], ...]

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


@dataclass
class ParamLayout:
    """Where each parameter of a model lives in the flat ``(K, P)`` matrix."""

    params: list[ParamBlock] = field(default_factory=list)
    n_params: int = 0

    def add(self, role: str, shape: tuple[int, ...], pieces) -> None:
        self.params.append(ParamBlock(role, tuple(shape), self.n_params, tuple(pieces)))
        self.n_params += self.params[-1].size

    def add_linear(self, role: str, name: str, n_out: int, n_in: int) -> None:
        """An ``nn.Linear`` called ``name`` in the state dict: ``role.W`` and ``role.b``."""
        self.add(f"{role}.W", (n_out, n_in), [(f"{name}.weight", 0, n_out)])
        self.add(f"{role}.b", (n_out,), [(f"{name}.bias", 0, n_out)])

    def views(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-role views ``(K, *shape)`` of a ``(K, P)`` matrix (K = 1 included)."""
        k = theta.shape[0]
        return {
            p.role: theta[:, p.offset : p.offset + p.size].view(k, *p.shape) for p in self.params
        }


@dataclass(frozen=True)
class NormLayer:
    """A batch-norm layer: the role of its block, its state-dict prefix, its width."""

    role: str
    prefix: str
    width: int


def build_layout(model: VAE) -> tuple[ParamLayout, list[NormLayer]]:
    """Parameter layout of a model, and its batch-norm layers in forward order."""
    layout = ParamLayout()
    norms: list[NormLayer] = []

    def block(role: str, prefix: str, linear_idx: int, n_in: int, n_out: int) -> None:
        # The reference's block: Linear (index i), ReLU (i + 1), BatchNorm1d (i + 2).
        layout.add_linear(role, f"{prefix}.{linear_idx}", n_out, n_in)
        bn = f"{prefix}.{linear_idx + 2}"
        layout.add(f"{role}.gamma", (n_out,), [(f"{bn}.weight", 0, n_out)])
        layout.add(f"{role}.beta", (n_out,), [(f"{bn}.bias", 0, n_out)])
        norms.append(NormLayer(role, bn, n_out))

    n_in = model.encoder_input_dim  # with missing-value indicators, twice the inputs
    for i, h in enumerate(model.hidden_dims):
        block(f"enc{i}", "encoder", 3 * i, n_in, h)
        n_in = h
    lat = model.latent_dim
    layout.add(
        "latent.W",
        (2 * lat, n_in),
        [("fc_mu.weight", 0, lat), ("fc_logvar.weight", lat, 2 * lat)],
    )
    layout.add("latent.b", (2 * lat,), [("fc_mu.bias", 0, lat), ("fc_logvar.bias", lat, 2 * lat)])
    n_in = lat
    for i, h in enumerate(reversed(model.hidden_dims)):
        block(f"dec{i}", "decoder", 3 * i, n_in, h)
        n_in = h
    layout.add_linear("out", "fc_out", model.input_dim, n_in)
    if isinstance(model, SemiSupervisedVAE):
        hidden = model.classifier[0].out_features
        first, last = model.HEAD_LINEARS
        layout.add_linear("cls0", first, hidden, lat)
        layout.add_linear("cls1", last, model.n_classes, hidden)
    return layout, norms


def load_member(
    layout: ParamLayout,
    theta_row: torch.Tensor,
    running: dict[str, tuple[torch.Tensor, torch.Tensor]],
    norms: list[NormLayer],
    k: int,
    state: dict[str, torch.Tensor],
) -> None:
    """Copy a state dict into member ``k``: its row of the parameter matrix and its
    slices of the running batch-norm statistics."""
    for p in layout.params:
        block = theta_row[p.offset : p.offset + p.size].view(p.shape)
        for name, lo, hi in p.pieces:
            block[lo:hi].copy_(state[name])
    for norm in norms:
        mean, var = running[norm.role]
        span = slice(k * norm.width, (k + 1) * norm.width)
        mean[span].copy_(state[f"{norm.prefix}.running_mean"])
        var[span].copy_(state[f"{norm.prefix}.running_var"])


def member_state(
    layout: ParamLayout,
    theta_row: torch.Tensor,
    running: dict[str, tuple[torch.Tensor, torch.Tensor]],
    norms: list[NormLayer],
    k: int,
    steps: int,
) -> dict[str, torch.Tensor]:
    """Member ``k`` as an ``nn.Module`` state dict (CPU tensors of its own)."""
    flat = theta_row.detach().cpu()
    values: dict[str, torch.Tensor] = {}
    for p in layout.params:
        block = flat[p.offset : p.offset + p.size].view(p.shape)
        for name, lo, hi in p.pieces:
            values[name] = block[lo:hi].clone()
    for norm in norms:
        mean, var = running[norm.role]
        span = slice(k * norm.width, (k + 1) * norm.width)
        values[f"{norm.prefix}.running_mean"] = mean[span].cpu().clone()
        values[f"{norm.prefix}.running_var"] = var[span].cpu().clone()
        values[f"{norm.prefix}.num_batches_tracked"] = torch.tensor(steps)
    return values
