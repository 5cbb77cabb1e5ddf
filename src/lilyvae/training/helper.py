"""A second thread for one model's step: the work of a step that nothing else waits on.

Why: a lone model's step is a chain of small operations on one core, and a 2-core
machine leaves the other idle. Splitting each product across two threads costs more in
synchronisation than it saves at these sizes, but a step holds work that no later
operation of the backward pass reads: each layer's weight gradient (``g @ h^T`` and the
bias's row sums) is needed only by the optimiser, and the classifier head's branch is
independent of the decoder's until their gradients of ``z`` are added. The engine hands
those to this thread and goes on down the input-gradient chain, then waits for them all
before clipping and Adam.

Every job runs the same operations on the same buffers as it would on the calling
thread, one job at a time in the order given, so the bytes are those of a step on one
thread: the thread changes when an operation runs, never what it computes. PyTorch's
operations and the numba kernels release the GIL while they compute.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import torch


class StepHelper:
    """One worker thread running jobs in order (first in, first out).

    ``flush_denormal`` must match the calling thread's setting: the flag is a property
    of each thread's floating-point state, and a job's results depend on it. The
    thread runs with the caller's intra-op thread count (one, in training).
    """

    def __init__(self, flush_denormal: bool):
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        self._submitted = 0
        self._finished = 0
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._serve,
            args=(flush_denormal, torch.get_num_threads()),
            name="lilyvae-step-helper",
            daemon=True,
        )
        self._thread.start()

    def _serve(self, flush_denormal: bool, threads: int) -> None:
        # OpenMP's (and so MKL's) thread count is a per-thread setting too: a thread of
        # its own would split a product over every core, and round it differently.
        torch.set_num_threads(threads)
        if flush_denormal:
            torch.set_flush_denormal(True)
        # Inference mode is per thread: the engine's tensors need no autograd here either.
        with torch.inference_mode():
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                fn, args = job
                try:
                    fn(*args)
                    self._results.put(None)
                except BaseException as error:  # handed to the waiting thread
                    self._results.put(error)

    def submit(self, fn: Callable, *args) -> int:
        """Queue ``fn(*args)``; returns the job's number for :meth:`wait`."""
        self._jobs.put((fn, args))
        self._submitted += 1
        return self._submitted

    def wait(self, job: int | None = None) -> None:
        """Block until job number ``job`` (default: every job queued) has finished;
        re-raise the first error a job raised."""
        target = self._submitted if job is None else job
        while self._finished < target:
            error = self._results.get()
            self._finished += 1
            if error is not None and self._error is None:
                self._error = error
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Finish the queued jobs and end the thread."""
        self._jobs.put(None)
        self._thread.join()
