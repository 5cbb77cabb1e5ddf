"""The training engine: a stack of K identical networks stepped together, by hand.

Why by hand: these networks are tiny (6 -> 64 -> 32 -> 10), so a training step is
dominated by per-operation overhead, not arithmetic. Autograd, ``nn.Module`` calls,
``DataLoader`` collation and a per-parameter optimiser each add their own layer of
it. The engine keeps every parameter of every member in one flat ``(K, P)`` matrix,
writes the forward and backward passes of the documented layers with fused PyTorch
kernels (``baddbmm``, ``native_batch_norm`` and its backward), and runs Adam on the
whole matrix at once. The gradients are the ones autograd would compute for the same
``nn.Module`` (a test checks this for every model and recipe), so a member trained
here is the same model the specification's loop would train.

Layout: member k's activations live side by side, ``(batch, K * width)``, so batch
normalisation of all members is one ``native_batch_norm`` call over ``K * width``
channels; linear layers are batched matrix products over members. With K = 1 every
reshape is a view and the engine is a plain single-model trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .models import CLASSIFIER_DROPOUT, VAE, SemiSupervisedVAE, build_model

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
CLIP_EPS = 1e-6  # as torch.nn.utils.clip_grad_norm_

_native_bn = torch.ops.aten.native_batch_norm
_native_bn_backward = torch.ops.aten.native_batch_norm_backward
_relu_backward = torch.ops.aten.threshold_backward


@dataclass(frozen=True)
class _Param:
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

    params: list[_Param] = field(default_factory=list)
    n_params: int = 0

    def add(self, role: str, shape: tuple[int, ...], pieces) -> None:
        self.params.append(_Param(role, tuple(shape), self.n_params, tuple(pieces)))
        self.n_params += self.params[-1].size

    def views(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-role views ``(K, *shape)``; for a single member, ``shape`` alone."""
        k = theta.shape[0]
        lead = () if k == 1 else (k,)
        return {
            p.role: theta[:, p.offset : p.offset + p.size].view(*lead, *p.shape)
            for p in self.params
        }


def _linear_pieces(name: str, n_out: int):
    return [(f"{name}.weight", 0, n_out)], [(f"{name}.bias", 0, n_out)]


def build_layout(model: VAE) -> tuple[ParamLayout, list[tuple[str, str, int]]]:
    """Parameter layout of a model, and its batch-norm layers (role, prefix, width)."""
    layout = ParamLayout()
    norms: list[tuple[str, str, int]] = []

    def block(role: str, prefix: str, linear_idx: int, n_in: int, n_out: int) -> None:
        w, b = _linear_pieces(f"{prefix}.{linear_idx}", n_out)
        layout.add(f"{role}.W", (n_out, n_in), w)
        layout.add(f"{role}.b", (n_out,), b)
        bn = f"{prefix}.{linear_idx + 2}"
        layout.add(f"{role}.gamma", (n_out,), [(f"{bn}.weight", 0, n_out)])
        layout.add(f"{role}.beta", (n_out,), [(f"{bn}.bias", 0, n_out)])
        norms.append((role, bn, n_out))

    n_in = model.input_dim
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
    w, b = _linear_pieces("fc_out", model.input_dim)
    layout.add("out.W", (model.input_dim, n_in), w)
    layout.add("out.b", (model.input_dim,), b)
    if isinstance(model, SemiSupervisedVAE):
        hidden = model.classifier[0].out_features
        w, b = _linear_pieces("classifier.0", hidden)
        layout.add("cls0.W", (hidden, lat), w)
        layout.add("cls0.b", (hidden,), b)
        w, b = _linear_pieces("classifier.3", model.n_classes)
        layout.add("cls1.W", (model.n_classes, hidden), w)
        layout.add("cls1.b", (model.n_classes,), b)
    return layout, norms


# --- the layers, for K members side by side ------------------------------------------


def _linear(h: torch.Tensor, Wt: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B, K*i) @ per-member Wt (K, i, o) + b (K, o) -> (B, K*o).

    ``Wt`` is the transposed weight view. A single member (K = 1) keeps 2-D views and
    takes one ``addmm``.
    """
    if Wt.dim() == 2:
        return torch.addmm(b, h, Wt)
    k, i, o = Wt.shape
    n = h.shape[0]
    out = torch.baddbmm(b.unsqueeze(1), h.view(n, k, i).transpose(0, 1), Wt)
    return out.transpose(0, 1).reshape(n, k * o)


def _linear_backward(g, h, W, gW, gb, need_input: bool = True):
    """Gradients of :func:`_linear`: written into ``gW``, ``gb``; returns the input's.

    ``gW`` and ``gb`` are views of the stack's flat gradient matrix, so no gather
    of per-parameter gradients is needed afterwards.
    """
    if W.dim() == 2:
        torch.mm(g.t(), h, out=gW)
        torch.sum(g, 0, out=gb)
        return torch.mm(g, W) if need_input else None
    k, o, i = W.shape
    n = g.shape[0]
    gk = g.view(n, k, o).transpose(0, 1)
    gW.copy_(torch.bmm(gk.transpose(1, 2), h.view(n, k, i).transpose(0, 1)))
    gb.copy_(g.sum(0).view(k, o))
    return torch.bmm(gk, W).transpose(0, 1).reshape(n, k * i) if need_input else None


@dataclass(frozen=True)
class _Linear:
    """A linear layer of every member: weight views, transposed views, gradient views."""

    W: torch.Tensor  # (K, o, i), or (o, i) for one member
    Wt: torch.Tensor  # W transposed, for the forward product
    b: torch.Tensor
    gW: torch.Tensor  # views of the stack's flat gradient matrix
    gb: torch.Tensor

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return _linear(h, self.Wt, self.b)

    def backward(self, g: torch.Tensor, h: torch.Tensor, need_input: bool = True):
        return _linear_backward(g, h, self.W, self.gW, self.gb, need_input)


@dataclass(frozen=True)
class _Block:
    """A hidden block (Linear -> ReLU -> BatchNorm1d) of every member."""

    linear: _Linear
    gamma: torch.Tensor
    beta: torch.Tensor
    g_gamma: torch.Tensor
    g_beta: torch.Tensor
    running_mean: torch.Tensor  # (K * width,)
    running_var: torch.Tensor

    def forward(self, h: torch.Tensor, tape: list) -> torch.Tensor:
        r = self.linear.forward(h).relu_()
        # reshape(-1) is a view for one member and a small copy for a pack.
        gamma = self.gamma.reshape(-1)
        out, s_mean, s_invstd = _native_bn(
            r,
            gamma,
            self.beta.reshape(-1),
            self.running_mean,
            self.running_var,
            True,
            BN_MOMENTUM,
            BN_EPS,
        )
        tape.append((self, h, r, s_mean, s_invstd, gamma))
        return out

    @staticmethod
    def backward_all(g: torch.Tensor, tape: list, need_first_input: bool = True):
        """Back through the taped blocks, last first; returns the first block's input grad."""
        for j in range(len(tape) - 1, -1, -1):
            blk, h_in, r, s_mean, s_invstd, gamma = tape[j]
            gr, g_gamma, g_beta = _native_bn_backward(
                g,
                r,
                gamma,
                blk.running_mean,
                blk.running_var,
                s_mean,
                s_invstd,
                True,
                BN_EPS,
                [True, True, True],
            )
            blk.g_gamma.copy_(g_gamma.view_as(blk.g_gamma))
            blk.g_beta.copy_(g_beta.view_as(blk.g_beta))
            ga = _relu_backward(gr, r, 0)
            g = blk.linear.backward(ga, h_in, need_first_input or j > 0)
        return g


@dataclass
class StepInputs:
    """One batch for every member, side by side: row b of member k is column block k."""

    x: torch.Tensor  # (B, K*D) scaled inputs (the reconstruction target)
    eps: torch.Tensor  # (B, K*L) standard normal noise for the reparameterisation
    mask: torch.Tensor | None = None  # (B, K*D) float 1.0 where an input entry is masked
    labels: torch.Tensor | None = None  # (B, K) int64, -1 = unlabelled
    dropout: torch.Tensor | None = None  # (B, K*H) float keep-mask scaled by 1/(1-p)


@dataclass
class StepWeights:
    """Per-step loss weights (floats, the same for every member)."""

    beta: float
    alpha: float
    reduction: str  # "sum" or "mean"
    mask_weight: float = 0.0


class ModelStack:
    """K members of one architecture, in one flat parameter matrix with Adam state."""

    def __init__(self, models: list[VAE], device: torch.device | str = "cpu"):
        if not models:
            raise ValueError("a stack needs at least one model")
        first = models[0]
        self.device = torch.device(device)
        self.kind = first.kind
        self.arch = {
            "input_dim": first.input_dim,
            "latent_dim": first.latent_dim,
            "hidden_dims": list(first.hidden_dims),
            "n_classes": getattr(first, "n_classes", None),
        }
        self.layout, self.norms = build_layout(first)
        self.k = len(models)
        self.theta = torch.zeros(self.k, self.layout.n_params, device=self.device)
        self.running = {}
        for role, _prefix, width in self.norms:
            self.running[role] = (
                torch.empty(self.k * width, device=self.device),
                torch.empty(self.k * width, device=self.device),
            )
        for k, model in enumerate(models):
            if model.kind != self.kind or build_layout(model)[0].params != self.layout.params:
                raise ValueError("all members of a stack must have the same architecture")
            self._load_member(k, model.state_dict())
        self.p = self.layout.views(self.theta)
        self.grad = torch.zeros_like(self.theta)
        self.g = self.layout.views(self.grad)
        self._make_layers()
        self.exp_avg = torch.zeros_like(self.theta)
        self.exp_avg_sq = torch.zeros_like(self.theta)
        self.steps = 0
        self._adam_step = torch.zeros((), device=self.device)  # Adam's t, as a tensor
        self.dropout_p = (
            first.classifier[2].p if isinstance(first, SemiSupervisedVAE) else CLASSIFIER_DROPOUT
        )

    # -- conversion to and from nn.Module state dicts ---------------------------------
    def _load_member(self, k: int, state: dict[str, torch.Tensor]) -> None:
        for p in self.layout.params:
            block = self.theta[k, p.offset : p.offset + p.size].view(p.shape)
            for name, lo, hi in p.pieces:
                block[lo:hi].copy_(state[name])
        for role, prefix, width in self.norms:
            mean, var = self.running[role]
            mean[k * width : (k + 1) * width].copy_(state[f"{prefix}.running_mean"])
            var[k * width : (k + 1) * width].copy_(state[f"{prefix}.running_var"])

    def to_module(self, k: int) -> VAE:
        """Member k as an ``nn.Module`` on the CPU, in eval mode, with its batch-norm state."""
        flat = self.theta[k].detach().cpu()
        values: dict[str, torch.Tensor] = {}
        for p in self.layout.params:
            block = flat[p.offset : p.offset + p.size].view(p.shape)
            for name, lo, hi in p.pieces:
                values[name] = block[lo:hi].clone()
        for role, prefix, width in self.norms:
            mean, var = self.running[role]
            values[f"{prefix}.running_mean"] = mean[k * width : (k + 1) * width].cpu().clone()
            values[f"{prefix}.running_var"] = var[k * width : (k + 1) * width].cpu().clone()
            values[f"{prefix}.num_batches_tracked"] = torch.tensor(self.steps)
        model = build_model(self.kind, **self.arch)
        model.load_state_dict(values)
        return model.eval()

    # -- one training step -------------------------------------------------------------
    def _linear_layer(self, role: str) -> _Linear:
        W = self.p[f"{role}.W"]
        return _Linear(
            W, W.transpose(-1, -2), self.p[f"{role}.b"], self.g[f"{role}.W"], self.g[f"{role}.b"]
        )

    def _make_layers(self) -> None:
        """Views of every layer's parameters and gradients, built once.

        The views stay valid because parameters and gradients are only ever updated in
        place, so a step does no lookups and no gathering of gradients.
        """
        self.blocks: dict[str, list[_Block]] = {"enc": [], "dec": []}
        for role, _prefix, _width in self.norms:
            mean, var = self.running[role]
            self.blocks[role[:3]].append(
                _Block(
                    self._linear_layer(role),
                    self.p[f"{role}.gamma"],
                    self.p[f"{role}.beta"],
                    self.g[f"{role}.gamma"],
                    self.g[f"{role}.beta"],
                    mean,
                    var,
                )
            )
        self.latent = self._linear_layer("latent")
        self.out = self._linear_layer("out")
        self.head = (
            (self._linear_layer("cls0"), self._linear_layer("cls1")) if "cls0.W" in self.p else None
        )

    def forward_backward(self, batch: StepInputs, w: StepWeights):
        """Loss parts per member, and the gradient into ``self.grad`` (K, P), for one batch.

        Returns ``parts``: loss / recon / kl / masked / class, each a (K,) tensor reduced
        as the recipe reduces it; ``loss`` is the objective the gradient belongs to.
        """
        k = self.k
        n = batch.x.shape[0]
        d_in, lat = self.arch["input_dim"], self.arch["latent_dim"]

        # ---- forward
        x_in = batch.x if batch.mask is None else batch.x * (1.0 - batch.mask)
        enc_tape: list = []
        h = x_in
        for blk in self.blocks["enc"]:
            h = blk.forward(h, enc_tape)
        ml = self.latent.forward(h).view(n, k, 2 * lat)
        mu, logvar = ml[:, :, :lat], ml[:, :, lat:]
        std = logvar.mul(0.5).exp_()
        var = std * std
        eps = batch.eps.view(n, k, lat)
        z = torch.addcmul(mu, eps, std).view(n, k * lat)
        dec_tape: list = []
        hd = z
        for blk in self.blocks["dec"]:
            hd = blk.forward(hd, dec_tape)
        diff = self.out.forward(hd).sub_(batch.x)

        # ---- loss parts per member, and d loss / d reconstruction
        sq = (diff * diff).view(n, k, d_in)
        # KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar))
        kl = (logvar - var).sub_(mu * mu).sum((0, 2)).add_(n * lat).mul_(-0.5)
        recon = sq.sum((0, 2))
        if w.reduction == "mean":
            recon, kl = recon / (n * d_in), kl / (n * lat)
            g_out = diff * (2.0 / (n * d_in))
            kl_scale = w.beta / (n * lat)
        else:
            g_out = diff * 2.0
            kl_scale = w.beta
        parts = {"recon": recon, "kl": kl}
        loss = recon + w.beta * kl
        if batch.mask is not None:
            m3 = batch.mask.view(n, k, d_in)
            n_masked = m3.sum((0, 2)).clamp_(min=1.0)
            parts["masked"] = (sq * m3).sum((0, 2)) / n_masked
            loss = loss + w.mask_weight * parts["masked"]
            coef = (2.0 * w.mask_weight / n_masked).view(1, k, 1)
            g_out = g_out.view(n, k, d_in).addcmul_(m3 * diff.view(n, k, d_in), coef)
            g_out = g_out.view(n, k * d_in)

        # ---- backward through the decoder
        gz = _Block.backward_all(self.out.backward(g_out, hd), dec_tape)

        # ---- classifier head on z (semi-supervised)
        if self.head is not None:
            cls0, cls1 = self.head
            c_act = cls0.forward(z).relu_()
            c_drop = c_act * batch.dropout
            n_cls = self.arch["n_classes"]
            logp = torch.log_softmax(cls1.forward(c_drop).view(n, k, n_cls), dim=2)
            labels = batch.labels
            labelled = (labels >= 0).to(logp.dtype)
            n_lab = labelled.sum(0).clamp_(min=1.0)
            safe = labels.clamp(min=0).unsqueeze(2)
            nll = logp.gather(2, safe).squeeze(2).neg_().mul_(labelled)
            parts["class"] = nll.sum(0) / n_lab
            loss = loss + w.alpha * parts["class"]
            # d CE / d logits = (softmax - onehot) / n_labelled, on labelled rows only.
            # gather + scatter_ (not scatter_add_) stays deterministic on CUDA.
            g_logits = logp.exp_()
            g_logits.scatter_(2, safe, g_logits.gather(2, safe) - 1.0)
            g_logits.mul_((labelled * (w.alpha / n_lab)).unsqueeze(2))
            g_drop = cls1.backward(g_logits.view(n, k * n_cls), c_drop)
            g_act = _relu_backward(g_drop.mul_(batch.dropout), c_act, 0)
            gz = gz + cls0.backward(g_act, z)
        parts["loss"] = loss

        # ---- through the reparameterisation (z = mu + eps * std) and the KL term
        gz = gz.view(n, k, lat)
        g_mu = torch.add(gz, mu, alpha=kl_scale)
        g_logvar = (gz * eps).mul_(std).add_(var, alpha=kl_scale).sub_(kl_scale).mul_(0.5)
        g_ml = torch.cat([g_mu, g_logvar], dim=2).view(n, k * 2 * lat)
        _Block.backward_all(self.latent.backward(g_ml, h), enc_tape, need_first_input=False)
        return parts

    def apply_gradient(self, lrs: list[float], clip: float | None):
        """Clip each member's gradient to a global L2 norm (optional), then one Adam step.

        ``lrs`` holds one learning rate per member. Returns the per-member gradient
        norms before clipping, or None without clipping.
        """
        grad = self.grad
        norms = None
        if clip is not None:
            norms = torch.linalg.vector_norm(grad, dim=1, keepdim=True)
            grad.mul_((clip / (norms + CLIP_EPS)).clamp_(max=1.0))
        self.steps += 1
        self._adam_step.fill_(self.steps)  # the fused kernel reads t but does not advance it
        b1, b2 = ADAM_BETAS
        # The kernel behind torch.optim.Adam(fused=True): one call updates every
        # parameter of every member that shares a learning rate.
        for lr in dict.fromkeys(lrs):
            rows = [j for j, v in enumerate(lrs) if v == lr]
            torch._fused_adam_(
                [self.theta[j] for j in rows],
                [grad[j] for j in rows],
                [self.exp_avg[j] for j in rows],
                [self.exp_avg_sq[j] for j in rows],
                [],
                [self._adam_step] * len(rows),
                lr=lr,
                beta1=b1,
                beta2=b2,
                weight_decay=0.0,
                eps=ADAM_EPS,
                amsgrad=False,
                maximize=False,
            )
        return None if norms is None else norms.squeeze(1)
