"""The training engine: a stack of K identical networks stepped together, by hand.

Why by hand: these networks are tiny (6 -> 64 -> 32 -> 10), so a training step is
dominated by per-operation overhead and memory traffic, not arithmetic. Autograd,
``nn.Module`` calls, ``DataLoader`` collation and a per-parameter optimiser each add
their own layer of overhead. The engine keeps every parameter of every member in one
flat ``(K, P)`` matrix, writes the forward and backward passes of the documented
layers with a few fused PyTorch kernels (``bmm``, ``native_batch_norm_backward``,
``threshold_backward``), and runs Adam on the whole matrix at once. The gradients are
the ones autograd would compute for the same ``nn.Module`` (a test checks this for
every model and recipe), so a member trained here is the same model the
specification's loop would train.

Two layouts, one set of layer objects:

- one member (K = 1): activations ``(batch, width)``, as ``nn.Module`` has them.
  Every kernel is the one autograd runs for the module (``addmm``, the native batch
  norm), so a single model's gradients match autograd's to the last rounding;
- a pack (K > 1): activations are *feature-major*, ``(K, width, batch)``: member k's
  activation matrix is the contiguous block ``[k]``, transposed. A linear layer is
  one ``bmm(W, h)`` over members with the weights as stored (``(K, out, in)``) and no
  transposes or copies of activations, forward or backward. Batch-norm statistics
  are reductions along the contiguous last axis (``K * width`` channels of ``batch``
  values), computed by hand (mean, then the norm of the centred values: two passes,
  as stable as the native kernel, which is slow on this layout); the backward is one
  ``native_batch_norm_backward`` on the ``(1, K * width, batch)`` view, and running
  statistics of every layer live in one buffer, updated with one ``lerp_`` per step.

A member's arithmetic does not depend on the other members of its pack (each
member's products and reductions are its own), so a member trains to the same
numbers in any pack of two or more; alone it differs from that only by rounding
(the two layouts accumulate sums in different orders).
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
        """Per-role views ``(K, *shape)`` of a ``(K, P)`` matrix (K = 1 included)."""
        k = theta.shape[0]
        return {
            p.role: theta[:, p.offset : p.offset + p.size].view(k, *p.shape) for p in self.params
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


# --- the layers, for K members -------------------------------------------------------
#
# A 2-D activation is one member's (batch, width); a 3-D one is a pack's
# (K, width, batch). The layers look at the activation to pick the kernels.


@dataclass(frozen=True)
class _Linear:
    """A linear layer of every member: weight and bias views, and their gradient views.

    ``W`` is ``(K, out, in)`` as stored. For a pack the forward product is
    ``W @ h`` and the backward ones use transposed *views* (BLAS reads them as
    transposed operands; nothing is copied). One member takes ``addmm``/``mm`` on
    2-D views, as ``nn.Linear`` does.
    """

    W: torch.Tensor  # (K, o, i)
    b: torch.Tensor  # (K, o)
    gW: torch.Tensor  # views of the stack's flat gradient matrix
    gb: torch.Tensor

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, i) -> (B, o) for one member; (K, i, B) -> (K, o, B) for a pack."""
        if h.dim() == 2:
            return torch.addmm(self.b[0], h, self.W[0].t())
        return torch.bmm(self.W, h).add_(self.b.unsqueeze(2))

    def backward(self, g: torch.Tensor, h: torch.Tensor, need_input: bool = True):
        """Gradients into ``gW``, ``gb`` (written in place); returns the input's."""
        if g.dim() == 2:
            torch.mm(g.t(), h, out=self.gW[0])
            torch.sum(g, 0, out=self.gb[0])
            return torch.mm(g, self.W[0]) if need_input else None
        torch.bmm(g, h.transpose(1, 2), out=self.gW)
        torch.sum(g, 2, out=self.gb)
        return torch.bmm(self.W.transpose(1, 2), g) if need_input else None


@dataclass(frozen=True)
class _Block:
    """A hidden block (Linear -> ReLU -> BatchNorm1d) of every member."""

    linear: _Linear
    gamma: torch.Tensor  # (K, o)
    beta: torch.Tensor
    g_gamma: torch.Tensor
    g_beta: torch.Tensor
    running_mean: torch.Tensor  # (K * o,) views of the stack's running statistics
    running_var: torch.Tensor
    batch_mean: torch.Tensor  # (K * o,) slots for this step's statistics (packs)
    batch_norm: torch.Tensor  # (K * o,) L2 norm of the centred activations (packs)

    def forward(self, h: torch.Tensor, tape: list) -> torch.Tensor:
        r = self.linear.forward(h).relu_()
        if r.dim() == 2:  # one member: the native kernel, which also updates running stats
            out, mean, invstd = _native_bn(
                r,
                self.gamma[0],
                self.beta[0],
                self.running_mean,
                self.running_var,
                True,
                BN_MOMENTUM,
                BN_EPS,
            )
            tape.append((self, h, r, mean, invstd))
            return out
        k, o, n = r.shape
        flat = r.view(k * o, n)
        mean = torch.mean(flat, 1, out=self.batch_mean)
        centred = flat - mean.unsqueeze(1)
        norm = torch.linalg.vector_norm(centred, dim=1, out=self.batch_norm)
        # invstd = 1 / sqrt(biased variance + eps), variance = |centred|^2 / n
        invstd = torch.addcmul(_eps_like(norm), norm, norm, value=1.0 / n).rsqrt_()
        scale = invstd.view(k, o).mul(self.gamma)
        out = centred.view(k, o, n).mul_(scale.unsqueeze(2)).add_(self.beta.unsqueeze(2))
        tape.append((self, h, r, mean, invstd))
        return out

    @staticmethod
    def backward_all(g: torch.Tensor, tape: list, need_first_input: bool = True):
        """Back through the taped blocks, last first; returns the first block's input grad."""
        for j in range(len(tape) - 1, -1, -1):
            blk, h_in, r, mean, invstd = tape[j]
            if r.dim() == 2:
                r_bn, g_bn, gamma = r, g, blk.gamma[0]
            else:
                k, o, n = r.shape
                r_bn, g_bn = r.view(1, k * o, n), g.view(1, k * o, n)
                gamma = blk.gamma.reshape(-1)  # a small copy (rows of theta are strided)
            gr, g_gamma, g_beta = _native_bn_backward(
                g_bn,
                r_bn,
                gamma,
                blk.running_mean,
                blk.running_var,
                mean,
                invstd,
                True,
                BN_EPS,
                [True, True, True],
            )
            blk.g_gamma.copy_(g_gamma.view_as(blk.g_gamma))
            blk.g_beta.copy_(g_beta.view_as(blk.g_beta))
            ga = _relu_backward(gr, r_bn, 0).view_as(r)
            g = blk.linear.backward(ga, h_in, need_first_input or j > 0)
        return g


_EPS_TENSORS: dict[tuple, torch.Tensor] = {}


def _eps_like(t: torch.Tensor) -> torch.Tensor:
    """BN_EPS as a 0-d tensor on ``t``'s device (cached: no allocation per step)."""
    key = (t.device, t.dtype)
    eps = _EPS_TENSORS.get(key)
    if eps is None:
        eps = _EPS_TENSORS[key] = torch.tensor(BN_EPS, device=t.device, dtype=t.dtype)
    return eps


@dataclass
class StepInputs:
    """One batch for every member.

    Side by side (the classic layout, any K): ``x`` ``(B, K*D)`` (row b of member k
    is column block k), ``eps`` ``(B, K*L)``, ``mask`` ``(B, K*D)``, ``dropout``
    ``(B, K*H)``, ``labels`` ``(B, K)``. Or feature-major (what a pack computes on;
    the trainer builds it directly for K > 1): ``x`` and ``mask`` ``(K, D, B)``,
    ``eps`` ``(K, L, B)``, ``dropout`` ``(K, H, B)``, ``labels`` ``(K, B)``. The
    engine converts whichever it is given to the layout it computes on.

    ``mask`` is float 1.0 where an input entry is masked; ``labels`` are int64 with
    -1 = unlabelled; ``dropout`` is the keep-mask scaled by 1/(1-p).
    """

    x: torch.Tensor
    eps: torch.Tensor
    mask: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    dropout: torch.Tensor | None = None

    def for_stack(self, k: int) -> StepInputs:
        """This batch in the layout a stack of ``k`` computes on."""
        feature_major = self.x.dim() == 3
        if (k > 1) == feature_major:
            return self
        if k == 1:  # (1, w, B) -> (B, w)

            def conv(t):
                return None if t is None else t[0].t()

            labels = None if self.labels is None else self.labels.t()
        else:  # (B, K*w) -> (K, w, B)

            def conv(t):
                return (
                    None if t is None else t.view(t.shape[0], k, -1).permute(1, 2, 0).contiguous()
                )

            labels = None if self.labels is None else self.labels.t().contiguous()
        return StepInputs(conv(self.x), conv(self.eps), conv(self.mask), labels, conv(self.dropout))


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
        #: Whether steps compute on the feature-major (K, width, batch) layout (packs).
        self.feature_major = self.k > 1
        self.theta = torch.zeros(self.k, self.layout.n_params, device=self.device)
        # Batch-norm state of every layer in one buffer each, so that one lerp_ per
        # step updates all running statistics of a pack: rows are (running mean,
        # running var) and (this step's mean, this step's norm of centred activations).
        total = self.k * sum(width for _role, _prefix, width in self.norms)
        self._running = torch.empty(2, total, device=self.device)
        self._batch_stats = torch.zeros(2, total, device=self.device)
        self.running: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._stat_slots: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        offset = 0
        for role, _prefix, width in self.norms:
            span = slice(offset, offset + self.k * width)
            self.running[role] = (self._running[0, span], self._running[1, span])
            self._stat_slots[role] = (self._batch_stats[0, span], self._batch_stats[1, span])
            offset += self.k * width
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
        #: Width of the classifier's hidden layer (the dropout mask's), 0 without a head.
        self.head_width = first.classifier[0].out_features if self.head is not None else 0

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
        p, g = self.p, self.g
        return _Linear(p[f"{role}.W"], p[f"{role}.b"], g[f"{role}.W"], g[f"{role}.b"])

    def _make_layers(self) -> None:
        """Views of every layer's parameters and gradients, built once.

        The views stay valid because parameters and gradients are only ever updated in
        place, so a step does no lookups and no gathering of gradients.
        """
        self.blocks: dict[str, list[_Block]] = {"enc": [], "dec": []}
        for role, _prefix, _width in self.norms:
            self.blocks[role[:3]].append(
                _Block(
                    self._linear_layer(role),
                    self.p[f"{role}.gamma"],
                    self.p[f"{role}.beta"],
                    self.g[f"{role}.gamma"],
                    self.g[f"{role}.beta"],
                    *self.running[role],
                    *self._stat_slots[role],
                )
            )
        self.latent = self._linear_layer("latent")
        self.out = self._linear_layer("out")
        self.head = (
            (self._linear_layer("cls0"), self._linear_layer("cls1")) if "cls0.W" in self.p else None
        )

    def _update_running_stats(self, n: int) -> None:
        """nn.BatchNorm1d's update for every layer of a pack at once: a lerp towards the
        batch statistics, with the unbiased batch variance |centred|^2 / (n - 1)."""
        mean, norm = self._batch_stats[0], self._batch_stats[1]
        self._running[0].lerp_(mean, BN_MOMENTUM)
        self._running[1].lerp_(norm.square().div_(max(n - 1, 1)), BN_MOMENTUM)

    def forward_backward(self, batch: StepInputs, w: StepWeights):
        """Loss parts per member, and the gradient into ``self.grad`` (K, P), for one batch.

        Returns ``parts``: loss / recon / kl / masked / class, each a (K,) tensor reduced
        as the recipe reduces it; ``loss`` is the objective the gradient belongs to.
        """
        batch = batch.for_stack(self.k)
        fm = self.feature_major
        x = batch.x
        n = x.shape[2] if fm else x.shape[0]
        d_in, lat = self.arch["input_dim"], self.arch["latent_dim"]

        def per_member(t: torch.Tensor) -> torch.Tensor:
            """Sum over rows and features: (K,)."""
            return t.sum((1, 2)) if fm else t.sum().view(1)

        # ---- forward (feature axis is dim 1 in both layouts)
        x_in = x if batch.mask is None else torch.addcmul(x, x, batch.mask, value=-1.0)
        enc_tape: list = []
        h = x_in
        for blk in self.blocks["enc"]:
            h = blk.forward(h, enc_tape)
        ml = self.latent.forward(h)  # mu features, then logvar features
        mu, logvar = ml[:, :lat], ml[:, lat:]
        std = logvar.mul(0.5).exp_()
        var = std * std
        eps = batch.eps
        z = torch.addcmul(mu, eps, std)
        dec_tape: list = []
        hd = z
        for blk in self.blocks["dec"]:
            hd = blk.forward(hd, dec_tape)
        diff = self.out.forward(hd).sub_(x)
        if fm:
            self._update_running_stats(n)

        # ---- loss parts per member, and d loss / d reconstruction
        sq = diff * diff
        # KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar))
        kl = per_member((logvar - var).sub_(mu * mu)).add_(n * lat).mul_(-0.5)
        recon = per_member(sq)
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
            m = batch.mask
            n_masked = per_member(m).clamp_(min=1.0)
            parts["masked"] = per_member(sq * m) / n_masked
            loss = loss + w.mask_weight * parts["masked"]
            coef = 2.0 * w.mask_weight / n_masked
            g_out.addcmul_(m * diff, coef.view(-1, 1, 1) if fm else coef)

        # ---- backward through the decoder
        gz = _Block.backward_all(self.out.backward(g_out, hd), dec_tape)

        # ---- classifier head on z (semi-supervised); logits are (K, B, classes)
        if self.head is not None:
            cls0, cls1 = self.head
            c_act = cls0.forward(z).relu_()
            c_drop = c_act * batch.dropout
            if fm:
                logits = torch.bmm(c_drop.transpose(1, 2), cls1.W.transpose(1, 2))
                logits.add_(cls1.b.unsqueeze(1))
                labels = batch.labels  # (K, B)
            else:
                logits = cls1.forward(c_drop).unsqueeze(0)
                labels = batch.labels.view(1, -1)
            logp = torch.log_softmax(logits, dim=2)
            labelled = (labels >= 0).to(logp.dtype)
            n_lab = labelled.sum(1).clamp_(min=1.0)
            safe = labels.clamp(min=0).unsqueeze(2)
            nll = logp.gather(2, safe).squeeze(2).neg_().mul_(labelled)
            parts["class"] = nll.sum(1) / n_lab
            loss = loss + w.alpha * parts["class"]
            # d CE / d logits = (softmax - onehot) / n_labelled, on labelled rows only.
            # gather + scatter_ (not scatter_add_) stays deterministic on CUDA.
            g_logits = logp.exp_()
            g_logits.scatter_(2, safe, g_logits.gather(2, safe) - 1.0)
            g_logits.mul_((labelled * (w.alpha / n_lab).unsqueeze(1)).unsqueeze(2))
            g_logits = g_logits.transpose(1, 2) if fm else g_logits[0]  # the layer's layout
            g_drop = cls1.backward(g_logits, c_drop)
            g_act = _relu_backward(g_drop.mul_(batch.dropout), c_act, 0)
            gz = gz + cls0.backward(g_act, z)
        parts["loss"] = loss

        # ---- through the reparameterisation (z = mu + eps * std) and the KL term
        g_ml = torch.empty_like(ml)
        torch.add(gz, mu, alpha=kl_scale, out=g_ml[:, :lat])
        g_logvar = g_ml[:, lat:]
        torch.mul(gz, eps, out=g_logvar)
        g_logvar.mul_(std).add_(var, alpha=kl_scale).sub_(kl_scale).mul_(0.5)
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
        # parameter of every member that shares a learning rate (the whole matrix
        # when they all do).
        distinct = list(dict.fromkeys(lrs))
        for lr in distinct:
            if len(distinct) == 1:
                groups = ([self.theta], [grad], [self.exp_avg], [self.exp_avg_sq])
            else:
                rows = [j for j, v in enumerate(lrs) if v == lr]
                groups = tuple(
                    [t[j] for j in rows] for t in (self.theta, grad, self.exp_avg, self.exp_avg_sq)
                )
            torch._fused_adam_(
                *groups,
                [],
                [self._adam_step] * len(groups[0]),
                lr=lr,
                beta1=b1,
                beta2=b2,
                weight_decay=0.0,
                eps=ADAM_EPS,
                amsgrad=False,
                maximize=False,
            )
        return None if norms is None else norms.squeeze(1)
