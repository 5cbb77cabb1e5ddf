"""The entry points: :func:`bootstrap` and :func:`sweep` (a run directory each), and
:func:`train_many` and :func:`train_seeds` (members in memory, no files)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from lilyvae.data.tables import as_training_data
from lilyvae.errors import LilyVAEError
from lilyvae.runs.ensemble.backends import check_run_backend, open_backend, outcomes
from lilyvae.runs.ensemble.execute import (
    RunOptions,
    execute,
    rebuild_member,
    split_options,
    training_inputs,
)
from lilyvae.runs.ensemble.grid import (
    config_with,
    grid_cells,
    params_json,
    parse_grid,
    value_json,
)
from lilyvae.runs.ensemble.planning import (
    Member,
    check_borehole_ids,
    check_resample,
    member_seeds,
    plan_pack_tasks,
)
from lilyvae.runs.ensemble.results import EnsembleResult
from lilyvae.runs.ensemble.rundir import (
    EnsembleRun,
    open_run_dir,
    run_identity,
    settings_from_identity,
)
from lilyvae.training.config import TrainingConfig, make_config
from lilyvae.training.trainer import hide_labels, resolve_device


def _prepare(data, config, config_options: dict, resample: str):
    """The data as TrainingData (the rows the members train on: its fingerprint is
    theirs) and the configuration, checked before any work."""
    if config is None:
        config = make_config(**config_options)
    elif config_options:
        raise TypeError("give either a config or options, not both")
    data = as_training_data(data, keep_partial=config.missing == "mask").rows_for(config.missing)
    check_resample(resample)
    if resample == "boreholes":
        check_borehole_ids(data)
    return data, config


def _open_run(kind, data, config, resample, options: RunOptions, *, count, output_dir, extra):
    """The run in its directory; with the settings stored there when ``resume`` adopted
    them. Returns (run, config, resample, options, whether the settings were adopted)."""
    identity = run_identity(kind, config, data, options.split, resample, options.evaluation, extra)
    run, adopted = open_run_dir(
        EnsembleRun(kind, identity, count, Path(output_dir), data.origin), options.resume
    )
    if adopted:
        config, split, resample, evaluation = settings_from_identity(run.identity)
        options = dataclasses.replace(options, split=split, evaluation=evaluation)
    return run, config, resample, options, adopted


def bootstrap(
    data,
    config: TrainingConfig | None = None,
    *,
    n: int | None,
    output_dir: str | os.PathLike,
    resample: str = "rows",
    **options,
) -> EnsembleResult:
    """Train ``n`` bootstrap members of one configuration and summarise them.

    ``data``: a table path, DataFrame or TrainingData. Give a ``config`` or the
    options of :func:`lilyvae.make_config`; its ``seed`` is the base seed. The other
    ``options`` are those of :class:`RunOptions`: with a ``split``, members never see
    its boreholes and are scored on them (``evaluation``; None to skip). ``workers``:
    parallel packs (default: one per core; Ray: CPUs of the local instance).
    ``pack_size``: members per pack (default: spread over the workers, at most 16).
    See the package notes for the files written, resuming, and ``resume``.
    """
    run_options, config_options = split_options(options)
    if n is None and not run_options.resume:
        raise LilyVAEError("--n N is required (the number of members)")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise LilyVAEError(f"--n must be a positive integer, not {n!r}")
    check_run_backend(
        run_options.backend, run_options.workers, run_options.pack_size, run_options.ray_address
    )
    data, config = _prepare(data, config, config_options, resample)
    run, config, resample, run_options, adopted = _open_run(
        "bootstrap",
        data,
        config,
        resample,
        run_options,
        count={"n": n},
        output_dir=output_dir,
        extra={},
    )
    members = [
        Member(f"m{i:04d}", i, s, dataclasses.replace(config, seed=s), resample)
        for i, s in enumerate(member_seeds(config.seed, run.count["n"]))
    ]
    base = config.seed
    return execute(
        run,
        members,
        data,
        run_options,
        settings_from_directory=adopted,
        card_extra=lambda m: {"base_seed": base},
    )


def _sweep_members(cells, cell_configs, seeds: list[int], resample: str) -> list[Member]:
    """Seed j of every cell is the same seed: cells are compared on paired seeds."""
    members = []
    for c, (cell, config) in enumerate(zip(cells, cell_configs, strict=True)):
        for j, s in enumerate(seeds):
            key = f"c{c:03d}-s{j:02d}"
            config_s = dataclasses.replace(config, seed=s)
            members.append(Member(key, len(members), s, config_s, resample, cell=c, params=cell))
    return members


def sweep(
    data,
    base_config: TrainingConfig | None = None,
    grid: Sequence[str] | dict | None = None,
    *,
    seeds: int = 3,
    output_dir: str | os.PathLike,
    resample: str = "seed-only",
    **options,
) -> EnsembleResult:
    """Train every cell of a hyper-parameter grid with ``seeds`` seeds each.

    ``grid``: ``{"beta": [0.1, 0.5], "alpha": [0.1, 0.5]}`` or the command's
    ``["beta=0.1,0.5", "alpha=0.1,0.5"]``; every other setting comes from
    ``base_config`` (or the options of :func:`lilyvae.make_config`). The other
    ``options`` are those of :class:`RunOptions`, as for :func:`bootstrap`. Seed j is
    the same in every cell. Writes ``results.csv`` (a row per cell: mean and t interval
    of every metric over the seeds) besides the bootstrap's files.
    """
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise LilyVAEError(f"--seeds must be a positive integer, not {seeds!r}")
    if grid is None:
        raise LilyVAEError("--grid: give at least one NAME=VALUE1,VALUE2,...")
    parsed = parse_grid(grid)
    run_options, config_options = split_options(options)
    check_run_backend(
        run_options.backend, run_options.workers, run_options.pack_size, run_options.ray_address
    )
    data, base_config = _prepare(data, base_config, config_options, resample)
    cells = grid_cells(parsed)
    cell_configs = [config_with(base_config, **cell) for cell in cells]  # checks every value
    grid_json = {k: [value_json(v) for v in vs] for k, vs in parsed.items()}
    run, base_config, resample, run_options, adopted = _open_run(
        "sweep",
        data,
        base_config,
        resample,
        run_options,
        count={"seeds": seeds},
        output_dir=output_dir,
        extra={"grid": grid_json},
    )
    if adopted:
        cells = grid_cells(parse_grid(run.identity["grid"]))
        cell_configs = [config_with(base_config, **cell) for cell in cells]
    seed_list = member_seeds(base_config.seed, run.count["seeds"])
    base = base_config.seed
    return execute(
        run,
        _sweep_members(cells, cell_configs, seed_list, resample),
        data,
        run_options,
        settings_from_directory=adopted,
        card_extra=lambda m: {"base_seed": base, "cell": m.cell, "params": params_json(m.params)},
    )


def train_many(
    X: torch.Tensor,
    labels: torch.Tensor | None,
    config: TrainingConfig,
    seeds: Sequence[int],
    rows: Sequence[np.ndarray | None] | None = None,
    *,
    n_classes: int | None = None,
    pack_size: int | None = None,
    workers: int | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    validation_rows: np.ndarray | None = None,
) -> list[dict]:
    """Train one member per seed on scaled inputs, in packs, and return their outputs
    in seed order (dicts of :func:`run_pack`; a failed pack's members get ``error``).

    No files: the building block of :func:`bootstrap` and :func:`sweep`, for
    notebooks and benchmarks. ``rows[i]`` are member i's row indices (None: all).
    With ``config.early_stopping``, ``validation_rows`` (indices into ``X``, in no
    member's rows) are the rows every member validates on.
    """
    check_run_backend(backend, workers, pack_size, ray_address)
    rows = list(rows) if rows is not None else [None] * len(seeds)
    # Each member trains from its own seed; the packs get ``config`` as it is given.
    members = [Member(str(i), i, s, config, "given") for i, s in enumerate(seeds)]
    out: list[dict] = [{}] * len(members)
    failed = {"state": None, "history": None, "wall_s": None}
    with open_backend(backend, ray_address, workers, resolve_device(config.device)) as k:
        tasks = plan_pack_tasks(
            members, k, pack_size, lambda m: rows[m.index], n_classes, validation_rows
        )
        for task, outputs, error in outcomes(tasks, X, labels, backend, k, lambda t, e: None):
            for j, key in enumerate(task.keys):
                out[int(key)] = (
                    outputs[j]
                    if outputs is not None
                    else failed | {"seed": task.seeds[j], "error": error}
                )
    return out


def _check_same_validation(configs) -> None:
    """The packs of :func:`train_seeds` share their scaled rows, so every configuration
    must draw the same validation boreholes (or none): the scaler is fitted without them."""
    drawn = {
        None if c.early_stopping is None else (c.validation_boreholes, c.validation_seed)
        for c in configs
    }
    if len(drawn) > 1:
        raise LilyVAEError(
            "these configurations validate on different boreholes (early stopping on in "
            "some only, or other validation settings); train them apart"
        )


def train_seeds(
    data,
    configs: Mapping[str, TrainingConfig],
    seeds: Sequence[int],
    *,
    split=None,
    withhold_labels: Sequence[str] = (),
    workers: int | None = None,
) -> dict[str, list]:
    """Train every configuration once per seed, as packs (one pack per configuration),
    and return each one's :class:`~lilyvae.model.checkpoint.TrainedModel`s in seed order.

    Each member is the model :func:`lilyvae.train` makes for that seed (on the CPU, the
    very bytes), with the card it writes: the ``split``'s boreholes left out, and the
    labels of ``withhold_labels`` hidden from the semi-supervised configurations
    (recorded in their cards). Packs train in parallel processes (``workers``, default
    one per core). A member whose training diverges is an error naming it.
    """
    data = as_training_data(data)
    _check_same_validation(configs.values())
    hidden, record = hide_labels(data, withhold_labels) if withhold_labels else (data, None)
    inputs = {
        name: training_inputs(hidden if c.has_head else data, split, c)
        for name, c in configs.items()
    }
    members = [
        Member(f"{name}:{j}", i * len(seeds) + j, s, dataclasses.replace(c, seed=s), "seed-only")
        for i, (name, c) in enumerate(configs.items())
        for j, s in enumerate(seeds)
    ]
    # Every input has the same scaled rows; unsupervised packs ignore the labels, so
    # the packs share a semi-supervised configuration's (hidden labels, classes).
    semi = [name for name, c in configs.items() if c.has_head]
    shared = inputs[semi[0] if semi else next(iter(configs))]
    out: dict[str, list] = {name: [None] * len(seeds) for name in configs}
    with open_backend("local", None, workers, shared.device) as k:
        tasks = plan_pack_tasks(
            members,
            k,
            len(seeds),
            lambda m: shared.member_rows("seed-only", m.seed),
            shared.n_classes,
            shared.validation_rows,
        )
        by_key = {m.key: m for m in members}
        finished = outcomes(tasks, shared.X, shared.labels, "local", k, lambda t, e: None)
        for task, outputs, error in finished:
            for j, key in enumerate(task.keys):
                member, result = by_key[key], None if outputs is None else outputs[j]
                name = key.rsplit(":", 1)[0]
                reason = error if result is None else result["error"]
                if reason is not None:
                    raise LilyVAEError(f"{data.source}: {name}, seed {member.seed}: {reason}")
                model = rebuild_member(member, result, inputs[name])
                if record is not None and member.config.has_head:
                    model.card = model.card.with_extra(labels_withheld=record)
                out[name][member.index % len(seeds)] = model
    return out
