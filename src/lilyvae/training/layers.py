"""The engine's layers, for every member of a pack at once, feature-major.

Activations are ``(K, width, batch)``: member k's activation matrix is the contiguous
block ``[k]``, transposed. A linear layer is one ``bmm(W, h)`` over members with the
weights as stored (``(K, out, in)``) and no transposes or copies of activations,
forward or backward. A hidden block (Linear -> ReLU -> BatchNorm1d) computes its
batch-norm statistics along the contiguous last axis (``K * width`` channels of
``batch`` values): on the CPU in two fused numba kernels (:mod:`lilyvae.training.kernels`:
one pass forward, one backward, where PyTorch operations take eleven), elsewhere (a
GPU) with PyTorch operations (mean, then the norm of the centred values: two passes,
as stable as the native kernel, and ``native_batch_norm_backward`` on the
``(1, K * width, batch)`` view). Wide activations and their gradients are written into
buffers allocated once per batch size and reused every step.

Pack independence: a member's arithmetic never depends on the other members of its
pack. PyTorch's CPU kernels run flat element-wise loops in vector blocks and finish
the last ``numel % block`` elements with scalar code, which rounds some functions
(exp, rsqrt, lerp, Adam's update) differently; so tensors those functions run on get
a member stride that keeps each member's loop its own (:func:`per_member`), and the
engine's flat buffers are padded to a multiple of :data:`PAD` floats. And a batch of
one row makes every product a matrix-vector product, for which BLAS picks a different
kernel for one matrix than for several: :func:`bmm` computes those by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
#: Flat buffers are padded to a multiple of this many floats (two AVX-512 vectors of
#: 16, twice over): no real element falls in a kernel's scalar tail, whatever K is.
PAD = 64

_native_bn_backward = torch.ops.aten.native_batch_norm_backward
relu_backward = torch.ops.aten.threshold_backward
_relu_backward_into = torch.ops.aten.threshold_backward.grad_input

_KERNELS = None


def kernels():
    """:mod:`lilyvae.training.kernels`, imported on first use (numba compiles or loads them)."""
    global _KERNELS
    if _KERNELS is None:
        from lilyvae.training import kernels as module

        _KERNELS = module
    return _KERNELS


def bmm(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
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


def per_member(k: int, shape: tuple[int, ...], device) -> torch.Tensor:
    """An uninitialised (k, *shape) tensor whose members lie PAD floats apart: kernels
    never fuse them into one flat loop, so each member's loop, and its scalar tail, is
    the same in any pack."""
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


@dataclass(frozen=True)
class Linear:
    """A linear layer of every member: ``W @ h`` per member.

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
    def of(cls, W, b, gW, gb) -> Linear:
        k, o, i = W.shape
        # The weight gradient is a product into a contiguous buffer, then one copy into
        # the strided rows of the gradient matrix (faster than writing them directly);
        # for narrow inputs the product is faster the other way round.
        tmp = torch.empty((k, i, o) if i <= 16 else (k, o, i), device=W.device)
        return cls(W, b.unsqueeze(2), gW, gb, W.transpose(1, 2), tmp)

    def forward(self, h: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """(K, i, B) -> ``out`` (K, o, B)."""
        if h.shape[2] == 1:
            return bmm(self.W, h, out=out).add_(self.b)
        return torch.baddbmm(self.b, self.W, h, out=out)

    def backward(self, g: torch.Tensor, h: torch.Tensor, hT: torch.Tensor, out=None, helper=None):
        """Gradients into ``gW``, ``gb``; the input's gradient into ``out`` (if given).
        ``hT`` is ``h.transpose(1, 2)``. With a ``helper``
        (:class:`~lilyvae.training.helper.StepHelper`) the parameter gradients are its
        job: ``g`` and ``h`` must then stay as they are until it has finished."""
        if helper is None:
            self.weight_gradient(g, h, hT)
        else:
            helper.submit(self.weight_gradient, g, h, hT)
        return None if out is None else bmm(self.Wt, g, out=out)

    def weight_gradient(self, g: torch.Tensor, h: torch.Tensor, hT: torch.Tensor) -> None:
        """``gW = g @ h^T`` and ``gb`` = the row sums of ``g``."""
        # (one product per entry when the batch has one row: exact, so any kernel will do)
        if self.gW_tmp.shape[1] == self.gW.shape[1]:
            self.gW.copy_(torch.bmm(g, hT, out=self.gW_tmp))
        else:
            self.gW.copy_(torch.bmm(h, g.transpose(1, 2), out=self.gW_tmp).transpose(1, 2))
        torch.sum(g, 2, out=self.gb)


@dataclass(frozen=True)
class FusedViews:
    """A block's (K, o) arrays as the fused kernels take them (NumPy views)."""

    gamma: object
    beta: object
    g_gamma: object
    g_beta: object
    mean: object
    norm: object


class BlockBuffers:
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
            self.invstd = per_member(k, (o,), device)
            self.invstd_flat = None
        self.scale = torch.empty(k, o, device=device)
        self.scale_col = self.scale.unsqueeze(2)


@dataclass(frozen=True)
class Block:
    """A hidden block (Linear -> ReLU -> BatchNorm1d) of every member."""

    linear: Linear
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
    #: (K, o) NumPy views for the fused CPU kernels; None: PyTorch operations.
    fused: FusedViews | None

    @classmethod
    def of(cls, linear, gamma, beta, g_gamma, g_beta, running_mean, running_var, mean, norm, fused):
        k, o = gamma.shape
        views = None
        if fused:
            arrays = (gamma, beta, g_gamma, g_beta, mean.view(k, o), norm.view(k, o))
            views = FusedViews(*(t.numpy() for t in arrays))
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

    def forward(self, h: torch.Tensor, hT, buf: BlockBuffers, tape: list) -> torch.Tensor:
        """``h`` (K, i, B) -> ``buf.out`` (K, o, B), through the ReLU's output ``buf.r``.
        ``hT`` is ``h.transpose(1, 2)`` (kept for the backward)."""
        tape.append((self, h, hT, buf))
        v = self.fused
        if v is not None:
            self.linear.forward(h, buf.r)
            kernels().relu_batch_norm_forward(
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

    def backward(self, g: torch.Tensor, h_in, hT, buf: BlockBuffers, grad_in, helper=None):
        """The block's parameter gradients, and its input's gradient into ``grad_in``
        (None: not needed). ``g`` is the gradient of the block's output; ``helper`` as
        :meth:`Linear.backward`'s."""
        v = self.fused
        if v is not None:  # g becomes the linear outputs' gradient, in place
            kernels().relu_batch_norm_backward(
                g.numpy(), buf.r_np, v.gamma, v.mean, buf.invstd_np, v.g_gamma, v.g_beta
            )
            return self.linear.backward(g, h_in, hT, grad_in, helper)
        k, o, n = buf.r.shape
        self.gamma_flat.view(k, o).copy_(self.gamma)
        invstd = buf.invstd_flat if buf.invstd_flat is not None else buf.invstd.reshape(-1)
        gr, g_gamma, g_beta = _native_bn_backward(
            g.view(1, k * o, n),
            buf.r_bn,
            self.gamma_flat,
            self.running_mean,
            self.running_var,
            self.batch_mean,
            invstd,
            True,
            BN_EPS,
            [True, True, True],
        )
        self.g_gamma.copy_(g_gamma.view(k, o))
        self.g_beta.copy_(g_beta.view(k, o))
        ga = _relu_backward_into(gr, buf.r_bn, 0, grad_input=gr).view(k, o, n)
        return self.linear.backward(ga, h_in, hT, grad_in, helper)


def backward_blocks(g: torch.Tensor, tape: list, grads_in: list, helper=None) -> torch.Tensor:
    """Back through the taped blocks, last first. ``grads_in[j]`` is the buffer for
    block j's input gradient (None: not needed); returns the first block's."""
    for j in range(len(tape) - 1, -1, -1):
        blk, h_in, hT, buf = tape[j]
        g = blk.backward(g, h_in, hT, buf, grads_in[j], helper)
    return g
