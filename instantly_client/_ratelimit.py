"""Client-side rate limiting: per-second and per-minute budgets enforced together.

Instantly allows 100 requests/second AND 6,000 requests/minute per workspace, shared by every key and by
API v1 and v2 (DOC-RL). A :class:`RateLimiter` is a sliding-window log over both windows: it never lets
more than N requests start in any window of the given length. One limiter per workspace per process is
shared through :func:`shared_limiter`.

Anything with an ``acquire()`` method satisfies :class:`Limiter`, so a cross-process limiter can be
swapped in, e.g. one wrapping Prefect's global concurrency limits::

    from prefect.concurrency.sync import rate_limit
    limiter = CallableLimiter(lambda: rate_limit("instantly-workspace"))
    client = InstantlyClient(api_key=key, limiter=limiter)
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "CallableLimiter",
    "Limiter",
    "RateLimiter",
    "Window",
    "limiter_key",
    "shared_limiter",
]

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@runtime_checkable
class Limiter(Protocol):
    """Anything that blocks until one more request may start."""

    def acquire(self) -> None:
        """Block until a request may be sent, then count it."""
        ...


class CallableLimiter:
    """Adapt a zero-argument callable (e.g. a Prefect ``rate_limit`` call) to :class:`Limiter`."""

    def __init__(self, acquire: Callable[[], object]) -> None:
        self._acquire = acquire

    def acquire(self) -> None:
        self._acquire()

    def __repr__(self) -> str:
        return f"CallableLimiter({self._acquire!r})"


@dataclass(frozen=True)
class Window:
    """At most ``limit`` request starts in any ``period`` seconds."""

    limit: int
    period: float

    @classmethod
    def from_rate(cls, rate: float, period: float) -> Window:
        """Window for ``rate`` requests per ``period``; a rate below 1 widens the window instead."""
        if rate <= 0 or not math.isfinite(rate):
            raise ValueError(f"rate must be a positive number, got {rate!r}")
        if rate >= 1:
            return cls(limit=int(rate), period=period)
        return cls(limit=1, period=period / rate)


def wait_time(starts: deque[float], window: Window, now: float) -> float:
    """Seconds until one more start fits in ``window``, given recent ``starts`` (pure).

    ``starts`` must already be pruned to the window; it is not modified.
    """
    if len(starts) < window.limit:
        return 0.0
    # The oldest start that must leave the window before we may go.
    oldest_blocking = starts[len(starts) - window.limit]
    return max(0.0, oldest_blocking + window.period - now)


class RateLimiter:
    """Thread-safe sliding-window limiter over a per-second and a per-minute window together.

    Args:
        rate_per_second: requests allowed in any 1-second window (``None`` = no per-second limit).
        rate_per_minute: requests allowed in any 60-second window (``None`` = no per-minute limit).
        clock: monotonic clock in seconds (injectable for tests).
        sleep: sleep function (injectable for tests).
    """

    def __init__(
        self,
        rate_per_second: float | None = 50,
        rate_per_minute: float | None = 3000,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        windows = []
        if rate_per_second is not None:
            windows.append(Window.from_rate(rate_per_second, 1.0))
        if rate_per_minute is not None:
            windows.append(Window.from_rate(rate_per_minute, 60.0))
        if not windows:
            raise ValueError("RateLimiter needs rate_per_second or rate_per_minute")
        self.rate_per_second = rate_per_second
        self.rate_per_minute = rate_per_minute
        self._windows = tuple(windows)
        self._horizon = max(w.period for w in self._windows)
        self._max_kept = max(w.limit for w in self._windows)
        self._starts: deque[float] = deque()
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    @property
    def windows(self) -> tuple[Window, ...]:
        return self._windows

    def _try_acquire(self) -> float:
        """Count a start and return 0, or return how long to wait (call with the lock held)."""
        now = self._clock()
        while self._starts and self._starts[0] <= now - self._horizon:
            self._starts.popleft()
        wait = 0.0
        for window in self._windows:
            recent = deque(s for s in self._starts if s > now - window.period)
            wait = max(wait, wait_time(recent, window, now))
        if wait <= 0:
            self._starts.append(now)
            while len(self._starts) > self._max_kept:
                self._starts.popleft()
        return wait

    def acquire(self) -> None:
        """Block until both windows have room, then count one request start."""
        while True:
            with self._lock:
                wait = self._try_acquire()
            if wait <= 0:
                return
            self._sleep(wait)

    def __repr__(self) -> str:
        return f"RateLimiter(rate_per_second={self.rate_per_second}, rate_per_minute={self.rate_per_minute})"


_registry: dict[str, RateLimiter] = {}
_registry_lock = threading.Lock()


def limiter_key(base_url: str, *, workspace_id: str | None = None, api_key: str | None = None) -> str:
    """Registry key for a workspace: base URL plus workspace id, else a hash of the key (never the key)."""
    base = base_url.rstrip("/")
    if workspace_id:
        return f"{base}|workspace:{workspace_id}"
    if api_key:
        digest = hashlib.sha256(api_key.encode()).hexdigest()[:16]
        return f"{base}|key-sha256:{digest}"
    return base


def shared_limiter(key: str, rate_per_second: float | None, rate_per_minute: float | None) -> RateLimiter:
    """The process-wide limiter for ``key``, created on first use.

    Later calls with the same key return the same limiter, whatever rates they pass: the budget belongs
    to the workspace, not to one client.
    """
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = RateLimiter(rate_per_second, rate_per_minute)
            _registry[key] = limiter
        return limiter
