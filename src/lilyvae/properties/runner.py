"""Running the variables in parallel: local worker processes, or tasks on Ray.

The predictor matrices, borehole codes and the split (``shared``) are the same for
every variable; each task carries only its variable's rows and values. Local workers are
forks of this process, so they inherit ``shared`` without copying it; on Ray it is put
in the object store once. Tasks start largest first (so a long one does not start last)
and results come back in task order whatever the backend: each result depends only on
its task and the seed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lilyvae.errors import LilyVAEError, first_line
from lilyvae.properties.scoring import Task, run_task
from lilyvae.workers import RaySession, check_backend, default_workers, import_ray

#: The shared inputs of the local workers (set before the pool forks them).
_SHARED: dict | None = None


def _run_inherited(task: Task) -> dict:
    return run_task(_SHARED, task)


def _largest_first(tasks: Sequence[Task]) -> list[Task]:
    return sorted(tasks, key=lambda t: (-t.rows.size, t.index))


def _run_local(shared, tasks, workers, done) -> dict[int, dict]:
    global _SHARED
    results: dict[int, dict] = {}
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            results[task.index] = run_task(shared, task)
            done(task, results[task.index])
        return results
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    _SHARED = shared
    try:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_run_inherited, t): t for t in _largest_first(tasks)}
            for future in as_completed(futures):
                task = futures[future]
                results[task.index] = future.result()
                done(task, results[task.index])
    except BrokenProcessPool:
        raise LilyVAEError("a worker process died (out of memory?); try fewer --workers") from None
    finally:
        _SHARED = None
    return results


def _run_ray(shared, tasks, workers, address, done) -> dict[int, dict]:

    ray = import_ray()
    session = RaySession(address, workers)
    results: dict[int, dict] = {}
    try:
        shared_ref = ray.put(shared)
        remote = ray.remote(num_cpus=1, max_retries=0)(run_task)
        refs = {remote.remote(shared_ref, t): t for t in _largest_first(tasks)}
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            task = refs.pop(ready[0])
            try:
                results[task.index] = ray.get(ready[0])
            except ray.exceptions.RayError as exc:
                results[task.index] = {"scored": False, "failed": True, "scores": {}}
                results[task.index]["reason"] = f"Ray task failed: {first_line(exc)}"
            done(task, results[task.index])
    finally:
        session.close()
    return results


def run_tasks(
    shared: dict,
    tasks: Sequence[Task],
    backend: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    done: Callable[[Task, dict], None] | None = None,
) -> list[dict]:
    """Score every task; results in task order."""
    check_backend(backend, ray_address)
    if workers is None:
        workers = default_workers()
    done = done or (lambda _task, _result: None)
    if backend == "ray":
        results = _run_ray(shared, tasks, workers, ray_address, done)
    else:
        results = _run_local(shared, tasks, workers, done)
    return [results[t.index] for t in tasks]
