"""The training engine: a stack of K identical networks stepped together, by hand.

Why by hand: these networks are tiny (6 -> 64 -> 32 -> 10), so a training step is
dominated by per-operation overhead and memory traffic, not arithmetic. Autograd,
``nn.Module`` calls, ``DataLoader`` collation and a per-parameter optimiser each add
their own layer of overhead. The engine keeps every parameter of every member in one
flat ``(K, P)`` matrix (:mod:`lilyvae.training.layout`), runs the forward and backward
passes of the documented layers feature-major (:mod:`lilyvae.training.layers`), and runs
Adam on the whole matrix at once (:mod:`lilyvae.training.adam`).

The maths is the networks' own: the gradients are those of
:meth:`lilyvae.model.networks.VAE.loss_function` (and the semi-supervised model's),
differentiated by autograd; a test checks every model and recipe against it, with the
fused CPU kernels and with the PyTorch operations a GPU runs. One layout serves every
device and pack size: batch norms run in the fused numba kernels on the CPU, in
PyTorch operations elsewhere. A member trains to the same bytes in a pack of any size
and at any position in it, alone included (see :mod:`lilyvae.training.layers`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lilyvae.model.networks import (
    CLASSIFIER_DROPOUT,
    VAE,
    SemiSupervisedVAE,
    architecture_of,
    build_model,
)
from lilyvae.training.adam import adam_step, clip_gradients
from lilyvae.training.layers import (
    BN_MOMENTUM,
    PAD,
    Block,
    BlockBuffers,
    Linear,
    backward_blocks,
    per_member,
    relu_backward,
)
from lilyvae.training.layout import build_layout, load_member, member_state


@dataclass
class StepInputs:
    """One batch for every member, feature-major.

    ``x`` and ``mask`` ``(K, D, B)``, ``eps`` ``(K, L, B)``, ``dropout`` ``(K, H, B)``,
    ``labels`` ``(K, B)``. ``mask`` is float 1.0 where an input entry is masked;
    ``labels`` are int64 with -1 = unlabelled; ``dropout`` is the keep-mask scaled by
    1/(1-p). ``observed`` ``(K, D, B)`` (models with missing-value indicators only) is
    1.0 where an input is present and 0.0 where it is missing; ``x`` then holds any
    finite value (0) at a missing entry.
    """

    x: torch.Tensor
    eps: torch.Tensor
    mask: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    dropout: torch.Tensor | None = None
    observed: torch.Tensor | None = None

    @classmethod
    def from_rows(
        cls, k: int, x, eps, mask=None, labels=None, dropout=None, observed=None
    ) -> StepInputs:
        """A batch given row-major, members side by side: ``x`` ``(B, K*D)`` (row b of
        member k is column block k), ``eps`` ``(B, K*L)``, ``mask`` and ``observed``
        ``(B, K*D)``, ``dropout`` ``(B, K*H)``, ``labels`` ``(B, K)``."""

        def fm(t):
            if t is None:
                return None
            return t.view(t.shape[0], k, -1).permute(1, 2, 0).contiguous()

        labels = None if labels is None else labels.t().contiguous()
        return cls(fm(x), fm(eps), fm(mask), labels, fm(dropout), fm(observed))


@dataclass
class StepWeights:
    """Per-step loss weights (floats, the same for every member)."""

    beta: float
    alpha: float
    reduction: str  # "sum" or "mean"
    mask_weight: float = 0.0
    class_reduction: str = "mean"  # the cross-entropy over labelled rows: "sum" or "mean"


class _Workspace:
    """Buffers for one batch size, reused every step."""

    def __init__(self, stack: ModelStack, n: int):
        k, device = stack.k, stack.device

        def buf(width: int) -> torch.Tensor:
            return torch.empty(k, width, n, device=device)

        enc = [blk.linear.W.shape[1:] for blk in stack.enc]  # (out, in) per block
        dec = [blk.linear.W.shape[1:] for blk in stack.dec]
        lat, d_in = stack.arch.latent_dim, stack.arch.input_dim
        self.enc = [BlockBuffers(k, o, n, device, stack.fused) for o, _ in enc]
        self.dec = [BlockBuffers(k, o, n, device, stack.fused) for o, _ in dec]
        # Input gradients of encoder blocks after the first (the first's is not needed).
        self.enc_grad_in: list = [None] + [buf(i) for _, i in enc[1:]]
        self.latent_grad_in = buf(stack.latent.W.shape[2])
        self.ml = buf(2 * lat)
        self.g_ml = buf(2 * lat)
        self.std = per_member(k, (lat, n), device)  # exp_ runs on it
        self.var = buf(lat)
        self.z = buf(lat)
        self.zT = self.z.transpose(1, 2)
        self.dec_grad_in = [buf(i) for _, i in dec]
        self.out_grad_in = buf(stack.out.W.shape[2])
        self.diff = buf(d_in)
        self.sq = buf(d_in)
        if stack.arch.missing_indicators:
            # The encoder's input: the inputs kept, then the missing-value indicators.
            self.enc_in = buf(2 * d_in)
            self.keep = buf(d_in)
            self.mask_observed = buf(d_in)
        if stack.head is not None:
            hidden, classes = stack.head[1].W.shape[2], stack.head[1].W.shape[1]
            self.head_act = buf(hidden)
            self.head_drop = buf(hidden)
            self.head_drop_grad = buf(hidden)
            self.head_z_grad = buf(lat)
            self.logits = buf(classes)
            self.softmax = per_member(k, (classes, n), device)  # exp runs on it


class ModelStack:
    """K members of one architecture, in one flat parameter matrix with Adam state.

    ``fused`` picks how batch norms run: the numba kernels (the default on the CPU;
    CPU only) or PyTorch operations (any device; the default elsewhere).
    """

    def __init__(self, models: list[VAE], device: torch.device | str = "cpu", fused=None):
        if not models:
            raise ValueError("a stack needs at least one model")
        first = models[0]
        self.device = torch.device(device)
        self.kind = first.kind
        self.arch = architecture_of(first)
        self.layout, self.norms = build_layout(first)
        self.k = len(models)
        on_cpu = self.device.type == "cpu"
        self.fused = on_cpu if fused is None else bool(fused)
        if self.fused and not on_cpu:
            raise ValueError("the fused batch-norm kernels run on the CPU only")
        self.theta, self._theta_flat = self._flat_matrix()
        self._make_norm_state()
        for k, model in enumerate(models):
            if model.kind != self.kind or build_layout(model)[0].params != self.layout.params:
                raise ValueError("all members of a stack must have the same architecture")
            load_member(self.layout, self.theta[k], self.running, self.norms, k, model.state_dict())
        self.p = self.layout.views(self.theta)
        self.grad, self._grad_flat = self._flat_matrix()
        self.g = self.layout.views(self.grad)
        self._make_layers()
        self.exp_avg, self._exp_avg_flat = self._flat_matrix()
        self.exp_avg_sq, self._exp_avg_sq_flat = self._flat_matrix()
        self.steps = 0
        self._adam_step = torch.zeros((), device=self.device)  # Adam's t, as a tensor
        semi = isinstance(first, SemiSupervisedVAE)
        self.dropout_p = first.classifier[2].p if semi else CLASSIFIER_DROPOUT
        #: Width of the classifier's hidden layer (the dropout mask's), 0 without a head.
        self.head_width = first.classifier[0].out_features if semi else 0
        self._workspaces: dict[int, _Workspace] = {}
        #: A :class:`~lilyvae.training.helper.StepHelper` that takes the step's work no
        #: later operation waits on (None: all on the calling thread; same bytes).
        self.helper = None

    def _flat_matrix(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A zero (K, P) matrix and the flat buffer it lives in, padded to a multiple
        of PAD floats (see :mod:`lilyvae.training.layers`)."""
        n = self.k * self.layout.n_params
        flat = torch.zeros(n + (-n % PAD), device=self.device)
        return flat[:n].view(self.k, self.layout.n_params), flat

    def _make_norm_state(self) -> None:
        """Batch-norm state of every layer in one buffer each, so that one lerp_ per
        step updates all running statistics of a pack: rows are (running mean, running
        var) and (this step's mean, this step's norm of centred activations)."""
        total = self.k * sum(norm.width for norm in self.norms)
        padded = total + (-total % PAD)
        self._running = torch.zeros(2, padded, device=self.device)
        self._batch_stats = torch.zeros(2, padded, device=self.device)
        self.running: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self._stat_slots: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        offset = 0
        for norm in self.norms:
            span = slice(offset, offset + self.k * norm.width)
            self.running[norm.role] = (self._running[0, span], self._running[1, span])
            self._stat_slots[norm.role] = (self._batch_stats[0, span], self._batch_stats[1, span])
            offset += self.k * norm.width

    def to_module(self, k: int) -> VAE:
        """Member k as an ``nn.Module`` on the CPU, in eval mode, with its batch-norm state."""
        state = member_state(self.layout, self.theta[k], self.running, self.norms, k, self.steps)
        # Building a module draws its (discarded) initial weights from PyTorch's global
        # stream: fork it, so that copying a member (each epoch, with early stopping)
        # leaves the caller's random state as it was.
        with torch.random.fork_rng(devices=[]):
            model = build_model(self.kind, self.arch)
        model.load_state_dict(state)
        return model.eval()

    def _make_layers(self) -> None:
        """Views of every layer's parameters and gradients, built once.

        The views stay valid because parameters and gradients are only ever updated in
        place, so a step does no lookups and no gathering of gradients.
        """
        p, g = self.p, self.g

        def linear(role: str) -> Linear:
            return Linear.of(p[f"{role}.W"], p[f"{role}.b"], g[f"{role}.W"], g[f"{role}.b"])

        self.enc: list[Block] = []
        self.dec: list[Block] = []
        for norm in self.norms:
            role = norm.role
            (self.enc if role.startswith("enc") else self.dec).append(
                Block.of(
                    linear(role),
                    p[f"{role}.gamma"],
                    p[f"{role}.beta"],
                    g[f"{role}.gamma"],
                    g[f"{role}.beta"],
                    *self.running[role],
                    *self._stat_slots[role],
                    self.fused,
                )
            )
        self.latent = linear("latent")
        self.out = linear("out")
        self.head = (linear("cls0"), linear("cls1")) if "cls0.W" in p else None

    def _update_running_stats(self, n: int) -> None:
        """nn.BatchNorm1d's update for every layer of a pack at once: a lerp towards the
        batch statistics, with the unbiased batch variance |centred|^2 / (n - 1)."""
        mean, norm = self._batch_stats[0], self._batch_stats[1]
        self._running[0].lerp_(mean, BN_MOMENTUM)
        self._running[1].lerp_(norm.square().div_(max(n - 1, 1)), BN_MOMENTUM)

    def _workspace(self, n: int) -> _Workspace:
        ws = self._workspaces.get(n)
        if ws is None:
            # Full batches and the last, shorter one: at most two sizes per run.
            if len(self._workspaces) >= 4:
                self._workspaces.clear()
            ws = self._workspaces[n] = _Workspace(self, n)
        return ws

    # -- one training step -------------------------------------------------------------
    def forward_backward(self, batch: StepInputs, w: StepWeights) -> dict[str, torch.Tensor]:
        """Loss parts per member, and the gradient into ``self.grad`` (K, P), for one batch.

        Returns ``parts``: loss / recon / kl / masked / class, each a (K,) tensor reduced
        as the recipe reduces it; ``loss`` is the objective the gradient belongs to.
        """
        x = batch.x
        n = x.shape[2]
        lat = self.arch.latent_dim
        ws = self._workspace(n)
        observed, mask = batch.observed, batch.mask
        if self.arch.missing_indicators:
            x_in, mask = _indicator_input(x, observed, mask, ws)
        else:
            x_in = x if mask is None else torch.addcmul(x, x, mask, value=-1.0)
        enc_tape: list = []
        h, hT = x_in, x_in.transpose(1, 2)
        for blk, buf in zip(self.enc, ws.enc, strict=True):
            h = blk.forward(h, hT, buf, enc_tape)
            hT = buf.outT
        ml = self.latent.forward(h, ws.ml)  # mu features, then logvar features
        mu, logvar = ml[:, :lat], ml[:, lat:]
        std = torch.mul(logvar, 0.5, out=ws.std).exp_()
        var = torch.mul(std, std, out=ws.var)
        z = torch.addcmul(mu, batch.eps, std, out=ws.z)
        helper, head = self.helper, {}
        head_job = None
        if self.head is not None:  # its branch is independent of the decoder's until gz
            if helper is None:
                self._head_step(head, z, ws, batch, w)
            else:
                head_job = helper.submit(self._head_step, head, z, ws, batch, w)
        dec_tape: list = []
        hd, hdT = z, ws.zT
        for blk, buf in zip(self.dec, ws.dec, strict=True):
            hd = blk.forward(hd, hdT, buf, dec_tape)
            hdT = buf.outT
        diff = self.out.forward(hd, ws.diff).sub_(x)
        if observed is not None:
            diff.mul_(observed)  # missing entries count in no term and send no gradient
        self._update_running_stats(n)
        sq = torch.mul(diff, diff, out=ws.sq)
        parts, loss, g_out, kl_scale = _reconstruction_and_kl(
            diff, sq, mu, logvar, var, mask, w, n, observed
        )
        g_hd = self.out.backward(g_out, hd, hdT, ws.out_grad_in, helper)
        gz = backward_blocks(g_hd, dec_tape, ws.dec_grad_in, helper)
        if self.head is not None:
            if head_job is not None:
                helper.wait(head_job)
            parts["class"] = head["class"]
            loss = loss + w.alpha * parts["class"]
            gz = gz + head["g_z"]
        parts["loss"] = loss
        g_ml = _latent_grad(ws.g_ml, gz, mu, batch.eps, std, var, kl_scale)
        g_h = self.latent.backward(g_ml, h, hT, ws.latent_grad_in, helper)
        backward_blocks(g_h, enc_tape, ws.enc_grad_in, helper)
        if helper is not None:
            helper.wait()  # every parameter gradient is in place
        return parts

    def _head_step(self, into: dict, z, ws: _Workspace, batch: StepInputs, w: StepWeights):
        """The classifier head on the sampled code, feature-major like the rest: its
        cross-entropy per member (``into["class"]``), its parameter gradients, and the
        gradient it sends back to ``z`` (``into["g_z"]``)."""
        cls0, cls1 = self.head
        c_act = cls0.forward(z, ws.head_act).relu_()
        c_drop = torch.mul(c_act, batch.dropout, out=ws.head_drop)
        logits = cls1.forward(c_drop, ws.logits)  # (K, classes, B)
        into["class"], g_logits = _class_loss(logits, batch.labels, w, ws.softmax)
        g_drop = cls1.backward(g_logits, c_drop, c_drop.transpose(1, 2), ws.head_drop_grad)
        g_act = relu_backward(g_drop.mul_(batch.dropout), c_act, 0)
        into["g_z"] = cls0.backward(g_act, z, ws.zT, ws.head_z_grad)

    def apply_gradient(self, lrs: list[float], clip: float | None):
        """Clip each member's gradient to a global L2 norm (optional), then one Adam step.

        ``lrs`` holds one learning rate per member. Returns the per-member gradient
        norms before clipping, or None without clipping.
        """
        norms = None if clip is None else clip_gradients(self.grad, clip)
        self.steps += 1
        self._adam_step.fill_(self.steps)  # the fused kernel reads t but does not advance it
        flat = (self._theta_flat, self._grad_flat, self._exp_avg_flat, self._exp_avg_sq_flat)
        rows = (self.theta, self.grad, self.exp_avg, self.exp_avg_sq)
        adam_step(flat, rows, lrs, self._adam_step)
        return norms


def _indicator_input(x, observed, mask, ws: _Workspace):
    """The encoder's input of a model with missing-value indicators, ``(K, 2D, B)``:
    each input where it is present and not masked (else 0), then 1 where it is not
    (missing, or masked by the recipe: hidden either way). Also the recipe's mask
    restricted to observed entries (None without a mask): the masked term scores
    those only."""
    d_in = x.shape[1]
    if observed is None:  # every input present
        observed = torch.ones_like(x)
    keep = observed
    if mask is not None:
        keep = torch.addcmul(observed, observed, mask, value=-1.0, out=ws.keep)
        mask = torch.mul(mask, observed, out=ws.mask_observed)
    torch.mul(x, keep, out=ws.enc_in[:, :d_in])
    torch.neg(keep, out=ws.enc_in[:, d_in:]).add_(1.0)
    return ws.enc_in, mask


def _reconstruction_and_kl(diff, sq, mu, logvar, var, mask, w: StepWeights, n: int, observed=None):
    """Reconstruction, KL (and masked) parts per member, the total, the gradient of
    the loss with respect to the reconstruction, and the KL term's scale.

    With ``observed``, ``diff`` is already zero at missing entries, and a mean-reduced
    reconstruction term averages over each member's observed entries."""
    d_in, lat = diff.shape[1], mu.shape[1]

    def per_member_sum(t: torch.Tensor) -> torch.Tensor:
        """Sum over features and rows: (K,)."""
        return t.sum((1, 2))

    # KL = -0.5 * sum(1 + logvar - mu^2 - exp(logvar))
    kl = per_member_sum((logvar - var).sub_(mu * mu)).add_(n * lat).mul_(-0.5)
    recon = per_member_sum(sq)
    if w.reduction == "mean":
        if observed is None:
            recon, kl = recon / (n * d_in), kl / (n * lat)
            g_out = diff * (2.0 / (n * d_in))
        else:
            n_observed = per_member_sum(observed).clamp_(min=1.0)
            recon, kl = recon / n_observed, kl / (n * lat)
            g_out = diff * (2.0 / n_observed).view(-1, 1, 1)
        kl_scale = w.beta / (n * lat)
    else:
        g_out = diff * 2.0
        kl_scale = w.beta
    parts = {"recon": recon, "kl": kl}
    loss = recon + w.beta * kl
    if mask is not None:
        n_masked = per_member_sum(mask).clamp_(min=1.0)
        parts["masked"] = per_member_sum(sq * mask) / n_masked
        loss = loss + w.mask_weight * parts["masked"]
        coef = 2.0 * w.mask_weight / n_masked
        g_out.addcmul_(mask * diff, coef.view(-1, 1, 1))
    return parts, loss, g_out, kl_scale


def _class_loss(logits, labels, w: StepWeights, out: torch.Tensor):
    """Cross-entropy over labelled rows per member, summed or averaged as
    ``w.class_reduction`` says, and alpha * d CE / d logits (written into ``out``).

    ``logits`` (K, classes, B), ``labels`` (K, B) with -1 = unlabelled.
    """
    logp = torch.log_softmax(logits, dim=1)
    labelled = (labels >= 0).to(logp.dtype)
    safe = labels.clamp(min=0).unsqueeze(1)  # (K, 1, B)
    nll = logp.gather(1, safe).squeeze(1).neg_().mul_(labelled)
    value = nll.sum(1)
    # d CE / d logits = (softmax - onehot) [/ n_labelled], on labelled rows only.
    # gather + scatter_ (not scatter_add_) stays deterministic on CUDA.
    g_logits = torch.exp(logp, out=out)
    g_logits.scatter_(1, safe, g_logits.gather(1, safe) - 1.0)
    if w.class_reduction == "mean":
        n_lab = labelled.sum(1).clamp_(min=1.0)
        value = value / n_lab
        row_scale = labelled * (w.alpha / n_lab).unsqueeze(1)
    else:
        row_scale = labelled * w.alpha
    g_logits.mul_(row_scale.unsqueeze(1))
    return value, g_logits


def _latent_grad(g_ml, gz, mu, eps, std, var, kl_scale: float) -> torch.Tensor:
    """The gradient through z = mu + eps * std and the KL term, for (mu, logvar)
    side by side, into the buffer ``g_ml``."""
    lat = mu.shape[1]
    torch.add(gz, mu, alpha=kl_scale, out=g_ml[:, :lat])
    g_logvar = g_ml[:, lat:]
    torch.mul(gz, eps, out=g_logvar)
    g_logvar.mul_(std).add_(var, alpha=kl_scale).sub_(kl_scale).mul_(0.5)
    return g_ml
