"""The build's progress log: lines to stderr (or a callback), a bar while a file is read.

Reading a multi-gigabyte file is one DuckDB statement; :func:`execute` runs it in a
worker thread and meanwhile shows DuckDB's own progress (a bar on a terminal, a line
every ten seconds otherwise), and passes Ctrl-C on to DuckDB.
"""

from __future__ import annotations

import sys
import threading
import time

from lilyvae.errors import first_line

__all__ = ["BuildLog", "first_line", "human_size"]


def human_size(n: int) -> str:
    """Bytes for a log line: 2.7 GB, 14.0 MB, 512 B."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n} B"


class BuildLog:
    """Log lines to stderr (or a callback); a progress bar while a file is read."""

    def __init__(self, progress):
        if progress is True:
            self.emit = lambda msg: print(msg, file=sys.stderr, flush=True)
            self.bar = sys.stderr.isatty()
            self.periodic = not self.bar
        elif callable(progress):
            self.emit, self.bar, self.periodic = progress, False, False
        else:
            self.emit, self.bar, self.periodic = None, False, False

    def __call__(self, msg: str) -> None:
        if self.emit is not None:
            self.emit(msg)

    @property
    def watch(self) -> bool:
        return self.bar or self.periodic


def execute(con, sql: str, log: BuildLog | None = None, label: str = "") -> None:
    """Run one statement; with a log that wants it, show DuckDB's progress meanwhile."""
    if log is None or not log.watch:
        con.execute(sql).fetchall()
        return
    outcome: dict[str, BaseException] = {}

    def work() -> None:
        try:
            con.execute(sql).fetchall()
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="lilyvae-duckdb", daemon=True)
    bar = None
    if log.bar:
        from tqdm import tqdm

        bar = tqdm(total=100, desc=label, unit="%", leave=False, file=sys.stderr)
    worker.start()
    last_line = time.monotonic()
    try:
        while worker.is_alive():
            worker.join(0.25)
            done = con.query_progress()
            if done < 0:
                continue
            if bar is not None:
                bar.n = int(done)
                bar.refresh()
            elif time.monotonic() - last_line > 10.0:
                log(f"      {label}: {done:.0f}% read")
                last_line = time.monotonic()
    except KeyboardInterrupt:
        con.interrupt()
        worker.join()
        raise
    finally:
        if bar is not None:
            bar.close()
    if "error" in outcome:
        raise outcome["error"]
