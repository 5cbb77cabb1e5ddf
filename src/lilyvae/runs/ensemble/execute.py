"""Running a run: train the members not finished yet, score them, write their files.

Packs are planned by :func:`~lilyvae.runs.ensemble.planning.plan_pack_tasks`, trained
by a backend, and each finished pack becomes member files at once (checkpoint, history,
model card with an ``ensemble`` section), so an interrupted run keeps what it trained.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from lilyvae.data.scaling import DistributionAwareScaler
from lilyvae.data.splits import BoreholeSplit
from lilyvae.data.tables import TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.runs.ensemble.backends import open_backend, outcomes
from lilyvae.runs.ensemble.planning import Member, PackTask, plan_pack_tasks, resample_rows
from lilyvae.runs.ensemble.results import EnsembleResult, write_results
from lilyvae.runs.ensemble.rundir import EnsembleRun, RunRecord, read_record
from lilyvae.runs.ensemble.scoring import MemberEvaluation, evaluation_rows, score_members
from lilyvae.training.config import TrainingConfig
from lilyvae.training.early_stopping import ValidationSplit, draw_validation
from lilyvae.training.pack_run import MemberResult
from lilyvae.training.trainer import resolve_device, scale_for_training, trained_model


@dataclass(frozen=True)
class RunOptions:
    """How a run's members train and are scored: the keywords :func:`bootstrap` and
    :func:`sweep` share."""

    split: BoreholeSplit | None = None  # boreholes members never see, and are scored on
    backend: str = "local"  # "local" (forked processes) or "ray"
    ray_address: str | None = None  # a Ray cluster to join (default: a local instance)
    workers: int | None = None  # packs at once (default: one per core; Ray: its CPUs)
    pack_size: int | None = None  # members a pack (default: spread over the workers)
    resume: bool = False  # continue the run the directory holds, with its settings
    evaluation: MemberEvaluation | None = MemberEvaluation()  # None: members are not scored
    quiet: bool = True  # no progress bars


RUN_OPTIONS = frozenset(f.name for f in dataclasses.fields(RunOptions))


def split_options(options: dict) -> tuple[RunOptions, dict]:
    """Keyword options as :class:`RunOptions` and the rest (:func:`make_config`'s)."""
    ours = {k: v for k, v in options.items() if k in RUN_OPTIONS}
    rest = {k: v for k, v in options.items() if k not in RUN_OPTIONS}
    return RunOptions(**ours), rest


@dataclass(frozen=True)
class TrainingInputs:
    """What every pack of a run trains on, and what its members' cards are built from."""

    full: TrainingData  # the table's usable rows
    trained: TrainingData  # the rows left after holding out the split's boreholes
    split: BoreholeSplit | None
    scaler: DistributionAwareScaler  # fitted on ``trained``
    X: torch.Tensor
    labels: torch.Tensor
    n_classes: int | None
    device: torch.device
    validation: ValidationSplit | None = None  # early stopping's boreholes, in ``trained``

    def member_rows(self, resample: str, seed: int) -> np.ndarray | None:
        """A member's training rows (indices into ``X``): its resample of the rows left
        to train on, which exclude the validation boreholes when there are some."""
        if self.validation is None:
            return resample_rows(self.trained.n_rows, self.trained.boreholes, resample, seed)
        fit = self.validation.fit_rows
        drawn = resample_rows(len(fit), self.trained.boreholes[fit], resample, seed)
        return fit if drawn is None else fit[drawn]

    @property
    def validation_rows(self) -> np.ndarray | None:
        return None if self.validation is None else self.validation.rows


def training_inputs(
    data: TrainingData, split: BoreholeSplit | None, config: TrainingConfig
) -> TrainingInputs:
    data = data.rows_for(config.missing)
    trained = data if split is None else data.subset(~split.holdout_mask(data.boreholes))
    if trained.n_rows == 0:
        raise LilyVAEError(f"{data.source}: no rows left after holding out boreholes")
    semi = config.has_head
    if semi and trained.n_labelled == 0:
        raise LilyVAEError(
            f"{data.source}: no labelled rows; the semi-supervised model needs lithology labels"
        )
    validation = draw_validation(trained, config)
    scaler, X, labels = scale_for_training(trained, validation=validation)
    n_classes = len(trained.class_names) if semi else None
    device = resolve_device(config.device)
    return TrainingInputs(data, trained, split, scaler, X, labels, n_classes, device, validation)


def rebuild_member(member: Member, result: dict, inputs: TrainingInputs):
    """The member's TrainedModel (module from the state dict, card from the shared builder)."""
    from lilyvae.model.networks import build_model

    config = member.config
    module = build_model(config.model, config.architecture(inputs.n_classes))
    module.load_state_dict(result["state"])
    module.eval()
    res = MemberResult(module, result["history"], result["seed"], None, result.get("stopping"))
    # Every resample has as many rows as the training rows (duplicates counted).
    return trained_model(
        res,
        config,
        inputs.scaler,
        inputs.full,
        inputs.trained,
        inputs.split,
        inputs.device,
        result["wall_s"],
        validation=inputs.validation,
    )


def ensemble_section(
    run: EnsembleRun,
    member: Member,
    rows: np.ndarray | None,
    inputs: TrainingInputs,
    pack_size: int,
    metrics: dict | None,
) -> dict:
    """The card's ``ensemble`` section: the run, the member, its rows and its metrics."""
    n = inputs.trained.n_rows
    return {
        "run": run.run_id,
        "kind": run.kind,
        "member": member.key,
        "index": member.index,
        "seed": member.seed,
        "resample": member.resample,
        "rows": n if rows is None else int(len(rows)),
        "unique_rows": n if rows is None else int(len(np.unique(rows))),
        "pack_size": pack_size,
        "metrics": metrics,
    }


class _PackWriter:
    """Turns each finished pack into member files and entries of the record."""

    def __init__(
        self,
        run: EnsembleRun,
        todo: list[Member],
        inputs: TrainingInputs,
        evaluation: MemberEvaluation | None,
        record: RunRecord,
        card_extra: Callable[[Member], dict],
    ):
        self.run = run
        self.members = {m.key: m for m in todo}
        self.inputs = inputs
        self.evaluation = evaluation
        self.eval_data = None
        if evaluation is not None and inputs.split is not None:
            self.eval_data = evaluation_rows(inputs.full, evaluation)
        self.record = record
        self.card_extra = card_extra

    def take(self, task: PackTask, outputs: list[dict] | None, pack_error: str | None) -> None:
        done = []
        for i, key in enumerate(task.keys):
            member = self.members[key]
            result = outputs[i] if outputs is not None else None
            reason = pack_error if result is None else result["error"]
            if reason is not None:
                self.record.failed(member, reason)
            else:
                done.append((member, result, task.rows[i]))
        models = {m.key: rebuild_member(m, result, self.inputs) for m, result, _ in done}
        scores = self._score(models)
        for member, _result, rows in done:
            model = models[member.key]
            section = ensemble_section(
                self.run, member, rows, self.inputs, len(task.keys), scores.get(member.key)
            )
            # The card the shared builder made, with the member's section: a new card.
            model.card = model.card.with_extra(ensemble=section | self.card_extra(member))
            model.save(self.run.member_path(member.key))
            self.record.finished(member, model.card.to_dict())

    def _score(self, models: dict) -> dict:
        if not models or self.eval_data is None:
            return {}
        scores, baseline = score_members(
            models, self.eval_data, self.evaluation, with_baseline=not self.record.baseline
        )
        self.record.baseline = self.record.baseline or baseline
        return scores


class _Progress:
    """Members done and epochs of packs: bars on a terminal, lines in a log
    (:class:`lilyvae.progress.Progress`), or nothing."""

    def __init__(self, members: int, pack_epochs: int, quiet: bool, desc: str):
        self.members = self.epochs = None
        if quiet or members == 0:
            return
        from lilyvae.progress import Progress

        self.members = Progress(members, desc, "member", position=0)
        if pack_epochs:
            self.epochs = Progress(pack_epochs, "pack epochs", "epoch", position=1)

    def epoch(self) -> None:
        if self.epochs is not None:
            self.epochs.update(1)

    def done(self, k: int, failed: int) -> None:
        if self.members is not None:
            self.members.update(k, f"{failed} failed" if failed else "")

    def close(self) -> None:
        for bar in (self.epochs, self.members):
            if bar is not None:
                bar.close()


def _train(
    run: EnsembleRun,
    todo: list[Member],
    inputs: TrainingInputs,
    options: RunOptions,
    record: RunRecord,
    card_extra: Callable[[Member], dict],
) -> None:
    """Train ``todo`` in packs on the run's backend, recording each pack as it ends."""
    writer = _PackWriter(run, todo, inputs, options.evaluation, record, card_extra)
    with open_backend(
        options.backend, options.ray_address, options.workers, inputs.device
    ) as workers:
        tasks = plan_pack_tasks(
            todo,
            workers,
            options.pack_size,
            lambda m: inputs.member_rows(m.resample, m.seed),
            inputs.n_classes,
            inputs.validation_rows,
        )
        # Ray tasks report no epochs; local packs do.
        epochs = 0 if options.backend == "ray" else sum(t.config.epochs for t in tasks)
        progress = _Progress(len(todo), epochs, options.quiet, f"{run.kind} {run.output_dir.name}")
        finished = outcomes(
            tasks, inputs.X, inputs.labels, options.backend, workers, lambda t, e: progress.epoch()
        )
        try:
            for task, outputs, pack_error in finished:
                writer.take(task, outputs, pack_error)
                progress.done(len(task.keys), len(record.failures))
                record.save(run)
        finally:
            progress.close()


def execute(
    run: EnsembleRun,
    members: list[Member],
    data: TrainingData,
    options: RunOptions,
    *,
    settings_from_directory: bool,
    card_extra: Callable[[Member], dict],
) -> EnsembleResult:
    """Train the members not finished yet, write cards, tables and the summary.

    ``card_extra(member)`` adds to a member's ``ensemble`` card section what its kind
    of run knows (the base seed; a sweep's cell and parameters)."""
    # The inputs are checked before the directory is made: a run that cannot start (a
    # semi-supervised model on a table without labels) leaves nothing behind that would
    # refuse the corrected command as "a different run".
    inputs = training_inputs(data, options.split, members[0].config)
    run.create()
    record = read_record(run, members)
    todo = record.todo(members)
    if todo:
        try:
            _train(run, todo, inputs, options, record, card_extra)
        except KeyboardInterrupt:
            # What finished is on disk; the tables say what is missing. Re-run to resume.
            write_results(run, members, record, settings_from_directory)
            raise
    result = write_results(run, members, record, settings_from_directory)
    return dataclasses.replace(result, replaced_unstarted_run=run.replaces_unstarted)
