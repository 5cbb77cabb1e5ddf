"""Ensembles: bootstrap members and hyper-parameter sweeps, many models at a time.

A single trained model says little; this module trains many and reports every metric
with an interval. Two entry points, each with a command of the same name:

- :func:`bootstrap`: N members of one configuration. Member i's seed comes from the
  base seed (``numpy.random.SeedSequence(base).spawn``), and its training rows are a
  resample drawn from its own seed: ``rows`` (n rows with replacement), ``boreholes``
  (whole boreholes with replacement, see :func:`resample_rows`) or ``seed-only`` (every
  row once; only the seed differs).
- :func:`sweep`: a grid over any training hyper-parameter, each cell with several
  seeds. Seed j is the same in every cell, so cells are compared on paired seeds.

How members are trained. Members of one configuration train together in *packs* of
up to ``pack_size`` (stacked weights, batched matrix products: the engine's
feature-major layout). Each member keeps its own random stream (initialisation, data
order, noise, masks, dropout) and its own rows, and in that layout its arithmetic is
its own: a member trains to the same bytes in any pack, of any size, alone included,
whichever process or machine trains it (CPUs of one kind). Packs run one after the
other in this process (``workers=1``), in parallel in forked worker processes
(``backend="local"``, the default: one per core), or as tasks on a Ray cluster
(``backend="ray"``); the results are identical.

A run directory holds:

- ``run.json``: the run manifest (kind, model, recipe, every hyper-parameter, the data
  fingerprint, held-out boreholes, N or the grid, the resampling, the base seed);
- ``members/<key>.pt`` with ``.json`` (history) and ``.meta.json`` (the model card, with
  an ``ensemble`` section: run, member, seed, resample, metrics), for every member that
  finished: each loads with :func:`lilyvae.load_model`;
- ``members.csv``: one row per member (status, seed, resample, final losses, evaluation
  metrics when held-out boreholes exist, and the reason of a failure);
- ``summary.json``: the mean and a 95% interval of every metric (bootstrap); per cell
  for a sweep, which also writes ``results.csv`` (one row per cell);
- ``failures.json``: members that failed (diverged, worker killed) and why.

Re-running the same command resumes: finished members (checkpoint and card present,
matching) are not trained again, failed ones are retried. A directory holding a
different run is refused, unless ``resume=True`` (``--resume``), which continues that
run with its own settings (and may raise N or the number of seeds).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
import json
import math
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lilyvae.data.tables import FEATURE_SHORT, BoreholeSplit, TrainingData
from lilyvae.errors import LilyVAEError
from lilyvae.files import sha256_file, write_json_atomic, write_text_atomic
from lilyvae.model.checkpoint import card_path, history_path
from lilyvae.train.trainer import (
    TrainingConfig,
    config_from_dict,
    make_config,
    resolve_device,
    scale_for_training,
    train_members,
    trained_model,
)

RUN_FORMAT = "lilyvae-ensemble-run"
RUN_VERSION = 1
SUMMARY_FORMAT = "lilyvae-ensemble-summary"
RESAMPLES = ("rows", "boreholes", "seed-only")
BACKENDS = ("local", "ray")
MAX_PACK = 16
LEVEL = 0.95
MEMBERS_DIR = "members"
RAY_INSTALL = "pip install 'lilyvae[ray]'"

#: Hyper-parameters a sweep may vary, and how their values are written.
GRID_INT = ("epochs", "batch_size", "anneal_epochs", "plateau_patience", "latent_dim")
GRID_FLOAT = (
    "lr",
    "beta",
    "alpha",
    "beta_start",
    "mask_ratio",
    "mask_weight",
    "grad_clip",
    "plateau_factor",
)
GRID_FIELDS = GRID_INT + GRID_FLOAT + ("hidden_dims",)

#: Scalars taken from :func:`lilyvae.analysis.evaluation.evaluate` for each member.
METRIC_PATHS: dict[str, tuple[str, ...]] = {
    "svm_accuracy": ("svm", "accuracy"),
    "svm_balanced_accuracy": ("svm", "balanced_accuracy"),
    "svm_macro_f1": ("svm", "macro_f1"),
    "linear_accuracy": ("linear", "accuracy"),
    "linear_balanced_accuracy": ("linear", "balanced_accuracy"),
    "gmm_ari": ("clustering", "ari"),
    "zero_shot_accuracy": ("zero_shot", "nearest_centroid_accuracy"),
    "head_accuracy": ("head", "accuracy"),
    "head_balanced_accuracy": ("head", "balanced_accuracy"),
    "active_dims": ("latent", "active_dims"),
    "kl_total": ("latent", "kl_total"),
    **{f"r2_{name}": ("reconstruction_r2", name) for name in FEATURE_SHORT},
}
LOSS_TERMS = ("loss", "recon", "kl", "masked", "class")


# --- seeds and resamples ---------------------------------------------------------------------


def member_seeds(base_seed: int, n: int) -> list[int]:
    """Seeds of members 0..n-1, derived from one base seed.

    ``SeedSequence(base).spawn(n)``: member i's seed depends only on the base seed and
    i (not on n), so a run extended to more members keeps the first ones.
    """
    root = np.random.SeedSequence(int(base_seed) % 2**64)
    return [int(child.generate_state(1, np.uint32)[0]) for child in root.spawn(n)]


def resample_rows(
    n_rows: int, boreholes: np.ndarray | None, how: str, seed: int
) -> np.ndarray | None:
    """A member's training rows (indices into ``n_rows`` rows), drawn from its seed.

    - ``"rows"``: n_rows rows drawn with replacement;
    - ``"boreholes"``: whole boreholes drawn with replacement, their rows appended in
      the order drawn until there are n_rows; the last borehole drawn is cut to fit.
      Every member of a pack needs the same number of rows, and a borehole resample
      of the usual size keeps the table's size: n_rows rows, from about as many
      boreholes as the table holds;
    - ``"seed-only"``: None (every row once).
    """
    if how == "seed-only":
        return None
    rng = np.random.default_rng([int(seed), 0xB007])  # the member's own stream
    if how == "rows":
        return rng.integers(0, n_rows, size=n_rows)
    if how != "boreholes":
        raise LilyVAEError(f"unknown resample {how!r}; choose one of {', '.join(RESAMPLES)}")
    if boreholes is None:
        raise LilyVAEError("--resample boreholes needs the table's 'Borehole_ID' column")
    ids, inverse = np.unique(boreholes, return_inverse=True)
    order = np.argsort(inverse, kind="stable")  # rows grouped by borehole, in table order
    counts = np.bincount(inverse, minlength=len(ids))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    pieces, total = [], 0
    while total < n_rows:
        for b in rng.integers(0, len(ids), size=len(ids)):
            pieces.append(order[starts[b] : starts[b] + counts[b]])
            total += int(counts[b])
            if total >= n_rows:
                break
    return np.concatenate(pieces)[:n_rows]


# --- members, packs and the plan of a run -----------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One model of a run: its file stem, seed, configuration and (sweep) cell."""

    key: str
    index: int
    seed: int
    config: TrainingConfig  # its seed is the member's seed
    resample: str
    cell: int | None = None
    params: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class PackTask:
    """What a worker needs to train one pack (plain data: it travels to processes)."""

    pack_id: int
    config: TrainingConfig
    seeds: list[int]
    rows: list[np.ndarray | None]
    n_classes: int | None
    keys: list[str]


def plan_packs(members: Sequence[Member], pack_size: int) -> list[list[Member]]:
    """Members grouped into packs: same configuration apart from the seed, in order,
    at most ``pack_size`` each (a member's result does not depend on its pack)."""
    groups: dict[TrainingConfig, list[Member]] = {}
    for m in members:
        groups.setdefault(dataclasses.replace(m.config, seed=0), []).append(m)
    packs = []
    for group in groups.values():
        for i in range(0, len(group), pack_size):
            packs.append(group[i : i + pack_size])
    return packs


def run_pack(
    X: torch.Tensor,
    labels: torch.Tensor | None,
    task: PackTask,
    progress: Callable[[int, list[dict]], None] | None = None,
) -> list[dict]:
    """Train one pack; what every backend runs. Returns one dict per member:
    ``seed``, ``state`` (state dict), ``history``, ``error``, ``wall_s``."""
    from lilyvae.train.trainer import MemberSpec

    start = time.perf_counter()
    specs = [MemberSpec(s, r) for s, r in zip(task.seeds, task.rows, strict=True)]
    semi = task.config.model == "semisupervised"
    results = train_members(
        X,
        labels if semi else None,
        specs,
        task.config,
        task.n_classes,
        progress,
        feature_major=True,
    )
    wall = time.perf_counter() - start
    return [
        {
            "seed": r.seed,
            "state": r.model.state_dict(),
            "history": r.history,
            "error": r.error,
            "wall_s": wall,
        }
        for r in results
    ]


# --- backends: where packs run ----------------------------------------------------------------

#: What a backend yields per pack: the task, the outputs of :func:`run_pack` or None,
#: and why the whole pack failed (None when it ran).
Outcome = tuple[PackTask, list[dict] | None, str | None]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def _run_in_process(tasks, X, labels, on_epoch) -> Iterator[Outcome]:
    for task in tasks:
        try:
            out = run_pack(X, labels, task, lambda e, rows, t=task: on_epoch(t, e))
        except (KeyboardInterrupt, LilyVAEError):
            raise
        except Exception as exc:  # a pack that cannot train fails alone
            yield task, None, _first_line(exc)
            continue
        yield task, out, None


def _send(conn, message) -> None:
    # Plain pickle, not the multiprocessing pickler: that one shares tensors through
    # file descriptors, which vanish with the worker that sent them.
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _child_main(conn, X, labels, task: PackTask) -> None:
    """A forked worker process: train one pack, send epochs and the result back."""
    try:
        torch.set_num_threads(1)
        out = run_pack(X, labels, task, lambda e, rows: _send(conn, ("epoch", e)))
        _send(conn, ("done", out))
    except BaseException as exc:  # report anything, including interrupts
        _send(conn, ("error", _first_line(exc)))
    finally:
        conn.close()


def _death_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"worker process killed by {name}"
    return f"worker process died (exit code {exitcode}) before sending its result"


def _run_forked(tasks, X, labels, workers: int, on_epoch) -> Iterator[Outcome]:
    """Packs in parallel worker processes, one pack per fork of this process.

    A fork starts in milliseconds and inherits the data; each worker trains on one
    intra-op thread. A worker that dies (killed, out of memory) fails its pack only.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    from lilyvae.train import kernels  # noqa: F401  (compiled once here; forks inherit them)

    ctx = mp.get_context("fork")
    pending = deque(tasks)
    running: dict = {}  # connection -> (process, task)
    try:
        while pending or running:
            while pending and len(running) < workers:
                task = pending.popleft()
                recv, send = ctx.Pipe(duplex=False)
                proc = ctx.Process(target=_child_main, args=(send, X, labels, task), daemon=True)
                proc.start()
                send.close()
                running[recv] = (proc, task)
            for conn in wait(list(running)):
                proc, task = running[conn]
                try:
                    kind, payload = pickle.loads(conn.recv_bytes())
                except EOFError:
                    kind, payload = "died", None
                if kind == "epoch":
                    on_epoch(task, payload)
                    continue
                del running[conn]
                conn.close()
                proc.join()
                if kind == "done":
                    yield task, payload, None
                elif kind == "error":
                    yield task, None, payload
                else:
                    yield task, None, _death_reason(proc.exitcode)
    finally:
        for proc, _task in running.values():
            proc.terminate()
            proc.join()


def import_ray():
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise LilyVAEError(
            f"--backend ray needs Ray, which is not installed: {RAY_INSTALL}"
        ) from None
    return ray


def _ray_task(data, task: PackTask) -> list[dict]:
    X, labels = data
    torch.set_num_threads(1)
    return run_pack(X, labels, task)


class RaySession:
    """Ray for one run: joins a cluster (``address``) or starts a local instance on the
    loopback interface with ``workers`` CPUs, unless Ray is already initialised (then
    it is used as it is and left running); :meth:`close` stops what it started."""

    def __init__(self, address: str | None, workers: int | None):
        import logging

        self.ray = import_ray()
        self.started = False
        if not self.ray.is_initialized():
            if address:
                self.ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
            else:
                self.ray.init(
                    num_cpus=workers or default_workers(),
                    include_dashboard=False,
                    _node_ip_address="127.0.0.1",
                    log_to_driver=False,
                    logging_level=logging.ERROR,
                )
            self.started = True

    @property
    def cpus(self) -> int:
        return max(1, int(self.ray.cluster_resources().get("CPU", 1)))

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()
            self.started = False


def _run_on_ray(tasks, X, labels) -> Iterator[Outcome]:
    """Packs as Ray tasks (one CPU each, no automatic retry: a crash fails its pack)."""
    ray = import_ray()
    data_ref = ray.put((X, labels))  # shipped to each node once
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
    refs = {remote.remote(data_ref, task): task for task in tasks}
    while refs:
        done, _ = ray.wait(list(refs), num_returns=1)
        for ref in done:
            task = refs.pop(ref)
            try:
                out = ray.get(ref)
            except ray.exceptions.RayError as exc:
                cause = getattr(exc, "cause", None)
                yield task, None, _first_line(cause if cause is not None else exc)
                continue
            yield task, out, None


def _outcomes(tasks, X, labels, backend, workers, on_epoch) -> Iterator[Outcome]:
    if backend == "ray":  # (in a RaySession)
        return _run_on_ray(tasks, X, labels)
    if workers > 1 and len(tasks) > 1:
        return _run_forked(tasks, X, labels, workers, on_epoch)
    return _run_in_process(tasks, X, labels, on_epoch)


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
) -> list[dict]:
    """Train one member per seed on scaled inputs, in packs, and return their outputs
    in seed order (dicts of :func:`run_pack`; a failed pack's members get ``error``).

    No files: the building block of :func:`bootstrap` and :func:`sweep`, for
    notebooks and benchmarks. ``rows[i]`` are member i's row indices (None: all).
    """
    _check_backend(backend, workers, pack_size)
    n = len(seeds)
    rows = list(rows) if rows is not None else [None] * n
    session = RaySession(ray_address, workers) if backend == "ray" else None
    try:
        workers = workers or (session.cpus if session else default_workers())
        pack_size = pack_size or min(MAX_PACK, max(1, math.ceil(n / workers)))
        tasks = [
            PackTask(
                i // pack_size,
                config,
                list(seeds[i : i + pack_size]),
                rows[i : i + pack_size],
                n_classes,
                [str(j) for j in range(i, min(i + pack_size, n))],
            )
            for i in range(0, n, pack_size)
        ]
        out: list[dict] = [{}] * n
        failed = {"state": None, "history": None, "wall_s": None}
        for task, outputs, error in _outcomes(
            tasks, X, labels, backend, workers, lambda t, e: None
        ):
            for j, key in enumerate(task.keys):
                out[int(key)] = (
                    outputs[j]
                    if outputs is not None
                    else failed | {"seed": task.seeds[j], "error": error}
                )
    finally:
        if session is not None:
            session.close()
    return out


def default_workers() -> int:
    """Usable CPU cores of this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# --- intervals --------------------------------------------------------------------------------


def interval(values, method: str = "percentile", level: float = LEVEL) -> dict:
    """Mean, standard deviation and a ``level`` interval of ``values`` (NaN/None dropped).

    ``method="percentile"``: the central ``level`` range of the values themselves (for
    bootstrap members: how much one model's metric varies with its training sample and
    seed). ``method="t"``: Student's t interval of the mean (for a few seeds per cell).
    """
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    out = {"n": int(len(v)), "mean": None, "sd": None, "low": None, "high": None}
    if len(v) == 0:
        return out
    out["mean"] = float(v.mean())
    if len(v) < 2:
        return out
    sd = float(v.std(ddof=1))
    out["sd"] = sd
    tail = (1.0 - level) / 2.0
    if method == "percentile":
        low, high = np.percentile(v, [100 * tail, 100 * (1 - tail)])
    elif method == "t":
        from scipy.stats import t

        half = float(t.ppf(1 - tail, len(v) - 1)) * sd / math.sqrt(len(v))
        low, high = out["mean"] - half, out["mean"] + half
    else:
        raise ValueError(f"unknown interval method {method!r}")
    out["low"], out["high"] = float(low), float(high)
    return out


INTERVAL_NOTES = {
    "percentile": "low/high: the 2.5th and 97.5th percentiles of the members' values (how "
    "much one model's metric varies with its training sample and seed); mean_low/mean_high: "
    "Student's t 95% interval of the mean over members",
    "t": "low/high: Student's t 95% interval of the mean over the cell's seeds",
}


# --- the grid of a sweep ----------------------------------------------------------------------


def _parse_value(name: str, raw: str):
    text = raw.strip()
    if name == "hidden_dims":
        try:
            dims = tuple(int(v) for v in text.split("/"))
        except ValueError:
            raise LilyVAEError(
                f"--grid hidden-dims: {raw!r} is not a list of sizes (write e.g. 64/32)"
            ) from None
        return dims
    if name in GRID_INT:
        try:
            return int(text)
        except ValueError:
            raise LilyVAEError(
                f"--grid {name.replace('_', '-')}: {raw!r} is not an integer"
            ) from None
    try:
        value = float(text)
    except ValueError:
        raise LilyVAEError(f"--grid {name.replace('_', '-')}: {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise LilyVAEError(f"--grid {name.replace('_', '-')}: {raw!r} is not a finite number")
    return value


def parse_grid(specs: Sequence[str] | dict) -> dict[str, list]:
    """``["beta=0.1,0.5,1", "alpha=0.1,0.5"]`` -> ``{"beta": [0.1, 0.5, 1.0], ...}``.

    Names are the hyper-parameters of ``lilyvae train`` (dashes or underscores);
    ``hidden-dims`` values are written ``64/32``. A dict is checked the same way.
    """
    items = list(specs.items()) if isinstance(specs, dict) else []
    if not isinstance(specs, dict):
        for spec in specs:
            name, sep, values = str(spec).partition("=")
            if not sep or not name.strip() or not values.strip():
                raise LilyVAEError(f"--grid {spec!r}: write NAME=VALUE1,VALUE2,...")
            items.append((name, [v for v in values.split(",")]))
    if not items:
        raise LilyVAEError("--grid: give at least one NAME=VALUE1,VALUE2,...")
    grid: dict[str, list] = {}
    for name, values in items:
        key = str(name).strip().lower().replace("-", "_")
        if key == "seed":
            raise LilyVAEError("--grid: seeds are not a grid axis; use --seeds N")
        if key not in GRID_FIELDS:
            known = ", ".join(f.replace("_", "-") for f in GRID_FIELDS)
            raise LilyVAEError(f"--grid: unknown hyper-parameter {name!r}; choose from {known}")
        if key in grid:
            raise LilyVAEError(f"--grid: {name!r} is given twice")
        if isinstance(values, (str, int, float)):
            values = [values]
        parsed = [
            _parse_value(key, v) if isinstance(v, str) else _normalise(key, v) for v in values
        ]
        if len(set(parsed)) != len(parsed):
            raise LilyVAEError(f"--grid {name}: a value is repeated")
        grid[key] = parsed
    return grid


def _normalise(key: str, value):
    if key == "hidden_dims":
        return tuple(int(v) for v in value)
    return int(value) if key in GRID_INT else float(value)


def config_with(base: TrainingConfig, **overrides) -> TrainingConfig:
    """``base`` with training or recipe fields replaced (checked like ``make_config``)."""
    fields = {f.name for f in dataclasses.fields(TrainingConfig)} - {"recipe", "model"}
    training = {name: getattr(base, name) for name in fields}
    return make_config(base.model, base.recipe, **(training | overrides))


def _cell_name(params: dict) -> str:
    parts = []
    for k, v in params.items():
        text = "x".join(str(d) for d in v) if isinstance(v, tuple) else f"{v:g}"
        parts.append(f"{k}={text}")
    return ",".join(parts)


# --- the run directory ------------------------------------------------------------------------


def data_fingerprint(data: TrainingData) -> str:
    """sha256 of the usable rows: features, labels, class names and boreholes."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(data.features, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(data.labels, dtype=np.int64).tobytes())
    digest.update("\x1f".join(data.class_names).encode())
    if data.boreholes is not None:
        digest.update("\x1f".join(map(str, data.boreholes)).encode())
    return digest.hexdigest()


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _differences(stored: dict, ours: dict, prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(stored) | set(ours)):
        a, b = stored.get(key), ours.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: {_short(a)} there, {_short(b)} here")
    return out


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class _Run:
    """The settings that decide a run's members (its identity) and where it lives."""

    kind: str  # "bootstrap" or "sweep"
    identity: dict  # everything that decides the members, except their number
    count: dict  # {"n": N} or {"seeds": S}
    output_dir: Path

    @property
    def run_id(self) -> str:
        return hashlib.sha256(_canonical(self.identity).encode()).hexdigest()[:16]

    def manifest(self) -> dict:
        return {
            "format": RUN_FORMAT,
            "format_version": RUN_VERSION,
            "kind": self.kind,
            "run_id": self.run_id,
            **self.count,
            "identity": self.identity,
        }


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LilyVAEError(f"{path}: not a readable run manifest ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != RUN_FORMAT:
        raise LilyVAEError(f"{path}: not a lilyvae ensemble run manifest")
    return manifest


def open_run_dir(run: _Run, resume: bool) -> tuple[_Run, bool]:
    """Check the directory against the run; returns the run to carry on (the stored one
    when ``resume`` adopts it) and whether the stored settings replaced ours."""
    out = run.output_dir
    manifest_path = out / "run.json"
    if out.exists() and not out.is_dir():
        raise LilyVAEError(f"{out}: is not a directory")
    if not manifest_path.is_file():
        if resume:
            raise LilyVAEError(f"{out}: --resume, but the directory holds no run (no run.json)")
        if out.is_dir() and any(out.iterdir()):
            raise LilyVAEError(
                f"{out}: not empty and not a lilyvae {run.kind} run (no run.json); "
                "choose a new --output-dir"
            )
        return run, False
    stored = _read_manifest(manifest_path)
    if stored.get("kind") != run.kind:
        raise LilyVAEError(
            f"{out}: holds a {stored.get('kind')} run, not a {run.kind} run; "
            "choose a new --output-dir"
        )
    same_identity = stored.get("identity") == run.identity
    same_count = all(stored.get(k) == v for k, v in run.count.items())
    if same_identity and same_count:
        return run, False
    if not resume:
        diffs = _differences(
            stored.get("identity", {}) | {k: stored.get(k) for k in run.count},
            run.identity | run.count,
        )
        raise LilyVAEError(
            f"{out}: holds a different {run.kind} run ({'; '.join(diffs[:3])}); re-run with "
            "--resume to continue that run with its own settings, or use a new --output-dir"
        )
    ours_data = run.identity.get("data", {}).get("fingerprint")
    theirs_data = stored.get("identity", {}).get("data", {}).get("fingerprint")
    if ours_data != theirs_data:
        raise LilyVAEError(
            f"{out}: --resume, but the run was trained on other data (fingerprint "
            f"{str(theirs_data)[:12]}, this table {str(ours_data)[:12]})"
        )
    count = {k: run.count[k] if run.count.get(k) is not None else stored[k] for k in run.count}
    return _Run(run.kind, stored["identity"], count, out), not same_identity


# --- members on disk --------------------------------------------------------------------------


def _member_files(run: _Run, key: str) -> Path:
    return run.output_dir / MEMBERS_DIR / f"{key}.pt"


def _finished_card(run: _Run, key: str) -> dict | None:
    """The card of a member whose files are complete and belong to this run, else None."""
    pt = _member_files(run, key)
    meta, hist = card_path(pt), history_path(pt)
    if not (pt.is_file() and meta.is_file() and hist.is_file()):
        return None
    try:
        card = json.loads(meta.read_text(encoding="utf-8"))
        info = card["ensemble"]
        ok = (
            info["run"] == run.run_id
            and info["member"] == key
            and card["checkpoint"]["sha256"] == sha256_file(pt)
        )
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None
    return card if ok else None


def _read_failures(run: _Run) -> dict:
    path = run.output_dir / "failures.json"
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return data.get("members", {}) if data.get("run_id") == run.run_id else {}


# --- evaluation of members --------------------------------------------------------------------


@dataclass(frozen=True)
class MemberEvaluation:
    """How members are scored when the run holds boreholes out: a cheap
    :func:`lilyvae.analysis.evaluation.evaluate` on a fixed subsample of the table."""

    rows: int = 20000  # rows of the table scored (held-out and training boreholes)
    svm_train_rows: int = 2000
    svm_test_rows: int = 2000
    gmm_rows: int = 2000
    seed: int = 0

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _flatten_metrics(subject: dict) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, path in METRIC_PATHS.items():
        value = subject
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value) if np.isfinite(value) else None
    r2 = [out.get(f"r2_{n}") for n in FEATURE_SHORT]
    if all(v is not None for v in r2):
        out["r2_mean"] = float(np.mean(r2))
    return out


def _score_members(
    models: dict, eval_data: TrainingData, how: MemberEvaluation, with_baseline: bool
):
    """Flat metrics per member name, and the scaled-input baseline's (None unless
    ``with_baseline``: it is the same for every pack of a run)."""
    from lilyvae.analysis.evaluation import EvalConfig, evaluate

    config = EvalConfig(
        svm_train_rows=how.svm_train_rows,
        svm_test_rows=how.svm_test_rows,
        gmm_rows=how.gmm_rows,
        seed=how.seed,
    )
    metrics = evaluate(models, eval_data, config, quiet=True, baseline=with_baseline)
    subjects = metrics["subjects"]
    baseline = _flatten_metrics(subjects["features"]) if with_baseline else None
    return {name: _flatten_metrics(subjects[name]) for name in models}, baseline


def _eval_subset(data: TrainingData, rows: int, seed: int) -> TrainingData:
    if data.n_rows <= rows:
        return data
    rng = np.random.default_rng([int(seed), 0xE7A1])
    keep = np.zeros(data.n_rows, dtype=bool)
    keep[rng.choice(data.n_rows, size=rows, replace=False)] = True
    return data.subset(keep)


# --- running a run ----------------------------------------------------------------------------


@dataclass
class EnsembleResult:
    """What a run did and wrote."""

    output_dir: Path
    kind: str
    members: list[dict]  # one row per member, as in members.csv
    summary: dict
    paths: dict[str, Path]
    trained: int  # members trained by this call
    skipped: int  # members already finished
    failed: int  # members failed after this call
    settings_from_directory: bool = False


def _as_data(data) -> TrainingData:
    from lilyvae.data.tables import load_training_data, training_data_from_frame

    if isinstance(data, (str, os.PathLike)):
        return load_training_data(data)
    if isinstance(data, TrainingData):
        return data
    return training_data_from_frame(data)


def _check_backend(backend: str, workers: int | None, pack_size: int | None) -> None:
    if backend not in BACKENDS:
        raise LilyVAEError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "ray":
        import_ray()
    for name, value in (("workers", workers), ("pack-size", pack_size)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise LilyVAEError(f"--{name} must be a positive integer, not {value!r}")


class _Progress:
    """One bar over members and one over epochs of packs (tqdm), or nothing."""

    def __init__(self, members: int, pack_epochs: int, quiet: bool, desc: str):
        self.members = self.epochs = None
        if quiet or members == 0:
            return
        from tqdm.auto import tqdm

        self.members = tqdm(total=members, desc=desc, unit="member", position=0)
        if pack_epochs:
            self.epochs = tqdm(total=pack_epochs, desc="pack epochs", unit="epoch", position=1)

    def epoch(self) -> None:
        if self.epochs is not None:
            self.epochs.update(1)

    def done(self, k: int, failed: int) -> None:
        if self.members is not None:
            self.members.update(k)
            if failed:
                self.members.set_postfix_str(f"{failed} failed", refresh=False)

    def close(self) -> None:
        for bar in (self.epochs, self.members):
            if bar is not None:
                bar.close()


def _execute(
    run: _Run,
    members: list[Member],
    data: TrainingData,
    split: BoreholeSplit | None,
    *,
    backend: str,
    ray_address: str | None,
    workers: int | None,
    pack_size: int | None,
    evaluation: MemberEvaluation | None,
    quiet: bool,
    settings_from_directory: bool,
    extra_card: Callable[[Member], dict],
) -> EnsembleResult:
    """Train the members not finished yet, write cards, tables and the summary."""
    out = run.output_dir
    (out / MEMBERS_DIR).mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / "run.json", run.manifest())

    full = data
    trained_rows = data if split is None else data.subset(~split.holdout_mask(data.boreholes))
    if trained_rows.n_rows == 0:
        raise LilyVAEError(f"{data.source}: no rows left after holding out boreholes")
    config0 = members[0].config
    semi = config0.model == "semisupervised"
    if semi and trained_rows.n_labelled == 0:
        raise LilyVAEError(
            f"{data.source}: no labelled rows; the semi-supervised model needs lithology labels"
        )
    scaler, X, labels = scale_for_training(trained_rows)
    n_classes = len(trained_rows.class_names) if semi else None
    device = resolve_device(config0.device)

    cards = {m.key: _finished_card(run, m.key) for m in members}
    todo = [m for m in members if cards[m.key] is None]
    failures = {k: v for k, v in _read_failures(run).items() if k in {m.key for m in todo}}
    session = RaySession(ray_address, workers) if backend == "ray" and todo else None
    try:
        if session is not None:
            n_workers = workers or session.cpus
        elif device.type != "cpu" or not hasattr(os, "fork"):
            n_workers = 1  # a CUDA process must not fork
        else:
            n_workers = workers or default_workers()
        if pack_size is None:
            per_group = max(len(todo), 1)
            pack_size = min(MAX_PACK, max(1, math.ceil(per_group / max(n_workers, 1))))
        packs = plan_packs(todo, pack_size)
        rows_of: dict[str, np.ndarray | None] = {}
        tasks = []
        for pid, pack in enumerate(packs):
            rows = [
                resample_rows(trained_rows.n_rows, trained_rows.boreholes, m.resample, m.seed)
                for m in pack
            ]
            rows_of.update({m.key: r for m, r in zip(pack, rows, strict=True)})
            tasks.append(
                PackTask(
                    pid,
                    pack[0].config,
                    [m.seed for m in pack],
                    rows,
                    n_classes,
                    [m.key for m in pack],
                )
            )
        by_key = {m.key: m for m in members}
        eval_data = None
        if evaluation is not None and split is not None and todo:
            eval_data = _eval_subset(full, evaluation.rows, evaluation.seed)
        baseline = _read_baseline(run)

        # Ray tasks report no epochs; local packs do.
        pack_epochs = 0 if backend == "ray" else config0.epochs * len(tasks)
        progress = _Progress(len(todo), pack_epochs, quiet, f"{run.kind} {out.name}")
        trained = 0
        try:
            outcomes = _outcomes(
                tasks, X, labels, backend, n_workers, lambda t, e: progress.epoch()
            )
            for task, outputs, pack_error in outcomes:
                done = []
                for i, key in enumerate(task.keys):
                    member = by_key[key]
                    result = outputs[i] if outputs is not None else None
                    reason = pack_error if result is None else result["error"]
                    if reason is not None:
                        failures[key] = {"seed": member.seed, "reason": reason}
                        continue
                    done.append((member, result))
                if done and eval_data is not None:
                    models = {
                        m.key: _rebuild(m, r, scaler, full, trained_rows, split, device)
                        for m, r in done
                    }
                    scores, base = _score_members(
                        models, eval_data, evaluation, with_baseline=not baseline
                    )
                    baseline = baseline or base
                else:
                    models, scores = {}, {}
                for member, result in done:
                    tm = models.get(member.key) or _rebuild(
                        member, result, scaler, full, trained_rows, split, device
                    )
                    rows = rows_of[member.key]
                    info = {
                        "run": run.run_id,
                        "kind": run.kind,
                        "member": member.key,
                        "index": member.index,
                        "seed": member.seed,
                        "resample": member.resample,
                        "rows": trained_rows.n_rows if rows is None else int(len(rows)),
                        "unique_rows": trained_rows.n_rows
                        if rows is None
                        else int(len(np.unique(rows))),
                        "pack_size": len(task.keys),
                        "metrics": scores.get(member.key),
                    } | extra_card(member)
                    tm.card["ensemble"] = info
                    tm.card["wall_time_s"] = round(result["wall_s"], 3)
                    tm.save(_member_files(run, member.key))
                    cards[member.key] = tm.card
                    failures.pop(member.key, None)
                    trained += 1
                progress.done(len(task.keys), len(failures))
                _write_failures(run, failures)
                if baseline:
                    write_json_atomic(
                        out / "baseline.json", {"run_id": run.run_id, "metrics": baseline}
                    )
        except KeyboardInterrupt:
            progress.close()
            # What finished is on disk; the tables say what is missing. Re-run to resume.
            _finish(run, members, cards, failures, baseline, trained, settings_from_directory)
            raise
        finally:
            progress.close()
        return _finish(run, members, cards, failures, baseline, trained, settings_from_directory)
    finally:
        if session is not None:
            session.close()


def _rebuild(member: Member, result: dict, scaler, full, trained_rows, split, device):
    """The member's TrainedModel (module from the state dict, card from the shared builder)."""
    from lilyvae.model.networks import build_model
    from lilyvae.train.trainer import MemberResult

    config = member.config
    n_classes = len(trained_rows.class_names) if config.model == "semisupervised" else None
    module = build_model(config.model, **config.architecture(n_classes))
    module.load_state_dict(result["state"])
    module.eval()
    res = MemberResult(module, result["history"], result["seed"], None)
    # Every resample has as many rows as the training rows (duplicates counted).
    return trained_model(res, config, scaler, full, trained_rows, split, device, result["wall_s"])


def _read_baseline(run: _Run) -> dict | None:
    path = run.output_dir / "baseline.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data.get("metrics") if data.get("run_id") == run.run_id else None


def _write_failures(run: _Run, failures: dict) -> None:
    path = run.output_dir / "failures.json"
    if failures:
        write_json_atomic(path, {"run_id": run.run_id, "members": failures})
    elif path.exists():
        path.unlink()


def _member_row(member: Member, card: dict | None, failure: dict | None) -> dict:
    row: dict = {"member": member.key}
    if member.cell is not None:
        row["cell"] = member.cell
        row |= {
            k: ("/".join(map(str, v)) if isinstance(v, tuple) else v)
            for k, v in member.params.items()
        }
    row |= {"seed": member.seed, "resample": member.resample}
    if card is not None:
        info = card.get("ensemble", {})
        final = card.get("final", {})
        row |= {
            "status": "ok",
            "rows": info.get("rows"),
            "unique_rows": info.get("unique_rows"),
            "epochs": card.get("training", {}).get("epochs"),
        }
        row |= {f"final_{t}": final.get(t) for t in LOSS_TERMS if t in final}
        row |= info.get("metrics") or {}
        row["error"] = ""
    else:
        row["status"] = "failed" if failure else "pending"
        row["error"] = (failure or {}).get("reason", "")
    return row


def _metric_columns(rows: list[dict]) -> list[str]:
    skip = {"member", "cell", "seed", "resample", "status", "rows", "unique_rows", "epochs"}
    skip |= {"error"} | set(GRID_FIELDS)
    cols: list[str] = []
    for row in rows:
        for k, v in row.items():
            if k not in skip and k not in cols and isinstance(v, (int, float)):
                cols.append(k)
    return cols


def _write_csv(path: Path, rows: list[dict]) -> Path:
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    if "error" in columns:  # the reason of a failure reads best last
        columns.remove("error")
        columns.append("error")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row.get(k)) for k in columns})
    return write_text_atomic(path, buffer.getvalue())


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return value


def _finish(run, members, cards, failures, baseline, trained, from_dir) -> EnsembleResult:
    out = run.output_dir
    rows = [_member_row(m, cards.get(m.key), failures.get(m.key)) for m in members]
    paths = {"manifest": out / "run.json", "members": _write_csv(out / "members.csv", rows)}
    ok = [r for r in rows if r["status"] == "ok"]
    metric_cols = _metric_columns(ok)
    common = {
        "format": SUMMARY_FORMAT,
        "format_version": RUN_VERSION,
        "kind": run.kind,
        "run_id": run.run_id,
        "members": len(rows),
        "ok": len(ok),
        "failed": sum(r["status"] == "failed" for r in rows),
        "pending": sum(r["status"] == "pending" for r in rows),
        "level": LEVEL,
    }
    if run.kind == "bootstrap":
        metrics = {}
        for col in metric_cols:
            values = [r.get(col) for r in ok]
            spread = interval(values, "percentile")
            mean_ci = interval(values, "t")
            metrics[col] = spread | {"mean_low": mean_ci["low"], "mean_high": mean_ci["high"]}
        summary = common | {
            "interval": {"method": "percentile", "note": INTERVAL_NOTES["percentile"]},
            "metrics": metrics,
        }
    else:
        cells = []
        for cell, group in itertools.groupby(rows, key=lambda r: r["cell"]):
            group = list(group)
            good = [r for r in group if r["status"] == "ok"]
            member = next(m for m in members if m.cell == cell)
            entry = {
                "cell": cell,
                "name": _cell_name(member.params),
                "params": {
                    k: (list(v) if isinstance(v, tuple) else v) for k, v in member.params.items()
                },
                "seeds": len(group),
                "ok": len(good),
                "failed": sum(r["status"] == "failed" for r in group),
                "metrics": {col: interval([r.get(col) for r in good], "t") for col in metric_cols},
            }
            cells.append(entry)
        summary = common | {
            "interval": {"method": "t", "note": INTERVAL_NOTES["t"]},
            "cells": cells,
        }
        paths["results"] = _write_csv(out / "results.csv", _results_rows(cells, metric_cols))
    if baseline:
        summary["baseline"] = {"description": "the six scaled inputs", "metrics": baseline}
    paths["summary"] = write_json_atomic(out / "summary.json", summary)
    return EnsembleResult(
        out,
        run.kind,
        rows,
        summary,
        paths,
        trained=trained,
        skipped=len(ok) - trained,
        failed=summary["failed"],
        settings_from_directory=from_dir,
    )


def _results_rows(cells: list[dict], metric_cols: list[str]) -> list[dict]:
    rows = []
    for c in cells:
        row = {"cell": c["cell"]}
        row |= {
            k: ("/".join(map(str, v)) if isinstance(v, list) else v) for k, v in c["params"].items()
        }
        row |= {"seeds": c["seeds"], "ok": c["ok"], "failed": c["failed"]}
        for col in metric_cols:
            m = c["metrics"][col]
            row |= {f"{col}_mean": m["mean"], f"{col}_low": m["low"], f"{col}_high": m["high"]}
        rows.append(row)
    return rows


# --- the two entry points ---------------------------------------------------------------------


def _identity(kind, config, data, split, resample, evaluation, extra) -> dict:
    return {
        "kind": kind,
        "config": config.to_dict(),
        "resample": resample,
        "data": {"fingerprint": data_fingerprint(data), "rows_used": data.n_rows},
        "split": None if split is None else split.to_dict(),
        "evaluation": None if evaluation is None or split is None else evaluation.to_dict(),
    } | extra


def _prepare(data, config, options, resample):
    data = _as_data(data)
    if config is None:
        config = make_config(**options)
    elif options:
        raise TypeError("give either a config or options, not both")
    if resample not in RESAMPLES:
        raise LilyVAEError(f"unknown resample {resample!r}; choose one of {', '.join(RESAMPLES)}")
    if resample == "boreholes" and data.boreholes is None:
        raise LilyVAEError(f"{data.source}: --resample boreholes needs the 'Borehole_ID' column")
    return data, config


def bootstrap(
    data,
    config: TrainingConfig | None = None,
    *,
    n: int | None,
    output_dir: str | os.PathLike,
    resample: str = "rows",
    split: BoreholeSplit | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    pack_size: int | None = None,
    resume: bool = False,
    evaluation: MemberEvaluation | None = MemberEvaluation(),  # noqa: B008 - frozen
    quiet: bool = True,
    **options,
) -> EnsembleResult:
    """Train ``n`` bootstrap members of one configuration and summarise them.

    ``data``: a table path, DataFrame or TrainingData. Give a ``config`` or the
    options of :func:`lilyvae.make_config`; its ``seed`` is the base seed. With a
    ``split``, members never see its boreholes and are scored on them
    (``evaluation``; None to skip). ``workers``: parallel packs (default: one per
    core; Ray: CPUs of the local instance). ``pack_size``: members per pack
    (default: spread over the workers, at most 16). See the module notes for the
    files written, resuming, and ``resume``.
    """
    if n is None and not resume:
        raise LilyVAEError("--n N is required (the number of members)")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise LilyVAEError(f"--n must be a positive integer, not {n!r}")
    _check_backend(backend, workers, pack_size)
    data, config = _prepare(data, config, options, resample)
    identity = _identity("bootstrap", config, data, split, resample, evaluation, {})
    run = _Run("bootstrap", identity, {"n": n}, Path(output_dir))
    run, from_dir = open_run_dir(run, resume)
    if from_dir:
        config, split, resample, evaluation = _settings_from(run.identity)
    base = config.seed
    members = [
        Member(f"m{i:04d}", i, s, dataclasses.replace(config, seed=s), resample)
        for i, s in enumerate(member_seeds(base, run.count["n"]))
    ]
    return _execute(
        run,
        members,
        data,
        split,
        backend=backend,
        ray_address=ray_address,
        workers=workers,
        pack_size=pack_size,
        evaluation=evaluation,
        quiet=quiet,
        settings_from_directory=from_dir,
        extra_card=lambda m: {"base_seed": base},
    )


def sweep(
    data,
    base_config: TrainingConfig | None = None,
    grid: Sequence[str] | dict | None = None,
    *,
    seeds: int = 3,
    output_dir: str | os.PathLike,
    resample: str = "seed-only",
    split: BoreholeSplit | None = None,
    backend: str = "local",
    ray_address: str | None = None,
    workers: int | None = None,
    pack_size: int | None = None,
    resume: bool = False,
    evaluation: MemberEvaluation | None = MemberEvaluation(),  # noqa: B008 - frozen
    quiet: bool = True,
    **options,
) -> EnsembleResult:
    """Train every cell of a hyper-parameter grid with ``seeds`` seeds each.

    ``grid``: ``{"beta": [0.1, 0.5], "alpha": [0.1, 0.5]}`` or the command's
    ``["beta=0.1,0.5", "alpha=0.1,0.5"]``; every other setting comes from
    ``base_config`` (or the options of :func:`lilyvae.make_config`). Seed j is the same
    in every cell. Writes ``results.csv`` (a row per cell: mean and t interval of every
    metric over the seeds) besides the bootstrap's files.
    """
    if not isinstance(seeds, int) or isinstance(seeds, bool) or seeds < 1:
        raise LilyVAEError(f"--seeds must be a positive integer, not {seeds!r}")
    if grid is None:
        raise LilyVAEError("--grid: give at least one NAME=VALUE1,VALUE2,...")
    parsed = parse_grid(grid)
    _check_backend(backend, workers, pack_size)
    data, base_config = _prepare(data, base_config, options, resample)
    cells = [
        dict(zip(parsed, values, strict=True)) for values in itertools.product(*parsed.values())
    ]
    cell_configs = [config_with(base_config, **cell) for cell in cells]  # checks every value
    grid_json = {
        k: [list(v) if isinstance(v, tuple) else v for v in vs] for k, vs in parsed.items()
    }
    identity = _identity(
        "sweep", base_config, data, split, resample, evaluation, {"grid": grid_json}
    )
    run = _Run("sweep", identity, {"seeds": seeds}, Path(output_dir))
    run, from_dir = open_run_dir(run, resume)
    if from_dir:
        base_config, split, resample, evaluation = _settings_from(run.identity)
        parsed = parse_grid(run.identity["grid"])
        cells = [dict(zip(parsed, v, strict=True)) for v in itertools.product(*parsed.values())]
        cell_configs = [config_with(base_config, **cell) for cell in cells]
    seed_list = member_seeds(base_config.seed, run.count["seeds"])
    members = []
    for c, (cell, cfg) in enumerate(zip(cells, cell_configs, strict=True)):
        for j, s in enumerate(seed_list):
            members.append(
                Member(
                    f"c{c:03d}-s{j:02d}",
                    len(members),
                    s,
                    dataclasses.replace(cfg, seed=s),
                    resample,
                    cell=c,
                    params=cell,
                )
            )
    return _execute(
        run,
        members,
        data,
        split,
        backend=backend,
        ray_address=ray_address,
        workers=workers,
        pack_size=pack_size,
        evaluation=evaluation,
        quiet=quiet,
        settings_from_directory=from_dir,
        extra_card=lambda m: {
            "base_seed": base_config.seed,
            "cell": m.cell,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in m.params.items()},
        },
    )


def _settings_from(identity: dict):
    config = config_from_dict(identity["config"])
    split = BoreholeSplit.from_dict(identity.get("split"))
    ev = identity.get("evaluation")
    evaluation = MemberEvaluation(**ev) if ev else None
    return config, split, identity["resample"], evaluation


# --- the printed table ------------------------------------------------------------------------


def summary_table(result: EnsembleResult, columns: int = 6) -> str:
    """The final table: per metric (bootstrap) or per cell (sweep), mean and interval."""

    def fmt(v) -> str:
        return "n/a" if v is None else f"{v:.4g}"

    s = result.summary
    lines = [
        f"{s['kind']} in {result.output_dir}: {s['ok']} of {s['members']} members ok"
        + (f", {s['failed']} failed" if s["failed"] else "")
        + (f", {s['pending']} not trained" if s["pending"] else "")
        + f" ({result.trained} trained now, {result.skipped} already done)"
    ]
    if s["kind"] == "bootstrap":
        lines.append(f"{'metric':<26} {'mean':>10}  {'95% of members':>23}  {'n':>4}")
        for name, m in s["metrics"].items():
            span = f"[{fmt(m['low'])}, {fmt(m['high'])}]"
            lines.append(f"{name:<26} {fmt(m['mean']):>10}  {span:>23}  {m['n']:>4}")
    else:
        shown = [c for c in ("final_loss", "svm_accuracy", "gmm_ari", "r2_mean")]
        names = [c for c in shown if any(c in cell["metrics"] for cell in s["cells"])][:columns]
        header = f"{'cell':<32} {'ok':>5}" + "".join(
            f"  {n + ' (95% CI of mean)':>34}" for n in names
        )
        lines.append(header)
        for cell in s["cells"]:
            row = f"{cell['name'][:32]:<32} {cell['ok']:>2}/{cell['seeds']:<2}"
            for n in names:
                m = cell["metrics"].get(n, {})
                text = f"{fmt(m.get('mean'))} [{fmt(m.get('low'))}, {fmt(m.get('high'))}]"
                row += f"  {text:>34}"
            lines.append(row)
    failed = [r for r in result.members if r["status"] == "failed"]
    for r in failed[:10]:
        lines.append(f"  failed {r['member']} (seed {r['seed']}): {r['error']}")
    if len(failed) > 10:
        lines.append(f"  ... and {len(failed) - 10} more failures (members.csv)")
    return "\n".join(lines)


__all__ = [
    "EnsembleResult",
    "Member",
    "MemberEvaluation",
    "PackTask",
    "bootstrap",
    "interval",
    "member_seeds",
    "parse_grid",
    "plan_packs",
    "resample_rows",
    "run_pack",
    "summary_table",
    "sweep",
    "train_many",
]
