"""The command keeps freed memory for its next arrays (lilyvae.memory).

Each check runs in a fresh interpreter: the allocator's settings belong to a process,
and this one's must not depend on which tests ran before.
"""

import os
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="the settings are glibc's",
)

# Rounds of eight 2 MB arrays made and freed: the page faults of rounds 2..20, and the
# pages one round writes (what each round costs when its memory is new every time).
_ROUNDS = """
import resource, numpy as np
{setup}
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
arrays = [np.ones(2**18) for _ in range(8)]
del arrays
start = faults()
for _ in range(19):
    arrays = [np.ones(2**18) for _ in range(8)]
    del arrays
print(faults() - start, 8 * 2**18 * 8 // resource.getpagesize())
"""


def _python(code: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environ.pop("GLIBC_TUNABLES", None)
    environ.pop("LILYVAE_KEEP_FREED_MEMORY", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=environ | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_freed_arrays_are_reused_without_new_page_faults():
    setup = "from lilyvae.memory import keep_freed_memory\nassert keep_freed_memory()"
    faults, pages = map(int, _python(_ROUNDS.format(setup=setup)))
    assert faults < pages  # 19 rounds cost less than one round's pages: reused
    # ... where glibc's defaults return most of each round's memory to the kernel
    faults_default, _ = map(int, _python(_ROUNDS.format(setup="")))
    assert faults_default > 5 * pages


def test_the_command_sets_them_for_its_worker_processes():
    code = (
        "import os\nfrom lilyvae.cli.main import main\nmain(['inspect', 'no-such.pt'])\n"
        "print(os.environ['MALLOC_MMAP_THRESHOLD_'], os.environ['MALLOC_TRIM_THRESHOLD_'])"
    )
    from lilyvae.memory import MMAP_THRESHOLD, TRIM_THRESHOLD

    assert _python(code) == [str(MMAP_THRESHOLD), str(TRIM_THRESHOLD)]


def test_a_users_own_choice_is_kept():
    code = (
        "import os\nfrom lilyvae.memory import keep_freed_memory\n"
        "print(keep_freed_memory(), os.environ.get('MALLOC_MMAP_THRESHOLD_', '-'))"
    )
    assert _python(code, MALLOC_TRIM_THRESHOLD_="131072") == ["False", "-"]
    assert _python(code, GLIBC_TUNABLES="glibc.malloc.trim_threshold=131072") == ["False", "-"]
    assert _python(code, LILYVAE_KEEP_FREED_MEMORY="0") == ["False", "-"]
