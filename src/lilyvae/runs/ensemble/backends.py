"""Where packs train: in this process, in forked worker processes, or on Ray.

Every backend runs :func:`run_pack` on :class:`~lilyvae.runs.ensemble.planning.PackTask`s
and yields one :data:`Outcome` per pack as it finishes. A pack that fails (an
exception, a killed worker, a Ray error) fails alone; the others train on. The results
are identical whichever backend trains a pack.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator

import torch

from lilyvae.errors import LilyVAEError, first_line
from lilyvae.runs.ensemble.planning import PackTask
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import train_members
from lilyvae.workers import RaySession, check_backend, default_workers, import_ray

#: What a backend yields per pack: the task, the outputs of :func:`run_pack` or None,
#: and why the whole pack failed (None when it ran).
Outcome = tuple[PackTask, list[dict] | None, str | None]
#: ``on_epoch(task, epoch)``: called by the local backends after each epoch of a pack.
OnEpoch = Callable[[PackTask, int], None]


def run_pack(
    X: torch.Tensor,
    labels: torch.Tensor | None,
    task: PackTask,
    progress: Callable[[int, list[dict]], None] | None = None,
) -> list[dict]:
    """Train one pack; what every backend runs. Returns one dict per member:
    ``seed``, ``state`` (state dict), ``history``, ``error``, ``stopping`` (early
    stopping's account, or None), ``wall_s``."""
    start = time.perf_counter()
    specs = [MemberSpec(s, r) for s, r in zip(task.seeds, task.rows, strict=True)]
    semi = task.config.has_head
    results = train_members(
        X,
        labels if semi else None,
        specs,
        task.config,
        task.n_classes,
        progress,
        validation_rows=task.validation_rows,
    )
    wall = time.perf_counter() - start
    return [
        {
            "seed": r.seed,
            "state": r.model.state_dict(),
            "history": r.history,
            "error": r.error,
            "stopping": r.stopping,
            "wall_s": wall,
        }
        for r in results
    ]


def check_run_backend(
    backend: str, workers: int | None, pack_size: int | None, ray_address: str | None = None
) -> None:
    """A usable backend (:func:`lilyvae.workers.check_backend`) and positive counts,
    before any work."""
    check_backend(backend, ray_address)
    for name, value in (("workers", workers), ("pack-size", pack_size)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise LilyVAEError(f"--{name} must be a positive integer, not {value!r}")


@contextlib.contextmanager
def open_backend(
    backend: str, ray_address: str | None, workers: int | None, device: torch.device
) -> Iterator[int]:
    """The backend, ready for the duration: yields how many packs run at once.

    Ray: ``workers`` or the cluster's CPUs, in a :class:`RaySession`. Locally:
    ``workers`` or one per core, or 1 where this process must not fork (a CUDA
    device, or a system without ``fork``).
    """
    if backend == "ray":
        session = RaySession(ray_address, workers)
        try:
            yield workers or session.cpus
        finally:
            session.close()
    elif device.type != "cpu" or not hasattr(os, "fork"):
        yield 1  # a CUDA process must not fork
    else:
        yield workers or default_workers()


def outcomes(
    tasks: list[PackTask], X, labels, backend: str, workers: int, on_epoch: OnEpoch
) -> Iterator[Outcome]:
    """Run the packs on ``backend`` (inside :func:`open_backend`), ``workers`` at once."""
    if not tasks:
        return iter(())
    if backend == "ray":
        return _run_on_ray(tasks, X, labels)  # Ray tasks report no epochs
    if workers > 1 and len(tasks) > 1:
        return _run_forked(tasks, X, labels, workers, on_epoch)
    return _run_in_process(tasks, X, labels, on_epoch)


# --- in this process ---------------------------------------------------------------------------


def _run_in_process(tasks, X, labels, on_epoch: OnEpoch) -> Iterator[Outcome]:
    for task in tasks:
        try:
            out = run_pack(X, labels, task, lambda e, rows, t=task: on_epoch(t, e))
        except (KeyboardInterrupt, LilyVAEError):
            raise
        except Exception as exc:  # a pack that cannot train fails alone
            yield task, None, first_line(exc, with_type=True)
            continue
        yield task, out, None


# --- forked worker processes -------------------------------------------------------------------


def _send(conn, message) -> None:
    # Plain pickle, not the multiprocessing pickler: that one shares tensors through
    # file descriptors, which vanish with the worker that sent them.
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _child_main(conn, X, labels, task: PackTask) -> None:
    """A forked worker process: train one pack, send epochs and the result back."""
    # A fork inherits the command's SIGTERM handler; a worker killed on its own should
    # die of the signal, so that its pack's failure names it (killed by SIGTERM).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        torch.set_num_threads(1)
        out = run_pack(X, labels, task, lambda e, rows: _send(conn, ("epoch", e)))
        _send(conn, ("done", out))
    except BaseException as exc:  # report anything, including interrupts
        _send(conn, ("error", first_line(exc, with_type=True)))
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


def _run_forked(tasks, X, labels, workers: int, on_epoch: OnEpoch) -> Iterator[Outcome]:
    """Packs in parallel worker processes, one pack per fork of this process.

    A fork starts in milliseconds and inherits the data; each worker trains on one
    intra-op thread. A worker that dies (killed, out of memory) fails its pack only.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    from lilyvae.training import kernels  # noqa: F401  (compiled once here; forks inherit them)

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


# --- Ray ---------------------------------------------------------------------------------------


def _ray_task(data, task: PackTask) -> list[dict]:
    X, labels = data
    torch.set_num_threads(1)
    return run_pack(X, labels, task)


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
                yield task, None, first_line(cause if cause is not None else exc, with_type=True)
                continue
            yield task, out, None
