"""Gradient clipping and Adam for a whole pack: one call for every member's parameters.

The engine keeps each member's parameters, gradient and Adam moments as a row of a
``(K, P)`` matrix in a padded flat buffer, so the kernel behind
``torch.optim.Adam(fused=True)`` updates a pack in one call when the members share a
learning rate (and one call per distinct rate when a plateau scheduler has split them).
"""

from __future__ import annotations

import torch

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
CLIP_EPS = 1e-6  # as torch.nn.utils.clip_grad_norm_


def clip_gradients(grad: torch.Tensor, clip: float) -> torch.Tensor:
    """Scale each member's row of ``grad`` (K, P) to a global L2 norm of at most
    ``clip``, in place, as ``clip_grad_norm_`` does; returns the norms before."""
    norms = torch.linalg.vector_norm(grad, dim=1, keepdim=True)
    grad.mul_((clip / (norms + CLIP_EPS)).clamp_(max=1.0))
    return norms.squeeze(1)


def adam_step(flat, rows, lrs: list[float], step: torch.Tensor) -> None:
    """One Adam step (no weight decay, no amsgrad) of every member.

    ``flat`` holds (parameters, gradient, first moment, second moment) as padded flat
    buffers, ``rows`` the same as (K, P) views; ``lrs`` one learning rate per member;
    ``step`` Adam's t as a 0-d tensor, already advanced.
    """
    b1, b2 = ADAM_BETAS
    distinct = list(dict.fromkeys(lrs))
    for lr in distinct:
        if len(distinct) == 1:  # the padded flat buffers: no member in a scalar tail
            groups = tuple([t] for t in flat)
        else:
            members = [j for j, v in enumerate(lrs) if v == lr]
            groups = tuple([t[j] for j in members] for t in rows)
        torch._fused_adam_(
            *groups,
            [],
            [step] * len(groups[0]),
            lr=lr,
            beta1=b1,
            beta2=b2,
            weight_decay=0.0,
            eps=ADAM_EPS,
            amsgrad=False,
            maximize=False,
        )
