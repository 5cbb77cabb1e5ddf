"""Where work runs: this machine's usable cores, or a Ray cluster.

Shared by the stages that fan work out (ensembles' packs, the property protocol's
tasks), so it sits below all of them and imports none.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from lilyvae.errors import LilyVAEError

RAY_INSTALL = "pip install 'lilyvae[ray]'"
#: Where work may run: this machine's processes, or Ray (local or a cluster).
BACKENDS = ("local", "ray")


def check_backend(backend: str, ray_address: str | None = None) -> None:
    """A known backend, Ray installed if it is asked for, and a Ray address only with
    Ray: before any work, one line each."""
    if backend not in BACKENDS:
        raise LilyVAEError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if ray_address and backend != "ray":
        raise LilyVAEError("--ray-address needs --backend ray")
    if backend == "ray":
        import_ray()


def default_workers() -> int:
    """Usable CPU cores of this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def torch_threads(threads: int | None):
    """PyTorch's intra-op threads set to ``threads`` (None: left as they are) for a
    while, then put back."""
    import torch  # here: most of what imports this module needs no PyTorch

    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


#: A worker beside the main process runs on one thread of BLAS and OpenMP: the two
#: processes share the cores, and spinning threads of one slow the other down.
ONE_THREAD_ENV = {
    name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}


def one_thread_pool(max_workers: int):
    """Fresh worker processes, each on one thread (loky's reusable executor: every stage
    asking for the same number shares them). Fresh, not forks: this process may have
    run threaded BLAS and OpenMP code, and a forked child can deadlock on their locks."""
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=max_workers, env=ONE_THREAD_ENV)


def side_pool():
    """Up to two :func:`one_thread_pool` workers for work that can run beside this
    process; None on a machine with one core, where it would only take turns with it."""
    workers = min(2, default_workers())
    return one_thread_pool(workers) if workers >= 2 else None


def import_ray():
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise LilyVAEError(
            f"--backend ray needs Ray, which is not installed: {RAY_INSTALL}"
        ) from None
    return ray


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
