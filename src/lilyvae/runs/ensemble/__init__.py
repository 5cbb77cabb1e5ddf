"""Ensembles: bootstrap members and hyper-parameter sweeps, many models at a time.

A single trained model says little; this package trains many and reports every metric
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

The modules, in the order a run uses them:

- ``api``: :func:`bootstrap`, :func:`sweep`, :func:`train_many`, :func:`train_seeds`;
- ``grid``: a sweep's grid (:func:`parse_grid`) and its cells;
- ``planning``: member seeds, resamples, and packs (:func:`plan_pack_tasks`, the one
  planner of packs);
- ``rundir``: the run directory (manifest, resuming, "a different run", members on disk);
- ``execute``: training the members not finished yet and writing their files;
- ``backends``: where packs train (this process, forked processes, Ray);
- ``scoring``: members scored on held-out boreholes;
- ``results`` (with :mod:`lilyvae.evaluation.intervals`): intervals, ``members.csv``,
  ``summary.json``, ``results.csv`` and the printed table.
"""

from lilyvae.lazy_exports import lazy_exports

# Imported on first use (PEP 562): the command line reads RESAMPLES and BACKENDS to
# build its parser, which must not import PyTorch for commands that never train.
_EXPORTS = {
    "BACKENDS": "lilyvae.workers",
    "EnsembleResult": "results",
    "INTERVAL_NOTES": "lilyvae.evaluation.intervals",
    "MAX_PACK": "planning",
    "Member": "planning",
    "MemberEvaluation": "scoring",
    "PackTask": "planning",
    "RESAMPLES": "planning",
    "RaySession": "lilyvae.workers",
    "RunOptions": "execute",
    "bootstrap": "api",
    "config_with": "grid",
    "data_fingerprint": "rundir",
    "default_workers": "lilyvae.workers",
    "import_ray": "lilyvae.workers",
    "interval": "lilyvae.evaluation.intervals",
    "member_seeds": "planning",
    "parse_grid": "grid",
    "plan_pack_tasks": "planning",
    "plan_packs": "planning",
    "resample_rows": "planning",
    "run_pack": "backends",
    "summary_table": "results",
    "sweep": "api",
    "train_many": "api",
    "train_seeds": "api",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
