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
#: The kinds whose network has a lithology head (a classifier on the latent code).
#: The one place that says so: every "does it classify?" question asks :func:`has_head`.
KINDS_WITH_HEAD = frozenset({SEMISUPERVISED})


def has_head(kind: str) -> bool:
    """Whether a model of this kind has a lithology head."""
    return kind in KINDS_WITH_HEAD


DEFAULT_LATENT_DIM = 10
DEFAULT_HIDDEN_DIMS = (64, 32)
CLASSIFIER_HIDDEN = 64
CLASSIFIER_DROPOUT = 0.3

#: Layer widths beyond this are refused before anything is allocated: the reference's
#: widest layer has 64 units, and a card asking for millions is corrupt or hostile.
MAX_WIDTH = 65_536
#: Networks with more parameters than this are refused too: two layers of MAX_WIDTH
#: would be 4 billion weights (16 GB). The reference's models have 6,426 and 16,165.
MAX_PARAMETERS = 50_000_000


def _flag(value, name: str, source: str) -> bool:
    """A card's true/false setting, refused in one line when it is anything else."""
    if not isinstance(value, bool):
        raise LilyVAEError(f"{source}: model card: {name} is {value!r}, not true or false")
    return value


def _size(value, name: str, source: str) -> int:
    """A whole number of units as JSON gives it: 64 or 64.0, never 64.7, "64" or true."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LilyVAEError(f"{source}: model card: {name} is {value!r}, not a whole number")
    if isinstance(value, float) and not value.is_integer():
        raise LilyVAEError(f"{source}: model card: {name} is {value!r}, not a whole number")
    return int(value)


def parameter_count(
    input_dim: int,
    latent_dim: int,
    hidden_dims,
    n_classes: int | None = None,
    missing_indicators: bool = False,
) -> int:
    """The number of trained parameters of a network of these sizes, computed without
    building it: each block is Linear (weights and biases) then BatchNorm1d (scale and
    shift); fc_mu and fc_logvar read the last hidden layer; the decoder mirrors the
    encoder; the lithology head is latent -> CLASSIFIER_HIDDEN -> classes. With
    ``missing_indicators`` the encoder reads twice the inputs."""

    def linear(n_in: int, n_out: int) -> int:
        return n_in * n_out + n_out

    def blocks(n_in: int, widths) -> tuple[int, int]:
        total = 0
        for h in widths:
            total += linear(n_in, h) + 2 * h
            n_in = h
        return total, n_in

    encoder, last = blocks(input_dim * (2 if missing_indicators else 1), hidden_dims)
    decoder, first = blocks(latent_dim, list(reversed(hidden_dims)))
    total = encoder + 2 * linear(last, latent_dim) + decoder + linear(first, input_dim)
    if n_classes is not None:
        total += linear(latent_dim, CLASSIFIER_HIDDEN) + linear(CLASSIFIER_HIDDEN, n_classes)
    return total


def size_problems(
    input_dim: int,
    latent_dim: int,
    hidden_dims,
    n_classes: int | None = None,
    missing_indicators: bool = False,
) -> list[str]:
    """What is wrong with these sizes (each 1..MAX_WIDTH, at least one hidden layer, at
    most MAX_PARAMETERS parameters), one phrase each; empty when nothing is."""
    sizes = {"input_dim": input_dim, "latent_dim": latent_dim}
    sizes |= {f"hidden_dims[{i}]": h for i, h in enumerate(hidden_dims)}
    if n_classes is not None:
        sizes["n_classes"] = n_classes
    problems = [
        f"{name} is {value}; it must be in 1..{MAX_WIDTH}"
        for name, value in sizes.items()
        if not 0 < value <= MAX_WIDTH
    ]
    if not hidden_dims:
        problems.append("hidden_dims is empty")
    if not problems:
        n = parameter_count(input_dim, latent_dim, hidden_dims, n_classes, missing_indicators)
        if n > MAX_PARAMETERS:
            problems.append(f"the network would have {n:,} parameters (at most {MAX_PARAMETERS:,})")
    return problems


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
            hidden = d["hidden_dims"]
            if not isinstance(hidden, (list, tuple)):
                raise LilyVAEError(f"{source}: model card: hidden_dims is {hidden!r}, not a list")
            arch = cls(
                _size(d["input_dim"], "input_dim", source),
                _size(d["latent_dim"], "latent_dim", source),
                tuple(_size(h, f"hidden_dims[{i}]", source) for i, h in enumerate(hidden)),
                None if d.get("n_classes") is None else _size(d["n_classes"], "n_classes", source),
                _flag(d.get("missing_indicators", False), "missing_indicators", source),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise LilyVAEError(
                f"{source}: invalid architecture in the model card ({exc})"
            ) from None
        arch.validate(source)
        return arch

    def problems(self) -> list[str]:
        """What is wrong with these sizes (none for a network lilyvae can build)."""
        return size_problems(*self._sizes())

    def validate(self, source: str) -> None:
        """Refuse sizes no trained model has, before anything is allocated."""
        problems = self.problems()
        if problems:
            raise LilyVAEError(f"{source}: model card: {problems[0]}")

    def _sizes(self) -> tuple:
        return (
            self.input_dim,
            self.latent_dim,
            self.hidden_dims,
            self.n_classes,
            self.missing_indicators,
        )

    @property
    def n_parameters(self) -> int:
        return parameter_count(*self._sizes())

    def replace(self, **changes) -> Architecture:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden_dims"] = list(self.hidden_dims)
        if not self.missing_indicators:
            del d["missing_indicators"]  # cards of the reference's architecture unchanged
        return d
