"""The documented architecture as plain numbers: the two kinds of model, the default
sizes, and a model's sizes as a value (no PyTorch needed: the command line lists the
kinds and checks a card's sizes before anything is imported or allocated)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from lilyvae.errors import LilyVAEError

UNSUPERVISED = "unsupervised"
SEMISUPERVISED = "semisupervised"
MODEL_KINDS = (UNSUPERVISED, SEMISUPERVISED)

DEFAULT_LATENT_DIM = 10
DEFAULT_HIDDEN_DIMS = (64, 32)
CLASSIFIER_HIDDEN = 64
CLASSIFIER_DROPOUT = 0.3

#: Layer widths beyond this are refused before anything is allocated: the reference's
#: widest layer has 64 units, and a card asking for millions is corrupt or hostile.
MAX_WIDTH = 65_536


@dataclass(frozen=True)
class Architecture:
    """The network's sizes: inputs, latent code, hidden layers, classes (or None).

    ``missing_indicators`` (a model trained with ``missing="mask"``): the encoder's
    first layer reads each input and, beside it, a missing-value indicator (1 where the
    input is missing; the input itself then enters as 0), so it takes
    ``2 * input_dim`` inputs (12); the decoder still gives ``input_dim``. Off, it is the
    reference's architecture, and the key is left out of the card.
    """

    input_dim: int
    latent_dim: int
    hidden_dims: tuple[int, ...]
    n_classes: int | None = None
    missing_indicators: bool = False

    @property
    def encoder_input_dim(self) -> int:
        return self.input_dim * (2 if self.missing_indicators else 1)

    @classmethod
    def from_dict(cls, d: Mapping, source: str) -> Architecture:
        try:
            arch = cls(
                int(d["input_dim"]),
                int(d["latent_dim"]),
                tuple(int(h) for h in d["hidden_dims"]),
                None if d.get("n_classes") is None else int(d["n_classes"]),
                bool(d.get("missing_indicators", False)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise LilyVAEError(
                f"{source}: invalid architecture in the model card ({exc})"
            ) from None
        arch.validate(source)
        return arch

    def validate(self, source: str) -> None:
        sizes = {"input_dim": self.input_dim, "latent_dim": self.latent_dim}
        sizes |= {f"hidden_dims[{i}]": h for i, h in enumerate(self.hidden_dims)}
        if self.n_classes is not None:
            sizes["n_classes"] = self.n_classes
        for name, value in sizes.items():
            if not 0 < value <= MAX_WIDTH:
                raise LilyVAEError(
                    f"{source}: model card's {name} is {value}; it must be in 1..{MAX_WIDTH}"
                )
        if not self.hidden_dims:
            raise LilyVAEError(f"{source}: model card's hidden_dims is empty")

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden_dims"] = list(self.hidden_dims)
        if not self.missing_indicators:
            del d["missing_indicators"]  # cards of the reference's architecture unchanged
        return d
