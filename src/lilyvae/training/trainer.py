"""Training: one trainer for both models and every recipe.

:func:`train` is the user's entry point (a table or :class:`TrainingData` in, a
:class:`TrainedModel` out). Underneath, :func:`train_members` trains K members of one
architecture together on the engine of :mod:`lilyvae.training.engine`; a single model is a
stack of one. Each member has its own seed, its own rows (all rows, or a bootstrap
resample), and its own random stream for data order, posterior noise, input masks
and dropout, so a member is the same model whether it trains alone or in a pack.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from lilyvae.data.scaling import DistributionAwareScaler, fit_scaler
from lilyvae.data.schema import FEATURE_COLS
from lilyvae.data.splits import BoreholeSplit
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.training.config import TrainingConfig, make_config
from lilyvae.training.early_stopping import EarlyStopping, ValidationSplit, draw_validation
from lilyvae.training.helper import StepHelper
from lilyvae.training.pack_run import MemberResult, MemberSpec, PackRun


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise LilyVAEError(f"device {name!r} asked for, but no CUDA device is available")
    return torch.device(name)


def make_deterministic(seed: int) -> None:
    """The specification's full reproducibility recipe, plus deterministic algorithms."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True)


def train_members(
    X: torch.Tensor,
    labels: torch.Tensor | None,
    members: Sequence[MemberSpec],
    config: TrainingConfig,
    n_classes: int | None = None,
    progress: Callable[[int, list[dict]], None] | None = None,
    *,
    fused: bool | None = None,
    helper_thread: bool = False,
    validation_rows: np.ndarray | None = None,
) -> list[MemberResult]:
    """Train K members of one architecture together: the one trainer of the package.

    ``X`` holds scaled inputs (N, 6), ``labels`` class indices (N,) with -1 where
    unlabelled (None for the unsupervised model). Every member trains on the same
    number of rows. ``progress(epoch, rows)`` is called after each epoch with one
    history row per member. A member whose loss stops being finite is marked failed
    (its ``error`` says when) and stops counting; the others train on, unaffected,
    since members share no arithmetic.

    A member's numbers do not depend on the pack it trains in, its size included (see
    :mod:`lilyvae.training.layers`): an ensemble member has the bytes of the same seed
    trained alone. ``fused`` picks the engine's batch-norm kernels (default: the fused
    numba kernels on the CPU, PyTorch operations elsewhere; ``False`` runs on the CPU
    what a GPU runs). On the CPU, training runs on one
    intra-op thread: these operations are too small to split across cores (two
    threads gain little and lose badly on a busy machine); ensembles use the other
    cores by training packs in parallel processes. ``helper_thread`` (CPU only) gives
    the step's independent work, the weight gradients and the classifier head, to a
    second thread (:mod:`lilyvae.training.helper`): for a model trained alone on a
    machine with a core to spare; the bytes are the same either way.

    With ``config.early_stopping``, each member is scored after every epoch on
    ``validation_rows`` (indices into ``X``, rows no member trains on; see
    :mod:`lilyvae.training.early_stopping`), stops after that many epochs without a lower
    validation loss, and keeps its best epoch's weights; its result's ``stopping`` says
    when and why.
    """
    if config.has_head and labels is None:
        raise LilyVAEError("the semi-supervised model needs labels")
    if X.shape[0] == 0:
        raise LilyVAEError("no rows to train on")
    if config.missing == "drop" and not bool(torch.isfinite(X).all()):
        raise LilyVAEError(
            "some inputs are missing (NaN): train with missing='mask', or keep only the "
            "complete rows (TrainingData.rows_for('drop'))"
        )
    device = resolve_device(config.device)
    if config.deterministic:
        make_deterministic(config.seed)
    run = PackRun(X, labels, members, config, n_classes, device, fused)
    stopping = _early_stopping(X, labels, validation_rows, config, run.k)
    terms = run.terms + ["beta", "lr", "epoch_seconds"] + (stopping.terms if stopping else [])
    histories = [{t: [] for t in terms} for _ in members]
    errors: list[str | None] = [None] * run.k
    # Tiny gradients and Adam moments underflow to subnormal floats, which x86 cores
    # process many times slower; flushing them to zero changes nothing measurable.
    flush = device.type == "cpu" and torch.set_flush_denormal(True)
    # One intra-op thread on the CPU (see above).
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
        if helper_thread:
            run.stack.helper = StepHelper(bool(flush))
    try:
        _run_epochs(run, config.epochs, histories, errors, stopping, progress)
    finally:
        if run.stack.helper is not None:
            run.stack.helper.close()
            run.stack.helper = None
        torch.set_num_threads(threads)
        if flush:
            torch.set_flush_denormal(False)
    return [
        _member_result(run, j, members[j], histories[j], errors[j], stopping) for j in range(run.k)
    ]


def _member_result(run: PackRun, j: int, member, history, error, stopping) -> MemberResult:
    """Member ``j``'s model (its best epoch's with early stopping, else the last) and
    its history and fate."""
    model, record = run.stack.to_module(j), None
    if stopping is not None:
        model = stopping.model(j, model)
        record = stopping.record(j, len(history["loss"]))
    return MemberResult(model, history, member.seed, error, record)


def _early_stopping(X, labels, validation_rows, config: TrainingConfig, k: int):
    """The pack's :class:`EarlyStopping`, or None when the configuration has none."""
    if config.early_stopping is None:
        return None
    if validation_rows is None:
        raise LilyVAEError("early stopping needs validation rows (validation_rows=)")
    return EarlyStopping(X, labels, validation_rows, config, k)


def _run_epochs(run: PackRun, epochs: int, histories, errors, stopping, progress) -> None:
    """Train a pack epoch by epoch into ``histories``, until the last epoch or until
    every member has failed or (early stopping) stopped."""
    for epoch in range(epochs):
        # No tensor of the hand-written engine needs autograd; inference mode also
        # skips its view and version-counter bookkeeping, a good part of a tiny
        # step's cost (about 15% of a single model's epoch).
        with torch.inference_mode():
            rows = run.run_epoch(epoch)
        for j, row in enumerate(rows):
            # A stopped member is stepped on with its pack but its fate is settled:
            # what happens to it now is neither recorded nor kept.
            if errors[j] is not None or (stopping is not None and not stopping.training(j)):
                continue
            if not np.isfinite(row["loss"]):
                errors[j] = f"diverged: non-finite loss at epoch {epoch + 1}"
                continue
            if stopping is not None:
                stopping.after_epoch(epoch, j, run.stack.to_module(j), row)
            for key, value in row.items():
                histories[j][key].append(value)
        if all(
            errors[j] is not None or (stopping is not None and not stopping.training(j))
            for j in range(run.k)
        ):
            break
        if progress is not None:
            progress(epoch, rows)


# --- the user's entry point ---------------------------------------------------------------


def scale_for_training(
    data: TrainingData,
    scaler: DistributionAwareScaler | None = None,
    *,
    validation: ValidationSplit | None = None,
):
    """Fit the scaler on the training rows (unless given; with a ``validation`` split,
    on the rows it leaves to train on) and return tensors of every row of ``data`` for
    the trainer. A missing input (NaN) stays NaN; each feature's statistics come from
    its observed values."""
    if scaler is None:
        fitted = data.features if validation is None else data.features[validation.fit_rows]
        scaler = fit_scaler(fitted, data.source, allow_missing=True)
    X = torch.as_tensor(scaler.transform(data.features, allow_missing=True), dtype=torch.float32)
    labels = torch.as_tensor(data.labels, dtype=torch.int64)
    return scaler, X, labels


def _progress_bar(config: TrainingConfig, quiet: bool):
    """Epochs and the current loss: a bar on a terminal, a line per epoch in a log
    (:class:`lilyvae.progress.Progress`), or nothing when quiet."""
    if quiet:
        return None, None
    from lilyvae.progress import Progress

    bar = Progress(config.epochs, f"training {config.model}/{config.recipe.name}", "epoch")

    def update(epoch: int, rows: list[dict]) -> None:
        loss = float(np.mean([r["loss"] for r in rows]))
        bar.update(1, f"loss {loss:.4g}")

    return bar, update


def train(
    data,
    config: TrainingConfig | None = None,
    *,
    split: BoreholeSplit | None = None,
    withhold_labels: Sequence[str] = (),
    quiet: bool = True,
    **options,
):
    """Train one model and return a :class:`~lilyvae.model.checkpoint.TrainedModel`.

    ``data`` is a table path, a DataFrame or :class:`TrainingData`. Give a
    ``config`` or the options of :func:`make_config` (``model=``, ``recipe=``,
    ``epochs=``, ``beta=``, ``missing=`` ...). With a ``split``, its held-out boreholes
    are left out and recorded in the model card. The scaler is fitted on the rows
    trained on. ``missing="drop"`` (the default) trains on the rows with all six
    inputs; ``missing="mask"`` on every row with one (a table or DataFrame is then read
    with its partial rows).
    ``withhold_labels`` names lithologies whose rows train the VAE terms but whose
    labels never reach a classification head (for zero-shot evaluation); the card
    records them. With ``early_stopping=PATIENCE`` a fraction ``validation_boreholes``
    of the boreholes left to train on is validated on after every epoch (never trained
    on, never one of the ``split``'s), training stops after PATIENCE epochs without a
    lower validation loss, and the model keeps its best epoch's weights; the card's
    ``early_stopping`` section says which boreholes, which epoch and why.
    """
    from lilyvae.data.tables import as_training_data

    if config is None:
        config = make_config(**options)
    elif options:
        raise TypeError("give either a config or options, not both")
    partial = config.missing == "mask"
    data = as_training_data(data, keep_partial=partial).rows_for(config.missing)
    extra = {}
    if withhold_labels:
        data, extra["labels_withheld"] = hide_labels(data, withhold_labels)
    if config.has_head and data.n_labelled == 0:
        raise LilyVAEError(
            f"{data.source}: no labelled rows (column 'Principal' is empty or absent); "
            "the semi-supervised model needs lithology labels"
        )
    full = data
    if split is not None:
        data = data.subset(~split.holdout_mask(data.boreholes))
    if config.has_head and data.n_labelled == 0:
        raise LilyVAEError(f"{full.source}: no labelled rows left after holding out boreholes")
    device = resolve_device(config.device)
    start = time.perf_counter()
    validation = draw_validation(data, config)
    scaler, X, labels = scale_for_training(data, validation=validation)
    n_classes = len(data.class_names) if config.has_head else None
    bar, update = _progress_bar(config, quiet)
    spec = MemberSpec(config.seed, None if validation is None else validation.fit_rows)
    try:
        (result,) = train_members(
            X,
            labels if config.has_head else None,
            [spec],
            config,
            n_classes=n_classes,
            progress=update,
            # Off: measured 0.71x (slower) on a quiet 2-core AMD EPYC, the hand-overs
            # cost more than the overlap saves at these sizes (docs/speed.md).
            helper_thread=False,
            validation_rows=None if validation is None else validation.rows,
        )
    finally:
        if bar is not None:
            bar.close()
    wall = time.perf_counter() - start
    if result.error is not None:
        raise LilyVAEError(f"{data.source}: training {result.error}; try a smaller --lr")
    return trained_model(
        result, config, scaler, full, data, split, device, wall, extra=extra, validation=validation
    )


def hide_labels(data: TrainingData, names: Sequence[str]) -> tuple[TrainingData, dict]:
    """The table with these lithologies' labels removed, and the card's record of it
    (its ``labels_withheld`` section): :func:`train`'s ``withhold_labels``."""
    unknown = sorted(set(names) - set(data.class_names))
    if unknown:
        raise LilyVAEError(f"{data.source}: cannot withhold unknown lithology {unknown[0]!r}")
    index = {n: i for i, n in enumerate(data.class_names)}
    hidden = np.isin(data.labels, [index[n] for n in names])
    record = {
        "classes": list(names),
        "reason": "zero-shot evaluation: these lithologies' rows trained the VAE "
        "terms but their labels never reached the classification head",
    }
    return dataclasses.replace(data, labels=np.where(hidden, -1, data.labels)), record


def trained_model(
    result: MemberResult,
    config: TrainingConfig,
    scaler: DistributionAwareScaler,
    full: TrainingData,
    trained: TrainingData,
    split: BoreholeSplit | None,
    device: torch.device | str,
    wall_s: float,
    *,
    rows_trained: int | None = None,
    extra: dict | None = None,
    validation: ValidationSplit | None = None,
):
    """A :class:`~lilyvae.model.checkpoint.TrainedModel` with its model card, for one trained
    member: the card of :func:`train` and of every ensemble member.

    ``full`` is the table's usable rows, ``trained`` the rows left after holding out
    the ``split``'s boreholes (the scaler was fitted on them). ``rows_trained`` is the
    number of rows the member drew from them (default: all of them, less the
    ``validation`` split's when early stopping drew one); ``extra`` adds sections to the
    card (an ensemble member's run, index and resample). With early stopping the card's
    ``early_stopping`` section names the validation boreholes, the epoch whose weights
    were kept, and why training stopped.
    """
    from lilyvae.model.card import ModelCard, kept_final
    from lilyvae.model.checkpoint import TrainedModel, environment, state_dict_bytes

    module = result.model
    semi = config.has_head
    n_classes = len(trained.class_names) if semi else None
    extra = dict(extra or {})
    if validation is not None:
        rows = len(validation.fit_rows) if rows_trained is None else int(rows_trained)
        extra["early_stopping"] = validation.to_dict() | (result.stopping or {})
    else:
        rows = trained.n_rows if rows_trained is None else int(rows_trained)
    split_info = None
    if split is not None:
        split_info = split.to_dict() | {"rows_held_out": full.n_rows - trained.n_rows}
    arch = config.architecture(n_classes)
    card = ModelCard(
        kind=config.model,
        architecture=arch,
        n_parameters=int(sum(p.numel() for p in module.parameters())),
        training=config.to_dict() | {"device": str(device)},
        input_columns=tuple(FEATURE_COLS),
        scaler=scaler.to_dict(),
        class_names=tuple(trained.class_names) if semi else (),
        data=full.provenance() | {"rows_trained": rows},
        split=split_info,
        seed=config.seed,
        # the history row of the epoch whose weights the model has (early stopping may
        # have kept an earlier one than the last)
        final=(
            kept_final(result.history, extra["early_stopping"])
            if "early_stopping" in extra
            else {k: v[-1] for k, v in result.history.items()}
        ),
        environment=environment(),
        wall_time_s=round(wall_s, 3),
        checkpoint_sha256=hashlib.sha256(state_dict_bytes(module)).hexdigest(),
        extra=extra,
    )
    return TrainedModel(module, scaler, card, result.history)
