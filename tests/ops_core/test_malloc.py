"""ops_core.malloc: the push's glibc settings take effect (counted in glibc's own malloc_stats), and yield to
the environment."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ops_core.malloc import PUSH_ARENAS, _glibc_mallopt

pytestmark = pytest.mark.skipif(_glibc_mallopt() is None, reason="glibc only")

# Ten threads that each allocate from malloc (1 KB bytes objects are past pymalloc's 512 bytes), then glibc's
# malloc_stats() lists one "Arena N:" block per arena on stderr.
PROGRAM = """
import ctypes, sys, threading
{setup}
def work():
    keep = [b"x" * 1000 for _ in range(200)]
    ready.wait()
ready = threading.Event()
threads = [threading.Thread(target=work) for _ in range(10)]
for t in threads:
    t.start()
ready.set()
for t in threads:
    t.join()
sys.stderr.flush()
ctypes.CDLL("libc.so.6").malloc_stats()
"""


def arenas(setup: str, **env: str) -> int:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(setup=setup)],
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(line.startswith("Arena ") for line in done.stderr.splitlines())


def test_a_push_process_keeps_to_two_malloc_arenas_however_many_threads_allocate() -> None:
    assert arenas("") > PUSH_ARENAS  # glibc's default: an arena per thread, up to 8 per core
    tuned = "from ops_core.malloc import tune_malloc_for_push\nassert all(tune_malloc_for_push().values())"
    assert arenas(tuned) <= PUSH_ARENAS


def test_the_cli_applies_the_settings_when_it_is_imported() -> None:
    assert arenas("import ops_instantly.cli") <= PUSH_ARENAS


def test_malloc_arena_max_in_the_environment_wins() -> None:
    setup = "from ops_core.malloc import tune_malloc_for_push\nprint(tune_malloc_for_push())"
    assert arenas(setup, MALLOC_ARENA_MAX="4") > PUSH_ARENAS
