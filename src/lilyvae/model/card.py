"""The model card: everything needed to use, trust and reproduce a trained model.

A :class:`ModelCard` is built once, when a model is trained (or adopted), and never
changed afterwards; it is written beside the checkpoint as ``<stem>.meta.json`` and
read back, validated, by :func:`lilyvae.model.checkpoint.load_model`. Its JSON keeps
the sections of earlier versions (``model``, ``training``, ``scaler``, ``data``, ...),
so cards written before the class existed load unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from lilyvae.data.provenance import Provenance
from lilyvae.data.schema import FEATURE_COLS
from lilyvae.errors import LilyVAEError
from lilyvae.model.architecture import MODEL_KINDS, Architecture

CARD_FORMAT = "lilyvae-model-card"
CARD_VERSION = 1
#: Sections a run may add to its members' cards (an ensemble member's run and index;
#: the lithologies whose labels were withheld from a semi-supervised model; where an
#: adopted model's weights came from, see :mod:`lilyvae.model.adopt`).
EXTRA_SECTIONS = ("ensemble", "labels_withheld", "adopted")


def check_input_columns(columns, source: str) -> tuple[str, ...]:
    """The input columns a card lists (none: the package's six), refused unless they are
    the six this version reads, in its order: the one rule for loading a card and for
    embedding with it."""
    columns = tuple(columns or FEATURE_COLS)
    if columns != FEATURE_COLS:
        raise LilyVAEError(
            f"{source}: the model card lists input columns {list(columns)}; this version "
            f"reads {list(FEATURE_COLS)}"
        )
    return columns


@dataclass(frozen=True)
class ModelCard:
    """A trained model's card. Sections are plain JSON-able values; build with
    :func:`lilyvae.training.trainer.trained_model` (or ``lilyvae adopt``), read with
    :meth:`from_dict`."""

    kind: str
    architecture: Architecture
    n_parameters: int
    training: dict  # the TrainingConfig's dict, and the device it ran on
    input_columns: tuple[str, ...]
    scaler: dict
    class_names: tuple[str, ...]
    data: dict  # the table: path, sha256, rows read/dropped/used/trained, synthetic
    split: dict | None  # held-out boreholes, or None (trained on every row)
    seed: int
    final: dict  # the last epoch's history row
    environment: dict
    wall_time_s: float
    checkpoint_sha256: str | None = None
    checkpoint_file: str | None = None
    history_file: str | None = None
    extra: Mapping[str, dict] = field(default_factory=dict)  # EXTRA_SECTIONS

    def __post_init__(self) -> None:
        unknown = sorted(set(self.extra) - set(EXTRA_SECTIONS))
        if unknown:
            raise ValueError(f"unknown model card section {unknown[0]!r}")

    @property
    def recipe(self) -> str:
        return self.training["recipe"]["name"]

    @property
    def origin(self) -> Provenance:
        """Whether the model was trained on SYNTHETIC data (``data.synthetic``; a card
        written before the field existed is not marked)."""
        return Provenance.from_record(self.data)

    @property
    def held_out_boreholes(self) -> list[str]:
        return list((self.split or {}).get("holdout_boreholes") or [])

    def with_files(self, checkpoint: str, history: str | None, sha256: str) -> ModelCard:
        """This card, naming the files it was saved with (a new card)."""
        return dataclasses.replace(
            self, checkpoint_file=checkpoint, history_file=history, checkpoint_sha256=sha256
        )

    def with_extra(self, **sections: dict) -> ModelCard:
        """This card with run-specific sections added (a new card; see EXTRA_SECTIONS)."""
        return dataclasses.replace(self, extra={**self.extra, **sections})

    def to_dict(self) -> dict:
        d = {
            "format": CARD_FORMAT,
            "format_version": CARD_VERSION,
            "model": {
                "kind": self.kind,
                "architecture": self.architecture.to_dict(),
                "n_parameters": self.n_parameters,
            },
            "training": self.training,
            "input_columns": list(self.input_columns),
            "scaler": self.scaler,
            "class_names": list(self.class_names),
            "data": self.data,
            "split": self.split,
            "seed": self.seed,
            "final": self.final,
            "environment": self.environment,
            "wall_time_s": self.wall_time_s,
        }
        d |= dict(self.extra)
        d["checkpoint"] = {"file": self.checkpoint_file, "sha256": self.checkpoint_sha256}
        d["history_file"] = self.history_file
        return d

    @classmethod
    def from_dict(cls, d: Mapping, source: str) -> ModelCard:
        """A card from its JSON, validated (sizes before anything is allocated)."""
        try:
            model = d["model"]
            kind = model["kind"]
            arch = Architecture.from_dict(model["architecture"], source)
            checkpoint = d.get("checkpoint") or {}
            card = cls(
                kind=kind,
                architecture=arch,
                n_parameters=int(model.get("n_parameters") or 0),
                training=dict(d.get("training") or {}),
                input_columns=tuple(d.get("input_columns") or ()),
                scaler=dict(d["scaler"]),
                class_names=tuple(d.get("class_names") or ()),
                data=dict(d.get("data") or {}),
                split=d.get("split"),
                seed=d.get("seed"),
                final=dict(d.get("final") or {}),
                environment=dict(d.get("environment") or {}),
                wall_time_s=d.get("wall_time_s"),
                checkpoint_sha256=checkpoint.get("sha256"),
                checkpoint_file=checkpoint.get("file"),
                history_file=d.get("history_file"),
                extra={k: d[k] for k in EXTRA_SECTIONS if d.get(k) is not None},
            )
        except (KeyError, TypeError, AttributeError):
            raise LilyVAEError(f"{source}: model card lacks the model or scaler section") from None
        if kind not in MODEL_KINDS:
            raise LilyVAEError(f"{source}: unknown model kind {kind!r} in the model card")
        check_input_columns(card.input_columns, source)
        if card.input_columns and len(card.input_columns) != arch.input_dim:
            raise LilyVAEError(
                f"{source}: {len(card.input_columns)} input columns for {arch.input_dim} inputs"
            )
        if kind == "semisupervised" and len(card.class_names) != arch.n_classes:
            raise LilyVAEError(
                f"{source}: {len(card.class_names)} class names for {arch.n_classes} outputs"
            )
        return card
