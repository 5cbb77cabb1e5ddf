"""Output streams that a closed pipe cannot break, and SIGTERM as an interrupt.

``lilyvae train ... | head -1`` closes the pipe after one line. Python ignores SIGPIPE,
so the next progress line would raise ``BrokenPipeError`` and end the command before
its results are written: a display that nobody reads would cost the work. The command
line therefore wraps stdout and stderr so that a write or flush to a closed pipe is
dropped (and every later one with it) while the work goes on; the command then exits
with the status of its work, as if the lines had been read.

A SIGTERM (``kill``, a batch system's time limit) is turned into the same
``KeyboardInterrupt`` as Ctrl-C, so that the clean-up a command does on an interrupt
(temporary files removed, nothing half-written) happens on both.
"""

from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager

#: The exit status of a command ended by SIGTERM (128 + 15, as a shell reports it).
EXIT_TERMINATED = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """A SIGTERM, raised where the program was, so it unwinds as an interrupt does."""


class PipeSafeStream:
    """A text stream whose writes to a closed pipe are dropped instead of raising."""

    def __init__(self, stream):
        self._stream = stream
        self.pipe_closed = False

    def write(self, text: str) -> int:
        if not self.pipe_closed:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._closed()
        return len(text)

    def flush(self) -> None:
        if not self.pipe_closed:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._closed()

    def _closed(self) -> None:
        """Send what is still buffered, and all that follows, to the null device, so
        that the interpreter's own flush at exit does not fail on the closed pipe."""
        self.pipe_closed = True
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self._stream.fileno())
            os.close(null)
        except (OSError, ValueError, AttributeError):  # no file descriptor: nothing to redirect
            pass

    def isatty(self) -> bool:
        return not self.pipe_closed and self._stream.isatty()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _raise_terminated(signum, frame):
    raise Terminated()


@contextmanager
def safe_streams():
    """Within: stdout and stderr survive a closed pipe, and SIGTERM is an interrupt."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = PipeSafeStream(sys.stdout), PipeSafeStream(sys.stderr)
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: SIGTERM keeps its handler
        previous = None
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = saved
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
