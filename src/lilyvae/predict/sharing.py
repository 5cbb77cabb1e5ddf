"""The files of one prediction, written by two processes at once.

Each of the two takes the next job that neither has taken: a forked process from the
front of the list (where the figures are: matplotlib is Python that holds the GIL, so
a thread of it would slow this one), this process from the back (the table, the LAS
files), until they meet. Neither waits while the other still has work, whatever each
job costs on the machine at hand; and this process can first do work of its own (the
blind-well test) while the other starts on the figures.

Where processes cannot be forked (Windows, and macOS by default) every job runs here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from lilyvae.errors import LilyVAEError

#: How the forked process's stages are named in the stopwatch.
BESIDE = " (beside the rest)"


class SharedJobs:
    """``jobs``: (stage, function) pairs; each function writes its own file."""

    def __init__(self, jobs: list[tuple[str, Callable[[], None]]]):
        import multiprocessing

        self.jobs = jobs
        self.process = None
        self._ends = [0, len(jobs)]  # next job from the front; one past the last from the back
        self._lock = None
        try:
            context = multiprocessing.get_context("fork")
        except ValueError:
            return
        # the ends, shared by both processes (a lock-guarded array in shared memory)
        self._ends = context.Array("q", self._ends)
        self._lock = self._ends.get_lock()
        self.reader, writer = context.Pipe(duplex=False)
        self.process = context.Process(target=self._beside, args=(writer,), daemon=True)
        self.process.start()
        writer.close()  # the child's copy is what it writes to; EOF here if it dies

    def _take(self, front: bool) -> int | None:
        """The index of the next job from one end, or None once the two ends have met."""
        if self._lock is None:
            return self._next(front)
        with self._lock:
            return self._next(front)

    def _next(self, front: bool) -> int | None:
        low, high = self._ends[0], self._ends[1]
        if low >= high:
            return None
        if front:
            self._ends[0] = low + 1
            return low
        self._ends[1] = high - 1
        return high - 1

    def _beside(self, writer) -> None:
        """The forked process: jobs from the front; then its seconds per stage, or what
        went wrong, to this process."""
        seconds: dict[str, float] = {}
        try:
            while (j := self._take(front=True)) is not None:
                stage, job = self.jobs[j]
                start = time.perf_counter()
                job()
                seconds[stage] = seconds.get(stage, 0.0) + time.perf_counter() - start
            writer.send((seconds, None))
        except BaseException as exc:  # an interrupt too: this process must hear of it
            writer.send((seconds, f"{type(exc).__name__}: {exc}"))
        finally:
            writer.close()

    def run_here(self, watch) -> None:
        """Jobs from the back, each timed by ``watch``, until none is left."""
        while (j := self._take(front=False)) is not None:
            stage, job = self.jobs[j]
            with watch(stage):
                job()

    def stop(self) -> None:
        """End the forked process if it is still running (this one failed: its files are
        about to be removed, and it must not write them again)."""
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join()

    def wait(self, watch) -> None:
        """Wait for the forked process; its seconds go to ``watch`` as "<stage> (beside
        the rest)". Raises LilyVAEError if a job failed there or the process died."""
        if self.process is None:
            return
        try:
            seconds, failure = self.reader.recv()
        except EOFError:
            seconds, failure = {}, "the process writing them beside this one stopped"
        self.process.join()
        self.reader.close()
        for stage, spent in seconds.items():
            watch[stage + BESIDE] = watch.get(stage + BESIDE, 0.0) + spent
        if failure:
            raise LilyVAEError(f"could not write the prediction's files: {failure}")
