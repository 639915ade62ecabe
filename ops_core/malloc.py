"""glibc malloc settings for a push process: few arenas, a fixed mmap threshold (lower peak RSS).

A push keeps dozens of HTTP worker threads busy with short-lived blocks of 100-300 KB (a request body of
1,000 encoded leads, its answer, the parsed created leads), and native code beside it frees larger ones.
glibc gives each thread an arena of its own, up to 8 per core, and once a large block is freed it raises
its mmap threshold above that block's size, so such blocks come from the arenas from then on: at 100
requests/s a 1,000,000-lead push had about 250 MB free but held in its arenas at the peak (mallinfo2).

Measured on that push (2 cores, one process per run, bench/README.md "Peak RSS at 100 req/s"): two arenas and
the threshold fixed at glibc's default of 128 KiB took the peak from 907-941 MB to 835-847 MB, and cost
about 0.5 million more page faults, 1.2-1.7 s more system CPU. Two arenas alone: 910-935 MB; a fixed 1 MiB or
4 MiB threshold: 867-903 MB. polars and DuckDB's buffer manager allocate through their own jemalloc.

The same can be set from outside with MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_; either one, when set,
wins over this module (MALLOC_MMAP_THRESHOLD_=4194304 gives the CPU back and keeps about half of the RSS
saving). Elsewhere than glibc (macOS, musl) nothing is changed.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
from collections.abc import Callable

__all__ = ["PUSH_ARENAS", "PUSH_MMAP_THRESHOLD", "tune_malloc_for_push"]

PUSH_ARENAS = 2  # glibc's default is 8 per core (16 on a 2-core machine)
PUSH_MMAP_THRESHOLD = 128 * 1024  # glibc's initial value, kept fixed (a fixed value ends the dynamic raise)

# glibc <malloc.h>
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

_lock = threading.Lock()
_applied: dict[str, bool] = {}


def tune_malloc_for_push() -> dict[str, bool]:
    """Apply PUSH_ARENAS and PUSH_MMAP_THRESHOLD through glibc's `mallopt` (once per process).

    Best called early, before the process starts its threads: glibc fixes its arena limit the first time a
    thread needs a ninth arena. Calling it again does nothing.

    Returns:
        Which settings this call (or an earlier one) applied: ``{"arena_max": bool, "mmap_threshold": bool}``;
        both False off glibc, and each False when its environment variable is set.
    """
    with _lock:
        if _applied:
            return dict(_applied)
        _applied.update(arena_max=False, mmap_threshold=False)
        mallopt = _glibc_mallopt()
        if mallopt is None:
            return dict(_applied)
        if "MALLOC_ARENA_MAX" not in os.environ:
            _applied["arena_max"] = mallopt(_M_ARENA_MAX, PUSH_ARENAS) == 1
        if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
            _applied["mmap_threshold"] = mallopt(_M_MMAP_THRESHOLD, PUSH_MMAP_THRESHOLD) == 1
        return dict(_applied)


def _glibc_mallopt() -> Callable[[int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")  # glibc's soname (musl has no libc.so.6)
        gnu_get_libc_version = libc.gnu_get_libc_version  # glibc only
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    gnu_get_libc_version.restype = ctypes.c_char_p
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt
