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

Two layouts:

- one member, side by side (the default for K = 1 on a GPU, and what ``--compile``
  compiles): activations ``(batch, width)``, as ``nn.Module`` has them. Every kernel
  is the one autograd runs for the module (``addmm``, the native batch norm), so a
  single model's gradients match autograd's to the last rounding;
- feature-major (the default for a pack, K > 1, and for any K on the CPU):
  activations are ``(K, width, batch)``: member k's activation matrix is the
  contiguous block ``[k]``, transposed. A linear layer is one ``bmm(W, h)`` over
  members with the weights as stored (``(K, out, in)``) and no transposes or copies
  of activations, forward or backward. Batch-norm statistics are reductions along the
  contiguous last axis (``K * width`` channels of ``batch`` values), computed by hand
  (mean, then the norm of the centred values: two passes, as stable as the native
  kernel, which is slow on this layout); the backward is one
  ``native_batch_norm_backward`` on the ``(1, K * width, batch)`` view, and running
  statistics of every layer live in one buffer, updated with one ``lerp_`` per step.
  On the CPU a block's ReLU and batch norm run instead in two fused kernels
  (:mod:`lilyvae.train.kernels`: one pass forward, one backward, where PyTorch operations
  take eleven; a step of a pack of 8 takes about 25% less time, one member's 40% less).
  The wide activations and their gradients are written into buffers allocated once
  per batch size and reused every step, so a step allocates little.

In the feature-major layout a member's arithmetic does not depend on the other
members of its pack (each member's products and reductions are its own), so a member
trains to the same bytes in a pack of any size and at any position in it, alone
included; the side-by-side layout differs from it only by rounding (the two layouts
accumulate sums in different orders). One detail makes "same bytes" hold: PyTorch's
CPU kernels run flat element-wise loops in vector blocks and finish the last
``numel % block`` elements with scalar code, which rounds some functions (exp, rsqrt,
lerp, Adam's update) differently. So the feature-major stack pads its flat buffers
(parameters, Adam state, batch-norm statistics) to a multiple of :data:`PAD` floats,
and gives the tensors those functions run on a member stride that keeps each member's
loop its own (:func:`_per_member`). And a batch of one row makes every product a
matrix-vector product, for which BLAS picks a different kernel for one matrix than
for several: :func:`_bmm` computes those by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lilyvae.model.networks import CLASSIFIER_DROPOUT, VAE, SemiSupervisedVAE, build_model

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
CLIP_EPS = 1e-6  # as torch.nn.utils.clip_grad_norm_
#: Flat buffers of the feature-major layout are padded to a multiple of this many
#: floats (two AVX-512 vectors of 16, twice over): no real element falls in a kernel's
#: scalar tail, whatever the number of members.
PAD = 64

_native_bn = torch.ops.aten.native_batch_norm
_native_bn_backward = torch.ops.aten.native_batch_norm_backward
_relu_backward = torch.ops.aten.threshold_backward
_relu_backward_into = torch.ops.aten.threshold_backward.grad_input


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


# --- the layers ----------------------------------------------------------------------
#
# One member side by side: a 2-D activation (batch, width), the kernels autograd runs.
# Feature-major: a 3-D activation (K, width, batch), batched products into buffers.


@dataclass(frozen=True)
class _Linear:
    """A linear layer of one member in the side-by-side layout (``addmm``/``mm``, as
    ``nn.Linear``): weight and bias views, and their gradient views."""

    W: torch.Tensor  # (1, o, i)
    b: torch.Tensor  # (1, o)
    gW: torch.Tensor  # views of the stack's flat gradient matrix
    gb: torch.Tensor

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """(B, i) -> (B, o)."""
        return torch.addmm(self.b[0], h, self.W[0].t())

    def backward(self, g: torch.Tensor, h: torch.Tensor, need_input: bool = True):
        """Gradients into ``gW``, ``gb`` (written in place); returns the input's."""
        torch.mm(g.t(), h, out=self.gW[0])
        torch.sum(g, 0, out=self.gb[0])
        return torch.mm(g, self.W[0]) if need_input else None


@dataclass(frozen=True)
class _Block:
    """A hidden block (Linear -> ReLU -> BatchNorm1d) of one member, side by side."""

    linear: _Linear
    gamma: torch.Tensor  # (1, o)
    beta: torch.Tensor
    g_gamma: torch.Tensor
    g_beta: torch.Tensor
    running_mean: torch.Tensor  # (o,) views of the stack's running statistics
    running_var: torch.Tensor

    def forward(self, h: torch.Tensor, tape: list) -> torch.Tensor:
        r = self.linear.forward(h).relu_()
        # The native kernel, which also updates the running statistics.
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

    @staticmethod
    def backward_all(g: torch.Tensor, tape: list, need_first_input: bool = True):
        """Back through the taped blocks, last first; returns the first block's input grad."""
        for j in range(len(tape) - 1, -1, -1):
            blk, h_in, r, mean, invstd = tape[j]
            gr, g_gamma, g_beta = _native_bn_backward(
                g,
                r,
                blk.gamma[0],
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
            ga = _relu_backward(gr, r, 0)
            g = blk.linear.backward(ga, h_in, need_first_input or j > 0)
        return g


@dataclass(frozen=True)
class _FMLinear:
    """A linear layer of every member, feature-major: ``W @ h`` per member.

    ``W`` is ``(K, out, in)`` as stored; the backward products use transposed *views*
    (BLAS reads them as transposed operands).
    """

    W: torch.Tensor  # (K, o, i)
    b: torch.Tensor  # (K, o, 1): the bias as a column, broadcast over rows
    gW: torch.Tensor  # views of the stack's flat gradient matrix
    gb: torch.Tensor  # (K, o)
    Wt: torch.Tensor  # W.transpose(1, 2), a view
    gW_tmp: torch.Tensor  # contiguous (K, o, i), or (K, i, o) for narrow inputs

    @classmethod
    def of(cls, W, b, gW, gb) -> _FMLinear:
        k, o, i = W.shape
        # The weight gradient is a product into a contiguous buffer, then one copy into
        # the strided rows of the gradient matrix (faster than writing them directly);
        # for narrow inputs the product is faster the other way round.
        tmp = torch.empty((k, i, o) if i <= 16 else (k, o, i), device=W.device)
        return cls(W, b.unsqueeze(2), gW, gb, W.transpose(1, 2), tmp)

    def forward(self, h: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """(K, i, B) -> ``out`` (K, o, B)."""
        if h.shape[2] == 1:
            return _bmm(self.W, h, out=out).add_(self.b)
        return torch.baddbmm(self.b, self.W, h, out=out)

    def backward(self, g: torch.Tensor, h: torch.Tensor, hT: torch.Tensor, out=None):
        """Gradients into ``gW``, ``gb``; the input's gradient into ``out`` (if given).
        ``hT`` is ``h.transpose(1, 2)``."""
        # (one product per entry when the batch has one row: exact, so any kernel will do)
        if self.gW_tmp.shape[1] == self.gW.shape[1]:
            self.gW.copy_(torch.bmm(g, hT, out=self.gW_tmp))
        else:
            self.gW.copy_(torch.bmm(h, g.transpose(1, 2), out=self.gW_tmp).transpose(1, 2))
        torch.sum(g, 2, out=self.gb)
        return None if out is None else _bmm(self.Wt, g, out=out)


@dataclass(frozen=True)
class _FMBlock:
    """A hidden block (Linear -> ReLU -> BatchNorm1d) of every member, feature-major."""

    linear: _FMLinear
    gamma: torch.Tensor  # (K, o)
    beta: torch.Tensor  # (K, o, 1)
    g_gamma: torch.Tensor
    g_beta: torch.Tensor
    running_mean: torch.Tensor  # (K * o,) views of the stack's running statistics
    running_var: torch.Tensor
    batch_mean: torch.Tensor  # (K * o,) slots for this step's statistics
    batch_norm: torch.Tensor  # (K * o,) L2 norm of the centred activations
    mean_col: torch.Tensor  # batch_mean as (K * o, 1)
    norm_ko: torch.Tensor  # batch_norm as (K, o)
    gamma_flat: torch.Tensor  # (K * o,) a copy, refreshed each step (theta's rows are strided)
    #: (K, o) NumPy views of gamma, beta, their gradients, mean and norm, for the fused
    #: CPU kernels (:mod:`lilyvae.train.kernels`); None: PyTorch operations (any device).
    fused: _FusedViews | None

    @classmethod
    def of(cls, linear, gamma, beta, g_gamma, g_beta, running_mean, running_var, mean, norm, fused):
        k, o = gamma.shape
        views = None
        if fused:
            views = _FusedViews(
                *(
                    t.numpy()
                    for t in (gamma, beta, g_gamma, g_beta, mean.view(k, o), norm.view(k, o))
                )
            )
        return cls(
            linear,
            gamma,
            beta.unsqueeze(2),
            g_gamma,
            g_beta,
            running_mean,
            running_var,
            mean,
            norm,
            mean.unsqueeze(1),
            norm.view(k, o),
            torch.empty(k * o, device=gamma.device),
            views,
        )

    def forward(self, h: torch.Tensor, hT, buf: _BlockBuffers, tape: list) -> torch.Tensor:
        """``h`` (K, i, B) -> ``buf.out`` (K, o, B), through the ReLU's output ``buf.r``.
        ``hT`` is ``h.transpose(1, 2)`` (kept for the backward)."""
        tape.append((self, h, hT, buf))
        v = self.fused
        if v is not None:
            self.linear.forward(h, buf.r)
            _kernels().relu_batch_norm_forward(
                buf.r_np, v.gamma, v.beta, BN_EPS, buf.out_np, v.mean, v.norm, buf.invstd_np
            )
            return buf.out
        self.linear.forward(h, buf.r).relu_()
        n = buf.r.shape[2]
        torch.mean(buf.r_flat, 1, out=self.batch_mean)
        torch.sub(buf.r_flat, self.mean_col, out=buf.out_flat)  # centred
        torch.linalg.vector_norm(buf.out_flat, dim=1, out=self.batch_norm)
        # invstd = 1 / sqrt(biased variance + eps), variance = |centred|^2 / n
        norm = self.norm_ko
        torch.addcmul(_eps_like(norm), norm, norm, value=1.0 / n, out=buf.invstd).rsqrt_()
        torch.mul(buf.invstd, self.gamma, out=buf.scale)
        buf.out.mul_(buf.scale_col).add_(self.beta)
        return buf.out

    @staticmethod
    def backward_all(g: torch.Tensor, tape: list, grads_in: list):
        """Back through the taped blocks, last first. ``grads_in[j]`` is the buffer for
        block j's input gradient (None: not needed); returns the first block's."""
        for j in range(len(tape) - 1, -1, -1):
            blk, h_in, hT, buf = tape[j]
            v = blk.fused
            if v is not None:  # g becomes the linear outputs' gradient, in place
                _kernels().relu_batch_norm_backward(
                    g.numpy(), buf.r_np, v.gamma, v.mean, buf.invstd_np, v.g_gamma, v.g_beta
                )
                g = blk.linear.backward(g, h_in, hT, grads_in[j])
                continue
            k, o, n = buf.r.shape
            blk.gamma_flat.view(k, o).copy_(blk.gamma)
            invstd = buf.invstd_flat if buf.invstd_flat is not None else buf.invstd.reshape(-1)
            gr, g_gamma, g_beta = _native_bn_backward(
                g.view(1, k * o, n),
                buf.r_bn,
                blk.gamma_flat,
                blk.running_mean,
                blk.running_var,
                blk.batch_mean,
                invstd,
                True,
                BN_EPS,
                [True, True, True],
            )
            blk.g_gamma.copy_(g_gamma.view(k, o))
            blk.g_beta.copy_(g_beta.view(k, o))
            ga = _relu_backward_into(gr, buf.r_bn, 0, grad_input=gr).view(k, o, n)
            g = blk.linear.backward(ga, h_in, hT, grads_in[j])
        return g


@dataclass(frozen=True)
class _FusedViews:
    """A block's (K, o) arrays as the fused kernels take them (NumPy views)."""

    gamma: object
    beta: object
    g_gamma: object
    g_beta: object
    mean: object
    norm: object


_KERNELS = None


def _kernels():
    """:mod:`lilyvae.train.kernels`, imported on first use (numba compiles or loads them)."""
    global _KERNELS
    if _KERNELS is None:
        from lilyvae.train import kernels

        _KERNELS = kernels
    return _KERNELS


class _BlockBuffers:
    """One hidden block's buffers for one batch size, with the views a step uses."""

    def __init__(self, k: int, o: int, n: int, device, fused: bool = False):
        self.r = torch.empty(k, o, n, device=device)
        self.r_flat = self.r.view(k * o, n)
        self.r_bn = self.r.view(1, k * o, n)
        self.out = torch.empty(k, o, n, device=device)
        self.out_flat = self.out.view(k * o, n)
        self.outT = self.out.transpose(1, 2)
        if fused:  # the kernels' arrays; they compute invstd one channel at a time
            self.invstd = torch.empty(k, o, device=device)
            self.r_np, self.out_np, self.invstd_np = (
                t.numpy() for t in (self.r, self.out, self.invstd)
            )
            return
        # 1 / std per channel: rsqrt_ runs on it. Contiguous when K * o is a whole
        # number of vector blocks for any K (no scalar tail), else one loop per member.
        if o % 32 == 0:
            self.invstd = torch.empty(k, o, device=device)
            self.invstd_flat = self.invstd.view(k * o)
        else:
            self.invstd = _per_member(k, (o,), device)
            self.invstd_flat = None
        self.scale = torch.empty(k, o, device=device)
        self.scale_col = self.scale.unsqueeze(2)


class _Workspace:
    """Buffers for one batch size in the feature-major layout, reused every step."""

    def __init__(self, stack: ModelStack, n: int):
        def buf(width: int) -> torch.Tensor:
            return torch.empty(stack.k, width, n, device=stack.device)

        enc = [blk.linear.W.shape[1:] for blk in stack.fm_enc]  # (out, in) per block
        dec = [blk.linear.W.shape[1:] for blk in stack.fm_dec]
        lat, d_in = stack.arch["latent_dim"], stack.arch["input_dim"]

        def per_member(*shape: int) -> torch.Tensor:
            return _per_member(stack.k, shape, stack.device)

        fused = stack.fused
        self.enc = [_BlockBuffers(stack.k, o, n, stack.device, fused) for o, _ in enc]
        self.dec = [_BlockBuffers(stack.k, o, n, stack.device, fused) for o, _ in dec]
        # Input gradients of encoder blocks after the first (the first's is not needed).
        self.enc_grad_in: list = [None] + [buf(i) for _, i in enc[1:]]
        self.latent_grad_in = buf(stack.fm_latent.W.shape[2])
        self.ml = buf(2 * lat)
        self.g_ml = buf(2 * lat)
        self.std = per_member(lat, n)  # exp_ runs on it
        self.var = buf(lat)
        self.z = buf(lat)
        self.zT = self.z.transpose(1, 2)
        self.dec_grad_in = [buf(i) for _, i in dec]
        self.out_grad_in = buf(stack.fm_out.W.shape[2])
        self.diff = buf(d_in)
        self.sq = buf(d_in)
        if stack.fm_head is not None:
            self.head_act = buf(stack.fm_head[0].W.shape[1])
            self.head_softmax = per_member(n, stack.fm_head[1].W.shape[1])  # exp runs on it


def _bmm(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """``torch.bmm``, except for matrix-vector products (a batch of one row).

    For those, BLAS picks its kernel by the number of matrices and their layout, so a
    member's rounding would depend on its pack. A product and a sum along the
    contiguous axis rounds the same for every member (and costs nothing: one-row
    batches are at most the last batch of an epoch).
    """
    if b.shape[2] == 1:  # (K, m, i) @ (K, i, 1)
        r = torch.mul(a, b.mT).sum(2, keepdim=True)
    elif a.shape[1] == 1:  # (K, 1, i) @ (K, i, n)
        r = torch.mul(b.mT, a).sum(2).unsqueeze(1)
    else:
        return torch.bmm(a, b) if out is None else torch.bmm(a, b, out=out)
    return r if out is None else out.copy_(r)


def _per_member(k: int, shape: tuple[int, ...], device) -> torch.Tensor:
    """An uninitialised (k, *shape) tensor whose members lie PAD floats apart: kernels
    never fuse them into one flat loop, so each member's loop, and its scalar tail, is
    the same in any pack (see the module notes)."""
    size = 1
    for s in shape:
        size *= s
    return torch.empty(k, size + PAD, device=device)[:, :size].view(k, *shape)


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

    def for_stack(self, k: int, feature_major: bool | None = None) -> StepInputs:
        """This batch in the layout a stack of ``k`` computes on (feature-major when
        ``feature_major`` says so, by default for k > 1)."""
        want = k > 1 if feature_major is None else feature_major
        if (self.x.dim() == 3) == want:
            return self
        if not want:  # (1, w, B) -> (B, w): one member
            if k != 1:
                raise ValueError("only a stack of one member computes side by side")

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

    def __init__(
        self,
        models: list[VAE],
        device: torch.device | str = "cpu",
        feature_major: bool | None = None,
        fused: bool | None = None,
    ):
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
        #: Whether steps compute on the feature-major (K, width, batch) layout: by
        #: default for packs and on the CPU (see the module notes).
        on_cpu = self.device.type == "cpu"
        if feature_major is None:
            feature_major = self.k > 1 or on_cpu
        self.feature_major = bool(feature_major)
        #: Whether feature-major batch norms run in the fused CPU kernels of
        #: :mod:`lilyvae.train.kernels` (the default on the CPU) or in PyTorch operations.
        self.fused = self.feature_major and on_cpu if fused is None else bool(fused)
        if self.fused and not (self.feature_major and on_cpu):
            raise ValueError("the fused kernels run the feature-major layout on the CPU only")
        self.theta, self._theta_flat = self._flat_matrix()
        # Batch-norm state of every layer in one buffer each, so that one lerp_ per
        # step updates all running statistics of a pack: rows are (running mean,
        # running var) and (this step's mean, this step's norm of centred activations).
        total = self.k * sum(width for _role, _prefix, width in self.norms)
        padded = total + (-total % PAD if self.feature_major else 0)
        self._running = torch.zeros(2, padded, device=self.device)
        self._batch_stats = torch.zeros(2, padded, device=self.device)
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
        self.grad, self._grad_flat = self._flat_matrix()
        self.g = self.layout.views(self.grad)
        self._make_layers()
        self.exp_avg, self._exp_avg_flat = self._flat_matrix()
        self.exp_avg_sq, self._exp_avg_sq_flat = self._flat_matrix()
        self.steps = 0
        self._adam_step = torch.zeros((), device=self.device)  # Adam's t, as a tensor
        self.dropout_p = (
            first.classifier[2].p if isinstance(first, SemiSupervisedVAE) else CLASSIFIER_DROPOUT
        )
        #: Width of the classifier's hidden layer (the dropout mask's), 0 without a head.
        self.head_width = first.classifier[0].out_features if "cls0.W" in self.p else 0
        self._workspaces: dict[int, _Workspace] = {}

    def _flat_matrix(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A zero (K, P) matrix and the flat buffer it lives in (padded to a multiple of
        PAD floats in the feature-major layout)."""
        n = self.k * self.layout.n_params
        flat = torch.zeros(n + (-n % PAD if self.feature_major else 0), device=self.device)
        return flat[:n].view(self.k, self.layout.n_params), flat

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
    def _make_layers(self) -> None:
        """Views of every layer's parameters and gradients, built once.

        The views stay valid because parameters and gradients are only ever updated in
        place, so a step does no lookups and no gathering of gradients.
        """
        p, g = self.p, self.g
        if not self.feature_major:
            if self.k != 1:
                raise ValueError("only a stack of one member computes side by side")

            def linear(role: str) -> _Linear:
                return _Linear(p[f"{role}.W"], p[f"{role}.b"], g[f"{role}.W"], g[f"{role}.b"])

            self.blocks: dict[str, list] = {"enc": [], "dec": []}
            for role, _prefix, _width in self.norms:
                self.blocks[role[:3]].append(
                    _Block(
                        linear(role),
                        p[f"{role}.gamma"],
                        p[f"{role}.beta"],
                        g[f"{role}.gamma"],
                        g[f"{role}.beta"],
                        *self.running[role],
                    )
                )
            self.latent = linear("latent")
            self.out = linear("out")
            self.head = (linear("cls0"), linear("cls1")) if "cls0.W" in p else None
            return

        def fm_linear(role: str) -> _FMLinear:
            return _FMLinear.of(p[f"{role}.W"], p[f"{role}.b"], g[f"{role}.W"], g[f"{role}.b"])

        self.fm_enc: list[_FMBlock] = []
        self.fm_dec: list[_FMBlock] = []
        for role, _prefix, _width in self.norms:
            (self.fm_enc if role.startswith("enc") else self.fm_dec).append(
                _FMBlock.of(
                    fm_linear(role),
                    p[f"{role}.gamma"],
                    p[f"{role}.beta"],
                    g[f"{role}.gamma"],
                    g[f"{role}.beta"],
                    *self.running[role],
                    *self._stat_slots[role],
                    self.fused,
                )
            )
        self.fm_latent = fm_linear("latent")
        self.fm_out = fm_linear("out")
        self.fm_head = (fm_linear("cls0"), fm_linear("cls1")) if "cls0.W" in p else None

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

    def forward_backward(self, batch: StepInputs, w: StepWeights):
        """Loss parts per member, and the gradient into ``self.grad`` (K, P), for one batch.

        Returns ``parts``: loss / recon / kl / masked / class, each a (K,) tensor reduced
        as the recipe reduces it; ``loss`` is the objective the gradient belongs to.
        """
        batch = batch.for_stack(self.k, self.feature_major)
        if self.feature_major:
            return self._step_feature_major(batch, w)
        return self._step_side_by_side(batch, w)

    def _loss_parts(self, diff, sq, mu, logvar, var, mask, w: StepWeights, n: int, fm: bool):
        """Reconstruction, KL (and masked) parts per member, the total, the gradient of
        the loss with respect to the reconstruction, and the KL term's scale."""
        d_in, lat = self.arch["input_dim"], self.arch["latent_dim"]

        def per_member(t: torch.Tensor) -> torch.Tensor:
            """Sum over rows and features: (K,)."""
            return t.sum((1, 2)) if fm else t.sum().view(1)

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
        if mask is not None:
            n_masked = per_member(mask).clamp_(min=1.0)
            parts["masked"] = per_member(sq * mask) / n_masked
            loss = loss + w.mask_weight * parts["masked"]
            coef = 2.0 * w.mask_weight / n_masked
            g_out.addcmul_(mask * diff, coef.view(-1, 1, 1) if fm else coef)
        return parts, loss, g_out, kl_scale

    @staticmethod
    def _class_loss(logits, labels, w: StepWeights, out: torch.Tensor | None = None):
        """Mean cross-entropy over labelled rows per member, and d loss / d logits
        (written into ``out`` when given).

        ``logits`` (K, B, classes), ``labels`` (K, B) with -1 = unlabelled.
        """
        logp = torch.log_softmax(logits, dim=2)
        labelled = (labels >= 0).to(logp.dtype)
        n_lab = labelled.sum(1).clamp_(min=1.0)
        safe = labels.clamp(min=0).unsqueeze(2)
        nll = logp.gather(2, safe).squeeze(2).neg_().mul_(labelled)
        value = nll.sum(1) / n_lab
        # d CE / d logits = (softmax - onehot) / n_labelled, on labelled rows only.
        # gather + scatter_ (not scatter_add_) stays deterministic on CUDA.
        g_logits = logp.exp_() if out is None else torch.exp(logp, out=out)
        g_logits.scatter_(2, safe, g_logits.gather(2, safe) - 1.0)
        g_logits.mul_((labelled * (w.alpha / n_lab).unsqueeze(1)).unsqueeze(2))
        return value, g_logits

    @staticmethod
    def _latent_grad(g_ml, gz, mu, eps, std, var, kl_scale: float) -> torch.Tensor:
        """The gradient through z = mu + eps * std and the KL term, for (mu, logvar)
        side by side: into the buffer ``g_ml`` (a pack), or a new tensor if None (one
        member: torch.compile cannot trace ``out=`` into a strided slice)."""
        if g_ml is None:
            g_mu = torch.add(gz, mu, alpha=kl_scale)
            g_logvar = torch.mul(gz, eps)
            g_logvar.mul_(std).add_(var, alpha=kl_scale).sub_(kl_scale).mul_(0.5)
            return torch.cat([g_mu, g_logvar], dim=1)
        lat = mu.shape[1]
        torch.add(gz, mu, alpha=kl_scale, out=g_ml[:, :lat])
        g_logvar = g_ml[:, lat:]
        torch.mul(gz, eps, out=g_logvar)
        g_logvar.mul_(std).add_(var, alpha=kl_scale).sub_(kl_scale).mul_(0.5)
        return g_ml

    def _step_side_by_side(self, batch: StepInputs, w: StepWeights):
        """One member, activations (batch, width): the kernels autograd runs."""
        x = batch.x
        n = x.shape[0]
        lat = self.arch["latent_dim"]
        x_in = x if batch.mask is None else torch.addcmul(x, x, batch.mask, value=-1.0)
        enc_tape: list = []
        h = x_in
        for blk in self.blocks["enc"]:
            h = blk.forward(h, enc_tape)
        ml = self.latent.forward(h)  # mu features, then logvar features
        mu, logvar = ml[:, :lat], ml[:, lat:]
        std = logvar.mul(0.5).exp_()
        var = std * std
        z = torch.addcmul(mu, batch.eps, std)
        dec_tape: list = []
        hd = z
        for blk in self.blocks["dec"]:
            hd = blk.forward(hd, dec_tape)
        diff = self.out.forward(hd).sub_(x)
        sq = diff * diff
        parts, loss, g_out, kl_scale = self._loss_parts(
            diff, sq, mu, logvar, var, batch.mask, w, n, fm=False
        )
        gz = _Block.backward_all(self.out.backward(g_out, hd), dec_tape)
        if self.head is not None:
            cls0, cls1 = self.head
            c_act = cls0.forward(z).relu_()
            c_drop = c_act * batch.dropout
            logits = cls1.forward(c_drop).unsqueeze(0)
            parts["class"], g_logits = self._class_loss(logits, batch.labels.view(1, -1), w)
            loss = loss + w.alpha * parts["class"]
            g_drop = cls1.backward(g_logits[0], c_drop)
            g_act = _relu_backward(g_drop.mul_(batch.dropout), c_act, 0)
            gz = gz + cls0.backward(g_act, z)
        parts["loss"] = loss
        g_ml = self._latent_grad(None, gz, mu, batch.eps, std, var, kl_scale)
        _Block.backward_all(self.latent.backward(g_ml, h), enc_tape, need_first_input=False)
        return parts

    def _step_feature_major(self, batch: StepInputs, w: StepWeights):
        """Every member, activations (K, width, batch), wide tensors in reused buffers."""
        x = batch.x
        n = x.shape[2]
        lat = self.arch["latent_dim"]
        ws = self._workspace(n)
        x_in = x if batch.mask is None else torch.addcmul(x, x, batch.mask, value=-1.0)
        enc_tape: list = []
        h, hT = x_in, x_in.transpose(1, 2)
        for blk, buf in zip(self.fm_enc, ws.enc, strict=True):
            h = blk.forward(h, hT, buf, enc_tape)
            hT = buf.outT
        ml = self.fm_latent.forward(h, ws.ml)  # mu features, then logvar features
        mu, logvar = ml[:, :lat], ml[:, lat:]
        std = torch.mul(logvar, 0.5, out=ws.std).exp_()
        var = torch.mul(std, std, out=ws.var)
        z = torch.addcmul(mu, batch.eps, std, out=ws.z)
        dec_tape: list = []
        hd, hdT = z, ws.zT
        for blk, buf in zip(self.fm_dec, ws.dec, strict=True):
            hd = blk.forward(hd, hdT, buf, dec_tape)
            hdT = buf.outT
        diff = self.fm_out.forward(hd, ws.diff).sub_(x)
        self._update_running_stats(n)
        sq = torch.mul(diff, diff, out=ws.sq)
        parts, loss, g_out, kl_scale = self._loss_parts(
            diff, sq, mu, logvar, var, batch.mask, w, n, fm=True
        )
        g_hd = self.fm_out.backward(g_out, hd, hdT, ws.out_grad_in)
        gz = _FMBlock.backward_all(g_hd, dec_tape, ws.dec_grad_in)
        if self.fm_head is not None:
            cls0, cls1 = self.fm_head
            c_act = cls0.forward(z, ws.head_act).relu_()
            c_drop = c_act * batch.dropout
            # logits (K, B, classes): rows of a member against its head's weights
            logits = _bmm(c_drop.transpose(1, 2), cls1.W.transpose(1, 2))
            logits.add_(cls1.b.transpose(1, 2))
            parts["class"], g_logits = self._class_loss(logits, batch.labels, w, ws.head_softmax)
            loss = loss + w.alpha * parts["class"]
            g_drop = cls1.backward(
                g_logits.transpose(1, 2), c_drop, c_drop.transpose(1, 2), torch.empty_like(c_drop)
            )
            g_act = _relu_backward(g_drop.mul_(batch.dropout), c_act, 0)
            gz = gz + cls0.backward(g_act, z, ws.zT, torch.empty_like(z))
        parts["loss"] = loss
        g_ml = self._latent_grad(ws.g_ml, gz, mu, batch.eps, std, var, kl_scale)
        g_h = self.fm_latent.backward(g_ml, h, hT, ws.latent_grad_in)
        _FMBlock.backward_all(g_h, enc_tape, ws.enc_grad_in)
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
            if len(distinct) == 1:  # the padded flat buffers (see the module notes)
                groups = (
                    [self._theta_flat],
                    [self._grad_flat],
                    [self._exp_avg_flat],
                    [self._exp_avg_sq_flat],
                )
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
