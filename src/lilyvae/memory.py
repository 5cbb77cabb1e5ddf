"""The command's memory allocator: keep freed memory for the next array.

Why: a run allocates and frees arrays of a few megabytes thousands of times (each batch
of embeddings, each SVM block, each boosted-tree fit). glibc's malloc serves blocks above
its mmap threshold (128 KiB at first, raised as larger blocks are freed) with ``mmap``
and returns them with ``munmap``, and it trims the top of its heap when more than twice
that threshold is free there; when sizes vary, the next array is often new memory, and
every page of it is a page fault when first written. Measured side by side on this
project's 2-core VM (``benchmarks/bench_demo.py --allocator``), the demo made 1.83
million minor page faults and spent 18 s in the kernel with glibc's behaviour, 0.90
million and 12-13 s with these settings; its wall time moved by about 1%, within the
noise, and every output file was the same, byte for byte, but for timings and paths.

:func:`keep_freed_memory` sets glibc's two thresholds: arrays up to
:data:`MMAP_THRESHOLD` (the largest glibc allows) come from the heap, and freed heap
memory is kept up to :data:`TRIM_THRESHOLD` instead of being returned. A process keeps
its heap's peak mapped until it ends, and the heap fragments a little: the demo's peak
memory was 5% higher, predict's 7% (1.24 GB against 1.16 GB on a million bins).

Only the ``lilyvae`` command calls it (a Python user's own process keeps its
allocator); it does nothing off glibc, where the user has chosen the thresholds
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or malloc tunables in
``GLIBC_TUNABLES``), or with ``LILYVAE_KEEP_FREED_MEMORY=0`` (glibc's own behaviour:
``benchmarks/bench_demo.py --allocator`` compares the two). Worker processes started
afresh (scikit-learn's loky pool) get the same settings through those environment
variables; forked ones inherit them.
"""

from __future__ import annotations

import ctypes
import os
import platform

#: glibc's largest mmap threshold on 64-bit Linux (``DEFAULT_MMAP_THRESHOLD_MAX``).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Free memory kept at the top of the heap before it is trimmed (mallopt takes an int).
TRIM_THRESHOLD = 1024 * 1024 * 1024
# mallopt's parameter numbers (glibc's malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_ENVIRONMENT = {
    "MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD,
    "MALLOC_TRIM_THRESHOLD_": TRIM_THRESHOLD,
}


#: Set to 0 to leave glibc's allocator as it is.
SWITCH = "LILYVAE_KEEP_FREED_MEMORY"
_SET = False  # whether this process has set them (a second call changes nothing)


def _user_chose() -> bool:
    if os.environ.get(SWITCH, "1").strip() == "0":
        return True
    return any(name in os.environ for name in _ENVIRONMENT) or "glibc.malloc" in os.environ.get(
        "GLIBC_TUNABLES", ""
    )


def keep_freed_memory() -> bool:
    """Set the thresholds in this process and, through the environment, in the worker
    processes it starts. Returns whether they are set (by this call or an earlier one)."""
    global _SET
    if _SET:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc" or _user_chose():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    if not (
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    ):
        return False
    for name, value in _ENVIRONMENT.items():
        os.environ[name] = str(value)
    _SET = True
    return True
