"""glibc malloc settings for a push process: few arenas, a fixed mmap threshold (lower peak RSS).

A push keeps dozens of HTTP worker threads busy with short-lived blocks of 100-300 KB (a request body of
1,000 encoded leads, its answer, the parsed created leads). glibc gives each thread an arena of its own, up to
8 per core, and after the first such block is freed it raises its mmap threshold above their size, so they
come from those arenas from then on: at 100 requests/s a 1,000,000-lead push ended with about 250 MB free
but held in the arenas (mallinfo2 at the peak), a quarter of its peak RSS. Two arenas and the threshold fixed
at glibc's default (128 KiB, so those blocks are mmapped and returned whole) took 80-100 MB off the peak
(bench/README.md, the push section). polars and DuckDB allocate through their own jemalloc and are
not affected.

The same can be set from outside with MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_; either one, when set,
wins over this module. Elsewhere than glibc (macOS, musl) nothing is changed.
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
    return mallopt  # type: ignore[no-any-return]
