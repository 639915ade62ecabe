"""Client-side rate limiting: keep to the workspace budget whatever window algorithm the server counts with.

Instantly allows 100 requests/second AND 6,000 requests/minute per workspace, shared by every key and by API
v1 and v2 (DOC-RL). The docs do not say whether the server counts in fixed windows (calendar seconds and
minutes) or sliding ones, and the server counts request *arrivals*, not the moments our threads decide to
send. A limiter that lets N requests start back to back and then waits for its own window to clear is exact
on paper and gets 429s in practice: a burst that leaves at the end of one of our windows arrives spread by a
few milliseconds of scheduling and network jitter, and the next burst lands in the same server window.

So :class:`RateLimiter` does three things, all per workspace and per process:

1. **Paces** request starts evenly, one every ``1 / rate`` seconds, at a little under the budget
   (``headroom``, 5% by default: about 50 ms of arrival jitter tolerated per second of window). Even spacing
   keeps any window, fixed or sliding, aligned anywhere, at or under the budget.
2. **Caps** starts with sliding windows over the configured budgets (``rate_per_second`` in any 1 s,
   ``rate_per_minute`` in any 60 s), so the budgets hold even if the pace were set too high.
3. **Adapts** to the server (AIMD): a 429 for a request sent at the current pace cuts the pace
   (``decrease``, x0.8 of the pace, or of the rate really sent over the last 2 s if that is lower), a
   ``Retry-After`` pauses every start until it has passed, and the pace climbs back by ``recovery`` (2% of
   the budget) per second without 429s up to 95% of the pace that failed, then ten times slower up to the
   ceiling (like TCP's congestion avoidance). Another tool using the same workspace, or a server that
   stalls and then counts a clump of late arrivals at once, therefore costs a few 429s, not a stream.

The client reports every response with :meth:`RateLimiter.on_response` (see :class:`RateFeedback`); the
retry policy in ``_retry.py`` still decides whether and when the refused request itself is resent.

Anything with an ``acquire()`` method satisfies :class:`Limiter`. To share one budget between processes,
wrap a cross-process limiter (a Prefect global concurrency limit, in ``blocks/instantly.py``) in a
:class:`BatchLimiter`, which takes its slots a few at a time, and pass it as ``global_limiter``::

    from prefect.concurrency.sync import rate_limit
    shared = BatchLimiter(lambda n: rate_limit("instantly-workspace", occupy=n), batch=10)
    client = InstantlyClient(api_key=key, global_limiter=shared)

The API other modules rely on (kept stable): ``Limiter.acquire()``, ``RateLimiter(rate_per_second,
rate_per_minute, *, clock, sleep, ...)`` with ``.budget``, ``.rate``, ``.rate_per_second``,
``.rate_per_minute`` and ``.on_response(...)``, ``BatchLimiter``, ``CallableLimiter``, ``shared_limiter``.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = [
    "BatchLimiter",
    "CallableLimiter",
    "Limiter",
    "RateFeedback",
    "RateLimiter",
    "SlidingWindowLimiter",
    "Window",
    "limiter_key",
    "shared_limiter",
    "shared_window_limiter",
]

Clock = Callable[[], float]
Sleep = Callable[[float], None]

HTTP_TOO_MANY_REQUESTS = 429
SENT_SPAN = 2.0  # seconds over which the rate really sent is measured when a 429 cuts the pace
PROBE_BELOW = 0.95  # after a cut, recover quickly up to this fraction of the pace that failed ...
PROBE_SLOWER = 0.1  # ... and above it at this fraction of the recovery speed


@runtime_checkable
class Limiter(Protocol):
    """Anything that blocks until one more request may start."""

    def acquire(self) -> None:
        """Block until a request may be sent, then count it."""
        ...


@runtime_checkable
class RateFeedback(Protocol):
    """A limiter that learns from responses (the client calls this after every response)."""

    def on_response(self, status_code: int, *, started: float, retry_after: float | None = None) -> None:
        """Record one response.

        Args:
            status_code: the HTTP status (429 means the server refused it for its rate limit).
            started: the limiter clock's reading when the request was sent.
            retry_after: the server's ``Retry-After`` in seconds, if it sent one.
        """
        ...


class CallableLimiter:
    """Adapt a zero-argument callable (e.g. a Prefect ``rate_limit`` call) to :class:`Limiter`."""

    def __init__(self, acquire: Callable[[], object]) -> None:
        self._acquire = acquire

    def acquire(self) -> None:
        self._acquire()

    def __repr__(self) -> str:
        return f"CallableLimiter({self._acquire!r})"


class BatchLimiter:
    """Take slots from a shared, costly limiter ``batch`` at a time; hand them out one per request.

    A cross-process limiter costs a server round trip per call; at 100 requests/s that is 100 calls a second.
    Taking ``batch`` slots per call divides that by ``batch``. The price: a process may hold up to ``batch - 1``
    slots it has not used yet (and loses them when it ends), so keep ``batch`` small next to the budget
    (about a tenth of a second of it). Pacing stays the job of the process's own :class:`RateLimiter`.

    Args:
        take: blocks until ``n`` slots are granted (e.g. ``lambda n: rate_limit(name, occupy=n)``).
        batch: slots per call of ``take``.
    """

    def __init__(self, take: Callable[[int], object], batch: int) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch!r}")
        self._take = take
        self.batch = batch
        self._left = 0
        self._lock = threading.Lock()
        self.calls = 0  # calls of `take` so far

    def acquire(self) -> None:
        # Under the lock: one thread fetches the next batch while the others wait for it.
        with self._lock:
            if self._left == 0:
                self._take(self.batch)
                self.calls += 1
                self._left = self.batch
            self._left -= 1

    def __repr__(self) -> str:
        return f"BatchLimiter(batch={self.batch}, calls={self.calls})"


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


def _windows(rate_per_second: float | None, rate_per_minute: float | None) -> tuple[Window, ...]:
    windows = []
    if rate_per_second is not None:
        windows.append(Window.from_rate(rate_per_second, 1.0))
    if rate_per_minute is not None:
        windows.append(Window.from_rate(rate_per_minute, 60.0))
    if not windows:
        raise ValueError("a rate limiter needs rate_per_second or rate_per_minute")
    return tuple(windows)


def earliest_start(starts: list[float], windows: tuple[Window, ...], t: float) -> float:
    """The earliest time >= ``t`` at which one more start fits every window, given sorted ``starts`` (pure)."""
    while True:
        later = t
        for window in windows:
            # starts inside (later - period, later]: the window that a start at `later` would join
            inside = len(starts) - bisect.bisect_right(starts, later - window.period)
            if inside >= window.limit:
                later = max(later, starts[len(starts) - window.limit] + window.period)
        if later == t:
            return t
        t = later


class SlidingWindowLimiter:
    """Thread-safe sliding-window log: bursts allowed, never more than N starts in any window.

    For rare, bursty endpoints with a per-minute limit of their own (GET /emails: 20/min), where even pacing
    would make a 20-page read take a minute. The workspace budget uses :class:`RateLimiter`.
    """

    def __init__(
        self,
        rate_per_second: float | None,
        rate_per_minute: float | None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.rate_per_second = rate_per_second
        self.rate_per_minute = rate_per_minute
        self._windows = _windows(rate_per_second, rate_per_minute)
        self._horizon = max(w.period for w in self._windows)
        self._starts: list[float] = []
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()

    @property
    def windows(self) -> tuple[Window, ...]:
        return self._windows

    def acquire(self) -> None:
        """Block until every window has room, then count one request start."""
        while True:
            with self._lock:
                now = self._clock()
                _prune(self._starts, now - self._horizon)
                start = earliest_start(self._starts, self._windows, now)
                if start <= now:
                    self._starts.append(now)
                    return
            self._sleep(start - now)

    def __repr__(self) -> str:
        return f"SlidingWindowLimiter(rate_per_second={self.rate_per_second}, rate_per_minute={self.rate_per_minute})"


def _prune(starts: list[float], before: float) -> None:
    """Drop starts at or before ``before`` (they can no longer be in any window)."""
    cut = bisect.bisect_right(starts, before)
    if cut:
        del starts[:cut]


class RateLimiter:
    """Thread-safe, paced and adaptive limiter for one workspace budget (see the module docstring).

    Args:
        rate_per_second: requests allowed in any 1-second window (``None`` = no per-second limit).
        rate_per_minute: requests allowed in any 60-second window (``None`` = no per-minute limit).
        clock: monotonic clock in seconds (injectable for tests).
        sleep: sleep function (injectable for tests).
        headroom: fraction of the budget left unused by the pace, for arrival jitter (0.05 = pace at 95%).
        decrease: factor applied to the pace on a 429 for a request sent at the current pace.
        recovery: pace regained per second without 429s, as a fraction of the budget.
        floor: the pace never drops below this fraction of the budget.

    Attributes:
        budget: requests per second the budgets allow in the long run: ``min(rate_per_second,
            rate_per_minute / 60)``.
        rate: the current pace in requests per second (at most ``ceiling = budget * (1 - headroom)``).
        threshold: the pace above which recovery is slow (95% of the pace at the last cut).
        rate_limited: 429 responses reported so far.
    """

    def __init__(
        self,
        rate_per_second: float | None = 50,
        rate_per_minute: float | None = 3000,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        headroom: float = 0.05,
        decrease: float = 0.8,
        recovery: float = 0.02,
        floor: float = 0.1,
    ) -> None:
        if not 0 <= headroom < 1:
            raise ValueError(f"headroom must be in [0, 1), got {headroom!r}")
        if not 0 < decrease < 1:
            raise ValueError(f"decrease must be in (0, 1), got {decrease!r}")
        self.rate_per_second = rate_per_second
        self.rate_per_minute = rate_per_minute
        self._windows = _windows(rate_per_second, rate_per_minute)
        # starts are kept for the windows, and for at least the span of _sent_per_second
        self._horizon = max(SENT_SPAN, *(w.period for w in self._windows))
        per_second = [w.limit / w.period for w in self._windows]
        self.budget = min(per_second)
        self.ceiling = self.budget * (1 - headroom)
        self.rate = self.ceiling
        self.threshold = self.ceiling  # above this pace, recovery is slow (see _recover)
        self._decrease = decrease
        self._recovery = recovery * self.budget
        self._floor = max(floor * self.budget, 1e-9)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: list[float] = []  # granted starts (some may lie ahead: reserved slots)
        self._next = -math.inf  # no start before this (the pace)
        self._paused_until = -math.inf  # no start before this (Retry-After)
        self._cut_at = -math.inf  # when the pace was last cut
        self._recovered_at = clock()
        self._generation = 0  # bumped when reservations made at an old pace become void
        self.rate_limited = 0

    @property
    def windows(self) -> tuple[Window, ...]:
        return self._windows

    def acquire(self) -> None:
        """Block until this request's turn (the pace, the windows and any pause allow it), then count it."""
        while True:
            with self._lock:
                now = self._clock()
                self._recover(now)
                slot = self._reserve(now)
                generation = self._generation
            if slot <= now:
                return
            self._sleep(slot - now)
            with self._lock:
                if generation == self._generation:
                    return
            # A 429 voided the reservation while we slept: queue again at the new pace.

    def on_response(self, status_code: int, *, started: float, retry_after: float | None = None) -> None:
        """Learn from one response: a 429 cuts the pace (once per burst of 429s) and honours Retry-After."""
        if status_code != HTTP_TOO_MANY_REQUESTS:
            return
        with self._lock:
            now = self._clock()
            self.rate_limited += 1
            self._recover(now)
            if started > self._cut_at:
                # Sent at the current pace and still refused: slow down. 429s for requests sent before the
                # last cut say nothing new about the new pace, so they do not cut again. The cut starts
                # from what was really sent lately when that is below the pace (threads busy elsewhere):
                # cutting a pace that was not binding would change nothing.
                base = min(self.rate, max(self._sent_per_second(now), self._floor))
                self.rate = max(self._floor, base * self._decrease)
                # Climb back quickly to just under where it failed, then probe above it slowly.
                self.threshold = base * PROBE_BELOW
                self._cut_at = now
            if retry_after is not None:
                self._paused_until = max(self._paused_until, now + retry_after)
            # Reservations made at the old pace are void: drop them and queue again from now.
            _drop_after(self._starts, now)
            self._next = max(now + 1 / self.rate, self._paused_until)
            self._generation += 1

    def _sent_per_second(self, now: float) -> float:
        """Starts per second over the last SENT_SPAN seconds (reserved slots ahead of `now` not counted)."""
        inside = bisect.bisect_right(self._starts, now) - bisect.bisect_right(self._starts, now - SENT_SPAN)
        return inside / SENT_SPAN

    def _recover(self, now: float) -> None:
        elapsed = max(0.0, now - self._recovered_at)
        self._recovered_at = now
        if self.rate >= self.ceiling:
            return
        if self.rate < self.threshold:  # back to just under the last failure: quickly
            fast_until = min(self.threshold, self.rate + self._recovery * elapsed)
            elapsed -= (fast_until - self.rate) / self._recovery
            self.rate = fast_until
        if elapsed > 0:  # above it: probe slowly, the server refused about here not long ago
            self.rate = min(self.ceiling, self.rate + self._recovery * PROBE_SLOWER * elapsed)

    def _reserve(self, now: float) -> float:
        """Claim the next start slot at or after ``now`` (call with the lock held)."""
        _prune(self._starts, now - self._horizon)
        slot = earliest_start(self._starts, self._windows, max(now, self._next, self._paused_until))
        self._starts.append(slot)
        self._next = slot + 1 / self.rate
        return slot

    def __repr__(self) -> str:
        return (
            f"RateLimiter(rate_per_second={self.rate_per_second}, rate_per_minute={self.rate_per_minute}, "
            f"pace={self.rate:.3g}/s)"
        )


def _drop_after(starts: list[float], t: float) -> None:
    cut = bisect.bisect_right(starts, t)
    del starts[cut:]


_registry: dict[str, Limiter] = {}
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
    limiter = _shared(key, lambda: RateLimiter(rate_per_second, rate_per_minute))
    assert isinstance(limiter, RateLimiter)
    return limiter


def shared_window_limiter(
    key: str, rate_per_second: float | None, rate_per_minute: float | None
) -> SlidingWindowLimiter:
    """Like :func:`shared_limiter`, for a bursty per-endpoint limit (:class:`SlidingWindowLimiter`)."""
    limiter = _shared(key, lambda: SlidingWindowLimiter(rate_per_second, rate_per_minute))
    assert isinstance(limiter, SlidingWindowLimiter)
    return limiter


def _shared(key: str, make: Callable[[], Limiter]) -> Limiter:
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = make()
            _registry[key] = limiter
        return limiter
