"""Adopting a model trained elsewhere: a plain state dict becomes a usable model.

The reference's published ``unsup.pt`` and ``semisup.pt`` are weights only: no scaler,
no class names, no card, so nothing can embed raw measurements with them. Adopting one
rebuilds what the reference's own scripts did around the weights:

- the network, from the shapes of the weights (checked: kind, shapes, finite values);
- the scaler, fitted the reference's way: on every usable row of a table (the
  reference fitted its scaler on all rows of its training table, with no split);
- for the semi-supervised model, the class names: the table's lithology names in
  sorted order, as the reference's LabelEncoder numbered the classifier's outputs.

The result is a :class:`~lilyvae.model.checkpoint.TrainedModel` whose card says where
its parts came from (its ``adopted`` section): ``embed``, ``evaluate``, ``figures``,
``report`` and ``properties`` then read it like any model lilyvae trained. The scaler
is only as right as the table: it should be the table the weights were trained on
(for the published models, the real 20 cm training table).
"""

from __future__ import annotations

import os
from pathlib import Path

from lilyvae.data.scaling import fit_scaler
from lilyvae.data.schema import FEATURE_COLS
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.files import sha256_file
from lilyvae.model.architecture import MODEL_KINDS, Architecture
from lilyvae.model.card import ModelCard
from lilyvae.model.checkpoint import (
    TrainedModel,
    architecture_of_state_dict,
    check_finite_state,
    check_state_dict,
    environment,
    kind_of_state_dict,
    read_state_dict,
)
from lilyvae.model.networks import build_model

#: What an adopted card's ``training`` section says: lilyvae did not train the weights.
NOT_RECORDED = "not recorded: the weights were trained outside lilyvae (see 'adopted')"
#: The recipe an adopted card names when the user does not say which one trained it.
UNKNOWN_RECIPE = "unknown"


def provenance_text(checkpoint: str | os.PathLike, table: str) -> str:
    """The one line an adopted card gives as its provenance."""
    return f"adopted: weights from {checkpoint}, scaler fitted by lilyvae on {table}"


def _as_data(data) -> TrainingData:
    from lilyvae.data.tables import load_training_data, training_data_from_frame

    if isinstance(data, TrainingData):
        return data
    if isinstance(data, (str, os.PathLike)):
        return load_training_data(data)
    return training_data_from_frame(data)


def _network(path: Path, model: str):
    """The network of a state dict, checked (a VAE of the kind asked for, sizes, shapes
    and finite values), and its architecture."""
    if model not in MODEL_KINDS:
        raise LilyVAEError(f"--model must be one of {', '.join(MODEL_KINDS)}, not {model!r}")
    state = read_state_dict(path)
    try:
        arch = architecture_of_state_dict(state)
    except LilyVAEError as exc:
        raise LilyVAEError(f"{path}: {exc}") from None
    kind = kind_of_state_dict(state)
    if kind != model:
        raise LilyVAEError(f"{path}: holds a {kind} model, not {model}")
    problems = arch.problems()  # checked before a network is built
    if problems:
        raise LilyVAEError(f"{path}: {problems[0]}")
    if arch.input_dim != len(FEATURE_COLS):
        raise LilyVAEError(
            f"{path}: the network reads {arch.input_dim} inputs; lilyvae's models read the "
            f"{len(FEATURE_COLS)} columns {', '.join(FEATURE_COLS)}"
        )
    module = build_model(kind, arch)
    check_state_dict(state, module, path)
    check_finite_state(state, path)
    module.load_state_dict(state)
    return module.eval(), arch


def _class_names(data: TrainingData, arch: Architecture, path: Path) -> tuple[str, ...]:
    """The table's lithologies in sorted order: output i of the head is the i-th name."""
    if arch.n_classes is None:
        return ()
    if len(data.class_names) != arch.n_classes:
        raise LilyVAEError(
            f"{data.source}: {len(data.class_names)} lithologies, but the classifier of "
            f"{path} has {arch.n_classes} outputs; adopt it with the table it was trained "
            "on (its sorted lithology names number the outputs)"
        )
    return data.class_names


def adopt(
    checkpoint: str | os.PathLike, model: str, data, recipe: str | None = None
) -> TrainedModel:
    """A usable model from a plain state dict (for example the reference's ``unsup.pt``).

    ``model`` is the kind the file must hold (``unsupervised`` or ``semisupervised``);
    ``data`` a table path, DataFrame or :class:`TrainingData`: the scaler is fitted on
    all its usable rows, and its sorted lithology names name a semi-supervised head's
    outputs. ``recipe``, when known, names the recipe that trained the weights (the
    published models: ``standard``); the card says ``unknown`` otherwise. Nothing is
    written; call ``.save(path)`` on the result.
    """
    from lilyvae.model.recipes import RECIPES

    if recipe is not None and recipe not in RECIPES:
        raise LilyVAEError(f"--recipe must be one of {', '.join(RECIPES)}, not {recipe!r}")
    path = Path(checkpoint)
    module, arch = _network(path, model)
    data = _as_data(data)
    class_names = _class_names(data, arch, path)
    scaler = fit_scaler(data.features, data.source)
    adopted = {
        "provenance": provenance_text(path, data.source),
        "weights_file": str(path),
        "weights_sha256": sha256_file(path),
        "scaler": f"fitted on all {data.n_rows:,} usable rows of {data.source}, as the "
        "reference fitted its scaler on every row of its training table",
    }
    if class_names:
        adopted["class_names"] = (
            f"the {len(class_names)} lithology names of {data.source} in sorted order, as "
            "the reference's LabelEncoder numbered the classifier's outputs"
        )
    card = ModelCard(
        kind=model,
        architecture=arch,
        n_parameters=arch.n_parameters,
        training={"recipe": {"name": recipe or UNKNOWN_RECIPE}, "source": NOT_RECORDED},
        input_columns=tuple(FEATURE_COLS),
        scaler=scaler.to_dict(),
        class_names=class_names,
        # The table is what the scaler (and the class names) came from; the weights'
        # own training rows are unknown to lilyvae.
        data=data.provenance() | {"rows_trained": None, "used_for": "scaler and class names"},
        split=None,
        seed=None,
        final={},
        environment=environment(),
        wall_time_s=None,
        extra={"adopted": adopted},
    )
    return TrainedModel(module, scaler, card)
