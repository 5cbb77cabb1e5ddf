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
from lilyvae.model.architecture import MODEL_KINDS, Architecture, has_head

CARD_FORMAT = "lilyvae-model-card"
CARD_VERSION = 1
#: Sections a run may add to its members' cards (an ensemble member's run and index;
#: the lithologies whose labels were withheld from a semi-supervised model; where an
#: adopted model's weights came from, see :mod:`lilyvae.model.adopt`; the validation
#: boreholes and the stop of a model trained with early stopping).
EXTRA_SECTIONS = ("ensemble", "labels_withheld", "adopted", "early_stopping")


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
    # The history row of the epoch whose weights the model has: the last epoch's, or with
    # early stopping the kept epoch's, its ``epoch`` naming which (:func:`kept_final`).
    final: dict
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

    @property
    def has_head(self) -> bool:
        return has_head(self.kind)

    def describe(self) -> list[str]:
        """What ``lilyvae inspect`` prints of the card, a line each: first what a user
        asks (the data, synthetic or not, the rows trained on, the held-out boreholes,
        epochs, seed, recipe), then the rest."""
        return describe_card(self)

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
        if has_head(kind) and len(card.class_names) != arch.n_classes:
            raise LilyVAEError(
                f"{source}: {len(card.class_names)} class names for {arch.n_classes} outputs"
            )
        return card


def kept_final(history: Mapping, stopping: Mapping) -> dict:
    """The card's ``final`` for a model trained with early stopping: the history row of
    the epoch whose weights were kept (``stopping["best_epoch"]``; the last epoch's
    where none was best), and ``epoch``: that epoch (1-based). The last epoch's row
    would describe weights the model no longer has."""
    epochs_run = max((len(v) for v in history.values()), default=0)
    epoch = int(stopping.get("best_epoch") or epochs_run)
    row = {k: v[epoch - 1] for k, v in history.items() if len(v) >= epoch > 0}
    return row | {"epoch": epoch}


# --- the card in words ---------------------------------------------------------------


def describe_card(card: ModelCard) -> list[str]:
    data = card.data
    lines = [f"recipe      {card.recipe}"]
    adopted = card.extra.get("adopted")
    if adopted:  # a published checkpoint made usable: no training run of ours to describe
        lines.append(f"provenance  {adopted.get('provenance')}")
    else:
        lines.append(
            f"trained on  {data['path']} (sha256 {str(data['sha256'])[:12]})" + card.origin.label
        )
        lines.append(f"synthetic   {_synthetic_text(card)}")
    trained_rows, used = data.get("rows_trained"), data.get("rows_used")
    dropped = data.get("rows_dropped") or 0
    if trained_rows is not None:
        lines.append(
            f"rows        {trained_rows:,} trained on (of {used:,} usable rows in the table; "
            f"{dropped:,} dropped)"
        )
    elif used is not None:
        lines.append(f"rows        {used:,} used, {dropped:,} dropped")
    if not adopted:
        training = card.training
        lines += [
            f"held out    {_held_out_text(card)}",
            f"epochs      {training.get('epochs')} (batch size {training.get('batch_size')}, "
            f"learning rate {training.get('lr')})",
            f"seed        {card.seed}",
        ]
    stopping = card.extra.get("early_stopping")
    if stopping:
        lines.append(f"early stop  {_stopping_text(stopping)}")
    withheld = (card.extra.get("labels_withheld") or {}).get("classes")
    if withheld:
        lines.append(f"labels withheld  {len(withheld)} lithologies: {', '.join(withheld)}")
    if "loss" in card.final:
        kept = card.final.get("epoch")
        which = f" (epoch {kept}, whose weights were kept)" if kept is not None else ""
        lines.append(f"final loss  {card.final['loss']:.6g}{which}")
    return lines + describe_architecture(card.architecture, card.n_parameters)


def describe_architecture(arch: Architecture, n_parameters: int | None = None) -> list[str]:
    """The network's sizes in two lines (as ``inspect`` prints them)."""
    indicators = " (+6 missing-value indicators: --missing mask)"
    lines = [
        f"architecture input {arch.input_dim}"
        + (indicators if arch.missing_indicators else "")
        + f", hidden {list(arch.hidden_dims)}, latent {arch.latent_dim}"
        + (f", {arch.n_classes} classes" if arch.n_classes is not None else "")
    ]
    count = arch.n_parameters if n_parameters is None else n_parameters
    return lines + [f"parameters  {count:,}"]


def _held_out_text(card: ModelCard) -> str:
    """The held-out boreholes in a line: how many, how drawn, the first few IDs."""
    ids = card.held_out_boreholes
    if not ids:
        return "none (trained on every borehole: its scores on this table are in-sample)"
    split = card.split or {}
    how = []
    if split.get("fraction") is not None:
        how.append(f"fraction {split['fraction']:g}")
    if split.get("split_seed") is not None:
        how.append(f"split seed {split['split_seed']}")
    if split.get("rows_held_out") is not None:
        how.append(f"{split['rows_held_out']:,} rows")
    shown = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"{len(ids)} boreholes ({'; '.join(how) or 'from a file'}): {shown}"


def _stopping_text(stopping: dict) -> str:
    """Early stopping in a line: the epoch kept, the epochs run, the validation set."""
    boreholes = stopping.get("validation_boreholes") or []
    return (
        f"epoch {stopping.get('best_epoch')} kept of {stopping.get('epochs_run')} run "
        f"(patience {stopping.get('patience')}); validated on {len(boreholes)} training "
        f"boreholes ({stopping.get('rows_validated', 0):,} rows, fraction "
        f"{stopping.get('fraction')}, validation seed {stopping.get('validation_seed')})"
    )


def _synthetic_text(card: ModelCard) -> str:
    """Whether the model was trained on SYNTHETIC data, as its card records it."""
    origin = card.origin
    if origin.synthetic:
        return f"yes: SYNTHETIC data (see {origin.evidence})" if origin.evidence else "yes"
    if "synthetic" in card.data:
        return "no (the table has no synthetic sidecar)"
    return "unknown (a card written before lilyvae recorded it)"
