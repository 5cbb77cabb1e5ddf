"""sha256 of the input files, computed in a background thread while DuckDB reads them.

hashlib releases the GIL, so hashing gigabytes costs the build little wall time. A
failed build cancels the thread rather than let it go on reading.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from lilyvae.data.lily.progress import first_line
from lilyvae.errors import LilyVAEError


class InputChecksums:
    """sha256 of the inputs, in a background thread (hashlib releases the GIL).

    :meth:`cancel` stops it early (a failed build does not go on reading gigabytes).
    """

    def __init__(self, paths: dict[str, Path]):
        self.paths = paths
        self.result: dict[str, str] = {}
        self.error: BaseException | None = None
        self.seconds = 0.0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="lilyvae-sha256", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        buffer = bytearray(8 << 20)
        view = memoryview(buffer)
        try:
            for table, path in self.paths.items():
                digest = hashlib.sha256()
                with open(path, "rb", buffering=0) as fh:
                    while not self._stop.is_set():
                        n = fh.readinto(buffer)
                        if not n:
                            break
                        digest.update(view[:n])
                if self._stop.is_set():
                    return
                self.result[table] = digest.hexdigest()
        except BaseException as exc:
            self.error = exc
        finally:
            self.seconds = time.perf_counter() - t0

    def cancel(self) -> None:
        self._stop.set()
        self.thread.join()

    def wait(self) -> dict[str, str]:
        self.thread.join()
        if self.error is not None:
            raise LilyVAEError(f"cannot checksum the inputs ({first_line(self.error)})")
        return self.result
