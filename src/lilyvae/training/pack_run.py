"""One pack's training run: K members of one architecture stepped together.

Each member has its own seed, its own rows (all rows, or a bootstrap resample), and
its own random streams for data order, posterior noise, input masks and dropout, so
a member is the same model whether it trains alone or in a pack. :class:`PackRun`
holds the engine (:class:`~lilyvae.training.engine.ModelStack`), the data in the
engine's layout and the streams, and runs one epoch at a time; the trainer
(:mod:`lilyvae.training.trainer`) drives it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lilyvae.model.architecture import Architecture, has_head
from lilyvae.model.networks import VAE, build_model, with_missing_indicators
from lilyvae.model.recipes import Recipe
from lilyvae.training.config import TrainingConfig
from lilyvae.training.engine import ModelStack, StepInputs, StepWeights

# Random numbers are drawn per member in chunks of this many batches: bounded memory
# for large packs, and a member's stream does not depend on the pack it trains in.
CHUNK_BATCHES = 64
#: Second entropy word of each member's dropout stream (after its seed).
DROPOUT_STREAM = 0x64726F70  # "drop"


def init_member(kind: str, arch: Architecture, seed: int) -> tuple[VAE, torch.Generator]:
    """A freshly initialised model and its random stream, both from one seed.

    As in the reference script: seed, build the model (PyTorch's default
    initialisation draws from the stream), then keep drawing from the same stream
    for shuffling and noise. The global RNG is left as it was. A model with
    missing-value indicators starts as the model without them plus zero weights for
    the indicators (:func:`~lilyvae.model.networks.with_missing_indicators`), so its
    draws, and its stream, are those of the same seed's model without them.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = build_model(kind, arch.replace(missing_indicators=False))
        gen = torch.Generator()
        gen.set_state(torch.get_rng_state())
    return (with_missing_indicators(model) if arch.missing_indicators else model), gen


@dataclass
class MemberSpec:
    """One member of a pack: its seed and the rows it trains on (indices into X)."""

    seed: int
    rows: np.ndarray | None = None  # None: every row once


@dataclass
class MemberResult:
    model: VAE
    history: dict[str, list[float]]
    seed: int
    error: str | None = None  # why the member failed, or None
    stopping: dict | None = None  # early stopping's account: when it stopped and why


class PlateauScheduler:
    """ReduceLROnPlateau (mode min, relative threshold 1e-4), one state per member.

    The same rule as ``torch.optim.lr_scheduler.ReduceLROnPlateau`` with its
    defaults, kept per member so that members of a pack can diverge.
    """

    threshold = 1e-4
    eps = 1e-8

    def __init__(self, lrs: list[float], patience: int, factor: float):
        self.lrs = list(lrs)
        self.patience = patience
        self.factor = factor
        self.best = [float("inf")] * len(lrs)
        self.bad_epochs = [0] * len(lrs)

    def step(self, losses: Sequence[float]) -> None:
        for k, loss in enumerate(losses):
            if loss < self.best[k] * (1.0 - self.threshold):
                self.best[k] = loss
                self.bad_epochs[k] = 0
            else:
                self.bad_epochs[k] += 1
            if self.bad_epochs[k] > self.patience:
                new_lr = self.lrs[k] * self.factor
                if self.lrs[k] - new_lr > self.eps:
                    self.lrs[k] = new_lr
                self.bad_epochs[k] = 0


def history_terms(kind: str, recipe: Recipe) -> list[str]:
    terms = ["loss", "recon", "kl"]
    if recipe.mask_ratio > 0:
        terms.append("masked")
    if has_head(kind):
        terms.append("class")
    return terms


class PackRun:
    """The state of one pack's training run: the engine, the data, the random streams."""

    def __init__(self, X, labels, members, config: TrainingConfig, n_classes, device, fused):
        self.config = config
        self.recipe = recipe = config.recipe
        self.device = device
        self.semi = config.has_head
        arch = config.architecture(n_classes)
        inits = [init_member(config.model, arch, m.seed) for m in members]
        self.stack = ModelStack([model for model, _ in inits], device=device, fused=fused)
        self.gens = [gen for _, gen in inits]
        # Dropout keep-masks come from a stream of their own per member (PCG64, seeded
        # by the member's seed): 64 draws per row are most of a semi-supervised epoch's
        # random numbers, and 16-bit integers from PCG64 cost a sixth of torch.rand's.
        self.dropout_rngs = [
            np.random.Generator(np.random.PCG64([m.seed, DROPOUT_STREAM])) for m in members
        ]
        self.k = len(members)
        n_total = X.shape[0]
        rows = [np.arange(n_total) if m.rows is None else np.asarray(m.rows) for m in members]
        self.n = len(rows[0])
        if any(len(r) != self.n for r in rows):
            raise ValueError("all members of a pack must train on the same number of rows")
        self.rows = torch.as_tensor(np.stack(rows).astype(np.int64))  # (K, n), on the CPU
        # Feature-major, as the engine computes: batches gather their rows from it.
        self.XT = X.to(device=device, dtype=torch.float32).t().contiguous()
        # missing="mask": which inputs are present (1.0) and missing inputs as 0.
        self.OT = None
        if config.missing == "mask":
            present = torch.isfinite(self.XT)
            self.OT = present.to(torch.float32)
            self.XT = torch.where(present, self.XT, 0.0)
        self.Y = labels.to(device) if self.semi else None
        self.d_in, self.lat = arch.input_dim, arch.latent_dim
        self.terms = history_terms(config.model, recipe)
        self.lrs = [config.lr] * self.k
        self.scheduler = (
            PlateauScheduler(self.lrs, recipe.plateau_patience, recipe.plateau_factor)
            if recipe.plateau_patience is not None
            else None
        )
        self._weights_full = self._term_weights(config.batch_size)

    def _term_weights(self, rows_in_batch: int) -> torch.Tensor:
        """Weights that turn batch loss values into per-row epoch averages.

        Sum-reduced terms are already summed over a batch's rows; mean-reduced ones
        get the row count. The classification term follows the recipe's
        ``class_reduction`` (a sum, or a mean over labelled rows).
        """
        summed = {"loss", "recon", "kl"} if self.recipe.reduction == "sum" else set()
        if self.recipe.class_reduction == "sum":
            summed.add("class")
        w = [1.0 if t in summed else float(rows_in_batch) for t in self.terms]
        return torch.tensor(w, device=self.device).unsqueeze(1)

    def _draw(self, sampler, rows: int, width: int) -> torch.Tensor:
        """Per-member draws of (rows, width) from each member's own stream, feature-major
        (K, width, rows), on the device."""
        out = torch.empty(self.k, width, rows)
        for k, g in enumerate(self.gens):
            out[k].copy_(sampler(rows, width, generator=g).t())
        return out.to(self.device)

    def _epoch_order(self):
        """Each member's rows in this epoch's order, feature-major: inputs (K, D, n),
        labels (K, n) (None without a head) and which inputs are present (K, D, n)
        (None unless missing="mask")."""
        k, n = self.k, self.n
        order = torch.stack(
            [self.rows[j][torch.randperm(n, generator=self.gens[j])] for j in range(k)]
        )
        order = order.to(self.device)  # (K, n): row b of member k

        def gather(table: torch.Tensor) -> torch.Tensor:
            out = torch.empty(k, self.d_in, n, device=self.device)
            for j in range(k):  # gathered from the transposed table: one copy
                torch.index_select(table, 1, order[j], out=out[j])
            return out

        Oe = None if self.OT is None else gather(self.OT)
        return gather(self.XT), (self.Y[order] if self.semi else None), Oe

    def _chunk_draws(self, c: int):
        """A chunk's random draws, per member: posterior noise, the input mask (None
        unless the recipe masks) and the head's dropout keep-mask (None without one)."""
        eps = self._draw(torch.randn, c, self.lat)
        mask = keep = None
        if self.recipe.mask_ratio > 0:
            mask = (self._draw(torch.rand, c, self.d_in) < self.recipe.mask_ratio).float()
        if self.semi:
            keep = self._dropout_keep(c)
        return eps, mask, keep

    def _dropout_keep(self, c: int) -> torch.Tensor:
        """Per-member dropout keep-masks for ``c`` rows, feature-major (K, H, c), scaled
        by 1 / (1 - p). A unit is dropped when a uniform 16-bit integer (a quarter of
        a PCG64 output word) is below round(p * 65536): with p = 0.3, a drop
        probability of 0.3000031."""
        from lilyvae.training.kernels import dropout_keep

        p = self.stack.dropout_p
        size = self.stack.head_width * c
        words = -(-size // 4)
        keep = np.empty((self.k, size), np.float32)
        threshold, scale = np.uint16(round(p * (1 << 16))), np.float32(1.0 / (1.0 - p))
        for j, rng in enumerate(self.dropout_rngs):
            bits = rng.bit_generator.random_raw(words).view(np.uint16)[:size]
            dropout_keep(bits, threshold, scale, keep[j])
        keep = torch.from_numpy(keep).view(self.k, self.stack.head_width, c)
        return keep.to(self.device)

    def run_epoch(self, epoch: int) -> list[dict]:
        """One pass over every member's rows; returns one history row per member."""
        t0 = time.perf_counter()
        recipe, k, n, bs = self.recipe, self.k, self.n, self.config.batch_size
        beta = recipe.beta_at(epoch)
        weights = StepWeights(
            beta, recipe.alpha, recipe.reduction, recipe.mask_weight, recipe.class_reduction
        )
        # Each member's stream, in order: its permutation, then per chunk of batches
        # its posterior noise, input-mask uniforms and dropout uniforms.
        Xe, Ye, Oe = self._epoch_order()

        def rows_of(t, lo: int, hi: int):
            return None if t is None else t[..., lo:hi]

        acc = torch.zeros(len(self.terms), k, device=self.device)
        chunk_rows = CHUNK_BATCHES * bs
        for c0 in range(0, n, chunk_rows):
            c = min(chunk_rows, n - c0)
            eps, mask, keep = self._chunk_draws(c)
            for b0 in range(0, c, bs):
                b1 = min(b0 + bs, c)
                batch = StepInputs(
                    x=rows_of(Xe, c0 + b0, c0 + b1),
                    eps=rows_of(eps, b0, b1),
                    mask=rows_of(mask, b0, b1),
                    labels=rows_of(Ye, c0 + b0, c0 + b1),
                    dropout=rows_of(keep, b0, b1),
                    observed=rows_of(Oe, c0 + b0, c0 + b1),
                )
                full = b1 - b0 == bs
                parts = self.stack.forward_backward(batch, weights)
                self.stack.apply_gradient(self.lrs, recipe.grad_clip)
                w = self._weights_full if full else self._term_weights(b1 - b0)
                acc.addcmul_(torch.stack([parts[t] for t in self.terms]), w)

        values = (acc / n).cpu().tolist()  # the one device sync of the epoch
        seconds = time.perf_counter() - t0
        rows = []
        for j in range(k):
            row = {t: values[i][j] for i, t in enumerate(self.terms)}
            rows.append(row | {"beta": beta, "lr": self.lrs[j], "epoch_seconds": seconds})
        if self.scheduler is not None:
            self.scheduler.step([r["loss"] for r in rows])
            self.lrs = list(self.scheduler.lrs)
        return rows
