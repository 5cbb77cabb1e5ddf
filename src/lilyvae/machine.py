"""The processor a run happens on, as far as floating-point bytes depend on it.

Same seed, same data, same machine: same bytes. Across machines the bytes of a trained
model differ by rounding, because three layers pick code for the host processor:

- numba compiles the engine's fused kernels for the host CPU (``NUMBA_CPU_NAME``,
  default the host's own name: AVX-512 machines get wider vectors, so sums are
  associated differently);
- PyTorch dispatches its element-wise and reduction kernels by the CPU's vector
  instructions (``ATEN_CPU_CAPABILITY``: ``default``, ``avx2``, ``avx512``);
- the BLAS inside PyTorch (MKL on x86-64) chooses matrix-product kernels by processor
  and size.

This module names those choices, for model cards and for the test log, so that a
difference between two machines can be traced to where the runs were made.
"""

from __future__ import annotations

import os
import platform
from functools import cache

# The flags that decide which vector code the three layers above run.
_VECTOR_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16")


@cache
def _cpuinfo() -> tuple[str, tuple[str, ...]]:
    """(model name, vector flags) from /proc/cpuinfo; unknown elsewhere."""
    model, flags = platform.processor() or "unknown", ()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model in ("unknown", "", platform.machine()):
                    model = value.strip()
                elif key in ("flags", "Features") and not flags:
                    present = set(value.split())
                    flags = tuple(f for f in _VECTOR_FLAGS if f in present)
                if model not in ("unknown", "") and flags:
                    break
    except OSError:
        pass
    return model, flags


def numba_target() -> str:
    """The CPU numba compiles the kernels for (``NUMBA_CPU_NAME`` or the host's)."""
    name = os.environ.get("NUMBA_CPU_NAME")
    if name:
        return name
    try:
        import llvmlite.binding as llvm

        return f"host ({llvm.get_host_cpu_name()})"
    except ImportError:  # numba (and llvmlite) not installed: no compiled kernels
        return "unavailable"


def torch_capability() -> str:
    """The vector instructions PyTorch's CPU kernels dispatch to."""
    import torch

    return torch.backends.cpu.get_cpu_capability()


def cpu_environment() -> dict:
    """What a model card and the test log record about the processor."""
    model, flags = _cpuinfo()
    return {
        "cpu": model,
        "machine": platform.machine(),
        "cpu_vector_flags": list(flags),
        "torch_cpu_capability": torch_capability(),
        "numba_cpu": numba_target(),
    }


def describe_cpu() -> str:
    """One line for logs: the CPU, its vector flags and the kernels chosen."""
    env = cpu_environment()
    return (
        f"{env['cpu']} ({env['machine']}); flags {' '.join(env['cpu_vector_flags']) or 'none'}; "
        f"torch {env['torch_cpu_capability']}; numba {env['numba_cpu']}"
    )


if __name__ == "__main__":
    print(describe_cpu())
