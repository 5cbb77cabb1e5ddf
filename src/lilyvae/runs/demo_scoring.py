"""The demo's scoring stage: the new core, the evaluation, every other seed's scores and
the zero-shot property test, run side by side.

Why side by side: the evaluation of the first seeds' models runs in this process, most
of it on one core (scikit-learn's SVM fits are single-threaded), while the other
seeds' scores and the property test depend on nothing it computes. So they run in
worker processes at the same time, and the stage takes about the machine's total work
divided by its cores instead of the sum of the parts. Every part runs one BLAS and
OpenMP thread per process (this process included, while the workers run): two
processes each spinning two BLAS threads on two cores made matrix products several
times slower. Results do not depend on the schedule: each part is computed as it would
be alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from lilyvae.evaluation import EvalConfig, evaluate, read_synthetic_sidecar, write_metrics
from lilyvae.model.embeddings import NamedModel
from lilyvae.run_folder import RunDir
from lilyvae.runs.demo_settings import DEMO_PROPERTY_MODELS
from lilyvae.workers import default_workers, one_thread_pool


@dataclass
class Scored:
    """What the scoring stage leaves: what ``before_evaluation()`` returned, the
    evaluation's metrics, the seeds' scores by model name (first seed first), the
    property test's result, each part's seconds (this process's parts, then the
    workers'), and the evaluation's fitted mixtures by model name (the figures colour
    by them)."""

    before: object
    metrics: dict
    subjects: dict[str, list[dict]]
    properties: object  # lilyvae.properties.api.PropertiesResult
    seconds: dict[str, float]
    mixtures: dict

    def parts_line(self) -> str:
        return ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items())


def score_slice(models: list[NamedModel], data, config: EvalConfig) -> tuple[dict, float]:
    """One worker's share of the other seeds' scores (no baseline, no missing-colour
    groups, no boosted group comparison, no curves or field scores: ``seeds.json`` holds
    the models' scalar scores and compares their SVM and linear ones, and the first
    seed's ``metrics.json`` carries the rest)."""
    start = time.perf_counter()
    config = dataclasses.replace(config, group_comparison=False, detailed=False)
    metrics = evaluate(models, data, config, baseline=False, missing_groups=False)
    return metrics["subjects"], time.perf_counter() - start


def zero_shot_properties(lily_dir: Path, table: Path, models: list[str], out: Path):
    """SYNTHETIC property tables for the demo's cores (written unless present), and the
    zero-shot property prediction of ``lilyvae properties`` into ``out``. Returns the
    result and its seconds."""
    from lilyvae.properties.api import predict_properties
    from lilyvae.synthetic.counts import DEFAULT_ROWS
    from lilyvae.synthetic.properties import write_property_tables

    start = time.perf_counter()
    if not (lily_dir / "properties.synthetic.json").is_file():
        # The table's own rows and seed: the property tables describe the same cores.
        info = read_synthetic_sidecar(table) or {}
        rows, seed = info.get("rows", DEFAULT_ROWS), info.get("seed", 0)
        write_property_tables(lily_dir, scale=rows / DEFAULT_ROWS, seed=seed)
    # One process: this runs in a worker beside the others.
    result = predict_properties(lily_dir, table, models, out, progress=None, workers=1)
    return result, time.perf_counter() - start


@contextlib.contextmanager
def _one_thread_here():
    """BLAS, OpenMP and PyTorch at one thread in this process while the workers run."""
    from threadpoolctl import threadpool_limits

    from lilyvae.workers import torch_threads

    with torch_threads(1), threadpool_limits(1):
        yield


def score_all(
    run: RunDir,
    table: Path,
    data,
    first: list[NamedModel],
    others: dict[str, list[NamedModel]],
    config: EvalConfig,
    before_evaluation,
    quiet: bool,
) -> Scored:
    """The scoring stage. ``before_evaluation()`` runs first in this process (the new
    core's calibration, which the evaluation scores, and the embeddings), while the
    workers start."""
    workers = min(2, default_workers())
    # side_pool's processes on two cores or more, so the figures reuse them.
    pool = one_thread_pool(workers)
    specs = [f"{m.name}={m.path}" for m in first if m.name in DEMO_PROPERTY_MODELS]
    lily_dir = run.data_dir / "lily"
    # The longest single job first, then the seeds in small slices that fill the gaps.
    properties_job = pool.submit(zero_shot_properties, lily_dir, table, specs, run.properties_dir)
    rest = [m for group in others.values() for m in group]
    n_slices = min(len(rest), 2 * workers)
    seed_jobs = [pool.submit(score_slice, rest[i::n_slices], data, config) for i in range(n_slices)]
    seconds: dict[str, float] = {}
    with _one_thread_here():
        t0 = time.perf_counter()
        before = before_evaluation()
        t1 = time.perf_counter()
        mixtures: dict = {}
        metrics = evaluate(first, data, config, run_dir=run.root, quiet=quiet, mixtures=mixtures)
        write_metrics(metrics, run.root)
        seconds |= {"new core and embeddings": t1 - t0, "evaluation": time.perf_counter() - t1}
    scored: dict[str, dict] = {}
    seeds_seconds = 0.0
    for job in seed_jobs:
        part, took = job.result()
        scored |= part
        seeds_seconds += took
    properties, properties_seconds = properties_job.result()
    seconds |= {"other seeds (workers)": seeds_seconds, "properties (worker)": properties_seconds}
    subjects = {
        m.name: [metrics["subjects"][m.name]] + [scored[o.name] for o in others[m.name]]
        for m in first
    }
    seconds = {k: round(v, 1) for k, v in seconds.items()}
    return Scored(before, metrics, subjects, properties, seconds, mixtures)
