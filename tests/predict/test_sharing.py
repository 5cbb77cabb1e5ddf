"""The prediction's files written by two processes at once (SharedJobs)."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from lilyvae.errors import LilyVAEError
from lilyvae.predict.predictor import Stopwatch
from lilyvae.predict.sharing import BESIDE, SharedJobs

forks = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork here"
)


def _writer(folder, j):
    def write():
        (folder / f"{j}.txt").write_text(f"{os.getpid()}\n", encoding="utf-8")

    return write


def test_every_job_runs_once_between_the_two_processes(tmp_path):
    jobs = [("write", _writer(tmp_path, j)) for j in range(40)]
    shared = SharedJobs(jobs)
    watch = Stopwatch()
    shared.run_here(watch)
    shared.wait(watch)
    written = sorted(int(p.stem) for p in tmp_path.glob("*.txt"))
    assert written == list(range(40))
    pids = {p.read_text(encoding="utf-8").strip() for p in tmp_path.glob("*.txt")}
    beside = {str(shared.process.pid)} if shared.process is not None else set()
    assert pids <= {str(os.getpid())} | beside


@forks
def test_the_process_beside_takes_the_jobs_this_one_leaves(tmp_path):
    """This process takes none: the forked one runs them all, in order from the front,
    and its seconds come back under their stage's name."""
    jobs = [("figures", _writer(tmp_path, j)) for j in range(5)]
    shared = SharedJobs(jobs)
    watch = Stopwatch()
    shared.wait(watch)
    shared.run_here(watch)  # nothing left
    pids = {p.read_text(encoding="utf-8").strip() for p in tmp_path.glob("*.txt")}
    assert len(list(tmp_path.glob("*.txt"))) == 5
    assert pids and str(os.getpid()) not in pids
    assert "figures" + BESIDE in watch and "figures" not in watch


@forks
def test_a_job_failing_beside_is_an_error_here(tmp_path):
    def broken():
        raise ValueError("no such font")

    shared = SharedJobs([("figures", broken), ("figures", _writer(tmp_path, 1))])
    with pytest.raises(LilyVAEError, match="no such font"):
        shared.wait(Stopwatch())
    assert not list(tmp_path.glob("*.txt"))  # it stopped at the failure


@forks
def test_stop_ends_the_process_beside():
    """A job that would run for a minute is ended by a signal, not left to finish."""
    shared = SharedJobs([("figures", lambda: time.sleep(60))])
    shared.stop()
    assert not shared.process.is_alive()
    assert shared.process.exitcode is not None and shared.process.exitcode < 0


def test_without_fork_every_job_runs_here(tmp_path, monkeypatch):
    def no_fork(method=None):
        raise ValueError("cannot find context for 'fork'")

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    jobs = [("LAS", _writer(tmp_path, j)) for j in range(3)]
    shared = SharedJobs(jobs)
    watch = Stopwatch()
    shared.run_here(watch)
    shared.wait(watch)
    pids = {p.read_text(encoding="utf-8").strip() for p in tmp_path.glob("*.txt")}
    assert pids == {str(os.getpid())} and len(list(tmp_path.glob("*.txt"))) == 3
    assert "LAS" in watch
