"""Client-side rate limiting: keep to the workspace budget whatever window algorithm the server counts with.

Instantly allows 100 requests/second AND 6,000 requests/minute per workspace, shared by every key and by API
v1 and v2 (DOC-RL). The docs do not say whether the server counts in fixed windows (calendar seconds and
minutes) or sliding ones, and the server counts request *arrivals*, not the moments our threads decide to
send. A limiter that lets N requests start back to back and then waits for its own window to clear is exact
on paper and gets 429s in practice: a burst that leaves at the end of one of our windows arrives spread by a
few milliseconds of scheduling and network jitter, and the next burst lands in the same server window.

So :class:`RateLimiter` does four things, all per workspace and per process:

1. **Paces** request starts evenly, one every ``1 / rate`` seconds, at a little under the budget
   (``headroom``, 2.5% by default: about 25 ms of arrival jitter tolerated per second of window). Even
   spacing keeps any window, fixed or sliding, aligned anywhere, at or under the budget. The first 429 of a
   pace at that ceiling **widens** the headroom (``widen``, by 2.5 points to 5%, about 50 ms) instead of
   cutting the pace: one refusal at the ceiling says the arrivals jitter more than the headroom allows,
   not that someone else takes the budget. A 1,000,000-lead push at 100 req/s needs 10.3 s of pace at
   97.5% against 10.5 s at 95%; a cut (below) costs about 30 requests of budget (bench/README.md).
2. **Caps** starts with sliding windows over the configured budgets (``rate_per_second`` in any 1 s,
   ``rate_per_minute`` in any 60 s), so the budgets hold even if the pace were set too high; and caps the
   moments requests *really* start at the ceiling rounded up to a whole number per second (98 at 100 req/s,
   20 at 20 req/s, 5 at 5 req/s: never above a whole-number budget), since a thread the OS or the GIL wakes
   late would otherwise leave together with the next ones, which are on time. Rounded up, not down: a cap
   below the pace (19 starts a second under a pace of 19.5) never clumps, but it queues requests behind
   it, out of reach of :func:`ahead_of_the_queue` (the sync's one-cursor tail then took 48 s instead of
   36 s), and it lowers the pace of a small budget (4 a second at 5 req/s, 80%; bench/README.md).
3. **Adapts** to the server (AIMD): any later 429 for a request sent at the current pace cuts the pace
   (``decrease``, x0.9 of the pace, or of the rate really sent over the last 2 s if that is lower), a
   ``Retry-After`` pauses every start until it has passed, and the pace climbs back by ``recovery`` (5% of
   the budget) per second without 429s up to 95% of the pace that failed, then ten times slower up to the
   ceiling (like TCP's congestion avoidance). Another tool using the same workspace, or a server that
   stalls and then counts a clump of late arrivals at once, therefore costs a few 429s, not a stream.
   (x0.8 and 2% lost about 28 requests of budget per 429 at 20 req/s, while the 429s a busy machine's
   arrival jitter causes do not mean the pace was too high; bench/README.md.)
4. **Queues fairly, with one exception**: requests get slots in the order they ask, except those made
   inside :func:`ahead_of_the_queue` (the leads pull's open-ended chain, which the whole pull waits for).
   Each of those, as it starts, **holds** a queued slot for its thread's next one, about when that next
   one will ask (learned from the thread's last asks); when it asks, a held slot already due lets it
   start at once. Without it, an answer came back just after a slot had gone and the next page waited
   for the following one: 47 ms of a 51 ms slot on average at 19.5/s, a sixth of each page's round
   trip (bench/README.md, "The sync's leads pull").

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
``.rate_per_minute`` and ``.on_response(...)``, ``ahead_of_the_queue``, ``BatchLimiter``, ``CallableLimiter``,
``shared_limiter``.
"""

from __future__ import annotations

import bisect
import contextvars
import hashlib
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ._redact import url_without_password

__all__ = [
    "BatchLimiter",
    "CallableLimiter",
    "Limiter",
    "RateFeedback",
    "RateLimiter",
    "SlidingWindowLimiter",
    "Window",
    "ahead_of_the_queue",
    "limiter_key",
    "shared_limiter",
    "shared_window_limiter",
]

Clock = Callable[[], float]
Sleep = Callable[[float], None]

HTTP_TOO_MANY_REQUESTS = 429
CLOCK_EPSILON = 1e-6  # seconds: clock readings closer than this count as the same moment
SENT_SPAN = 2.0  # seconds over which the rate really sent is measured when a 429 cuts the pace
HELD_FOR = 1.0  # seconds: an older held slot is dropped (started later, it could add a start to a second)
CYCLE_WEIGHT = 0.25  # weight of the newest ask in an urgent thread's learned cycle (start to next ask)
MAX_CYCLE = 10.0  # seconds: a longer pause between a thread's urgent requests is not a cycle to learn
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

    ``min_interval`` spaces the calls: the next batch is not asked for sooner than that many seconds after the
    last was granted. For a shared limiter that refuses a call made before it has room, and makes a refusal
    expensive (a Prefect rate limit: the refused caller waits out a ``Retry-After``, and the refusal itself
    resets the limit's decay clock), asking only once there is room is what lets one process use most of it.

    Args:
        take: blocks until ``n`` slots are granted (e.g. ``lambda n: rate_limit(name, occupy=n)``).
        batch: slots per call of ``take``.
        min_interval: seconds from one grant to the next call of ``take`` (0: no wait).
    """

    def __init__(
        self,
        take: Callable[[int], object],
        batch: int,
        *,
        min_interval: float = 0.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch!r}")
        if min_interval < 0 or not math.isfinite(min_interval):
            raise ValueError(f"min_interval must be a number of seconds >= 0, got {min_interval!r}")
        self._take = take
        self.batch = batch
        self.min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._left = 0
        self._granted_at = -math.inf
        self._lock = threading.Lock()
        self.calls = 0  # calls of `take` so far

    def acquire(self) -> None:
        # Under the lock: one thread fetches the next batch while the others wait for it.
        with self._lock:
            if self._left == 0:
                wait = self._granted_at + self.min_interval - self._clock()
                if wait > 0:
                    self._sleep(wait)
                self._take(self.batch)
                self._granted_at = self._clock()
                self.calls += 1
                self._left = self.batch
            self._left -= 1

    def __repr__(self) -> str:
        return f"BatchLimiter(batch={self.batch}, min_interval={self.min_interval:g}, calls={self.calls})"


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


def _starts_per_second(ceiling: float) -> int:
    """The most requests that may really start in any 1 s at a pace of at most ``ceiling`` per second (pure):
    the ceiling rounded up to a whole number, at least 1. Never below the pace, so an even pace never waits
    for it; never above a whole-number budget the ceiling is under."""
    return max(1, math.ceil(ceiling - CLOCK_EPSILON))


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
        headroom: fraction of the budget left unused by the pace, for arrival jitter (0.025 = pace at 97.5%).
        widen: added to the headroom by the first 429 at the ceiling, instead of a cut (0: that 429 cuts).
        decrease: factor applied to the pace on a 429 for a request sent at the current pace.
        recovery: pace regained per second without 429s, as a fraction of the budget.
        floor: the pace never drops below this fraction of the budget.

    Attributes:
        budget: requests per second the budgets allow in the long run: ``min(rate_per_second,
            rate_per_minute / 60)``.
        rate: the current pace in requests per second (at most ``ceiling = budget * (1 - headroom)``).
        headroom: the headroom now (``headroom + widen`` once a 429 widened it).
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
        headroom: float = 0.025,
        widen: float = 0.025,
        decrease: float = 0.9,
        recovery: float = 0.05,
        floor: float = 0.1,
    ) -> None:
        if not 0 <= headroom < 1:
            raise ValueError(f"headroom must be in [0, 1), got {headroom!r}")
        if not 0 <= widen < 1 - headroom:
            raise ValueError(f"widen must be in [0, {1 - headroom:g}), got {widen!r}")
        if not 0 < decrease < 1:
            raise ValueError(f"decrease must be in (0, 1), got {decrease!r}")
        self.rate_per_second = rate_per_second
        self.rate_per_minute = rate_per_minute
        self._windows = _windows(rate_per_second, rate_per_minute)
        # starts are kept for the windows, and for at least the span of _sent_per_second
        self._horizon = max(SENT_SPAN, *(w.period for w in self._windows))
        per_second = [w.limit / w.period for w in self._windows]
        self.budget = min(per_second)
        self.headroom = headroom
        self.ceiling = self.budget * (1 - headroom)
        self._widen = widen  # spent by the first 429 at the ceiling (see on_response)
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
        self._first_start = math.inf  # the first start booked (see _sent_per_second)
        self._queued: list[_Ticket] = []  # ordinary requests asleep until their booked slot, in slot order
        # Urgent threads (ahead_of_the_queue), by thread id: the slot each holds for its next request, when
        # its last one started, and how long it takes from a start to its next ask (see _hold_next).
        self._held: dict[int, _Ticket] = {}
        self._urgent_started: dict[int, float] = {}
        self._urgent_cycle: dict[int, float] = {}
        self._sent: deque[float] = deque()  # when requests really started, over the last second
        self.rate_limited = 0

    @property
    def windows(self) -> tuple[Window, ...]:
        return self._windows

    def acquire(self) -> None:
        """Block until this request's turn (the pace, the windows and any pause allow it), then count it.

        Inside :func:`ahead_of_the_queue`, the request takes the slot its thread's last urgent request held
        for it (:meth:`_hold_next`), or else the earliest slot an ordinary request booked and still waits
        for; that request is booked again at the end of the queue. Outside it, a slot the thread still
        holds is taken first too.
        """
        urgent = _URGENT.get()
        thread = threading.get_ident()
        while True:
            with self._lock:
                now = self._clock()
                self._recover(now)
                if urgent:
                    self._learn_cycle(thread, now)
                    ticket = (
                        self._take_held(thread, now)
                        or self._jump_queue(now)
                        or self._reserve(now, queue=False)
                    )
                else:
                    # The thread left its urgent chain: its next request of any kind takes the slot it held
                    # (unused, it would be a hole in the pace), and a later chain learns its cycle afresh.
                    self._urgent_started.pop(thread, None)
                    self._urgent_cycle.pop(thread, None)
                    ticket = self._take_held(thread, now) or self._reserve(now, queue=True)
            if self._wait_for(ticket, now):
                break
            # A 429 voided the booking while we slept: queue again at the new pace.
        started = self._start_now()
        if urgent:
            with self._lock:
                self._hold_next(thread, started)

    def _start_now(self) -> float:
        """Count the start when it really happens (returns when), after any wait for room among the real starts.

        Slots are booked evenly, but a thread the OS or the GIL runs late leaves late and the next, on
        time, right behind it: measured, 21 requests left in one second at a pace of 19/s, and a server
        counting arrivals refuses the excess. So no more requests really start in any second than the
        ceiling rounded up to a whole number (20 at a budget of 20/s, paced at 19.5); a request that would
        be one more waits, by about the lateness (milliseconds), not a slot. An even pace never meets the
        cap, so it costs nothing while threads are on time.
        """
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and self._sent[0] <= now - 1.0 + CLOCK_EPSILON:
                    self._sent.popleft()
                room = _starts_per_second(self.ceiling)
                if len(self._sent) < room:
                    self._sent.append(now)
                    return now
                wait = self._sent[-room] + 1.0 - now
            self._sleep(wait)

    def _wait_for(self, ticket: _Ticket, now: float) -> bool:
        """Sleep until the ticket's slot, which an urgent request may move later; False if a 429 voided it."""
        while ticket.slot > now:
            target = ticket.slot
            self._sleep(target - now)
            with self._lock:
                if ticket.generation != self._generation:
                    return False
                if ticket.slot <= target:
                    _discard(self._queued, ticket)
                    return True
            now = target  # an urgent request took the slot over: sleep on to the new one
        return True

    def on_response(self, status_code: int, *, started: float, retry_after: float | None = None) -> None:
        """Learn from one response: the first 429 at the ceiling widens the headroom, later ones cut the pace
        (once per burst of 429s); any Retry-After is honoured."""
        if status_code != HTTP_TOO_MANY_REQUESTS:
            return
        with self._lock:
            now = self._clock()
            self.rate_limited += 1
            self._recover(now)
            if started > self._cut_at and self._widen and self.rate >= self.ceiling:
                # The first refusal at the ceiling: arrivals jitter more than the headroom tolerates. Widen
                # it for good (this limiter's life) and keep that pace; a 429 after this one cuts.
                self.headroom += self._widen
                self._widen = 0.0
                self.ceiling = self.rate = self.threshold = self.budget * (1 - self.headroom)
                self._cut_at = now
            elif started > self._cut_at:
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
            self._queued.clear()
            self._held.clear()
            self._next = max(now + 1 / self.rate, self._paused_until)
            self._generation += 1

    def _sent_per_second(self, now: float) -> float:
        """Starts per second over the last SENT_SPAN seconds, or since the first start if that is more
        recent (a 429 in the first second of a run must not read as a slow sender); reserved slots ahead
        of `now` are not counted."""
        inside = bisect.bisect_right(self._starts, now) - bisect.bisect_right(self._starts, now - SENT_SPAN)
        span = min(SENT_SPAN, max(now - self._first_start, 1 / self.rate))
        return inside / span

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

    def _reserve(self, now: float, *, queue: bool) -> _Ticket:
        """Book the next start slot at or after ``now`` (lock held); a future slot is queued when ``queue``
        (an urgent request may then take it over)."""
        ticket = _Ticket(self._book(now), self._generation)
        if queue and ticket.slot > now:
            self._queued.append(ticket)
        return ticket

    def _book(self, now: float) -> float:
        """Claim the next start slot at or after ``now`` that the pace, the windows and any pause allow."""
        _prune(self._starts, now - self._horizon)
        slot = earliest_start(self._starts, self._windows, max(now, self._next, self._paused_until))
        self._starts.append(slot)
        self._first_start = min(self._first_start, slot)
        self._next = slot + 1 / self.rate
        return slot

    def _jump_queue(self, now: float) -> _Ticket | None:
        """Take over the earliest slot an ordinary request booked and book that one again (lock held).

        The set of booked slots changes only by one slot added at the end, booked like any other, so the
        pace and the windows hold exactly as without urgent requests. None when nobody is queued.
        """
        return self._take_over(0, now) if self._queued else None  # queued in slot order: 0 is the earliest

    def _take_over(self, index: int, now: float) -> _Ticket:
        """A ticket for the slot of the queued request at `index`, whose owner is booked again at the end
        of the queue (lock held)."""
        displaced = self._queued.pop(index)
        ticket = _Ticket(displaced.slot, self._generation)
        displaced.slot = self._book(now)
        self._queued.append(displaced)
        return ticket

    def _learn_cycle(self, thread: int, now: float) -> None:
        """An urgent thread asks again: learn how long it takes from a start to its next ask (lock held)."""
        started = self._urgent_started.pop(thread, None)
        if started is None or not 0 <= now - started <= MAX_CYCLE:
            self._urgent_cycle.pop(thread, None)  # a new chain on this thread: learn afresh
            return
        cycle = self._urgent_cycle.get(thread)
        observed = now - started
        self._urgent_cycle[thread] = observed if cycle is None else cycle + CYCLE_WEIGHT * (observed - cycle)

    def _take_held(self, thread: int, now: float) -> _Ticket | None:
        """The slot this thread's last urgent request held for it, unless a 429 voided it or it is older
        than HELD_FOR (lock held). A slot already passed is started late: one start moved within its second,
        so no window counts more than the booked slots. An earlier queued slot, if any, is swapped for it."""
        ticket = self._held.pop(thread, None)
        if ticket is None or ticket.generation != self._generation or ticket.slot < now - HELD_FOR:
            return None
        if self._queued and self._queued[0].slot < ticket.slot:
            # Asked sooner than learned: take the earliest queued slot instead, and give its owner the
            # held one (still earlier than a slot booked at the end of the queue).
            earliest = self._queued.pop(0)
            earliest.slot, ticket.slot = ticket.slot, earliest.slot
            bisect.insort(self._queued, earliest, key=lambda queued: queued.slot)
        return ticket

    def _hold_next(self, thread: int, started: float) -> None:
        """Hold a slot for this urgent thread's next request, at about the moment it will ask (lock held).

        The earliest queued slot no sooner than one slot before the learned cycle (start to next ask) is
        taken over (:meth:`_take_over`, as jumping the queue does): the set of booked slots changes only by
        one slot added at the end. With nobody queued, the next free slot is held (booking one further
        ahead would leave the slots in between unused). Nothing is held until the thread's cycle is known.
        """
        self._urgent_started[thread] = started
        cycle = self._urgent_cycle.get(thread)
        if cycle is None:
            return
        target = started + cycle - 1 / self.rate
        index = next((i for i, queued in enumerate(self._queued) if queued.slot >= target), None)
        if index is None:
            self._held[thread] = _Ticket(self._book(started), self._generation)
        else:
            self._held[thread] = self._take_over(index, started)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(rate_per_second={self.rate_per_second}, rate_per_minute={self.rate_per_minute}, "
            f"pace={self.rate:.3g}/s)"
        )


class _Ticket:
    """One request's booked start. ``slot`` may move later (an urgent request took it over); the ticket is
    void once the limiter's generation moved on (a 429 voided every booking)."""

    __slots__ = ("generation", "slot")

    def __init__(self, slot: float, generation: int) -> None:
        self.slot = slot
        self.generation = generation


def _discard(tickets: list[_Ticket], ticket: _Ticket) -> None:
    for i, queued in enumerate(tickets):
        if queued is ticket:
            del tickets[i]
            return


_URGENT: contextvars.ContextVar[bool] = contextvars.ContextVar("instantly_urgent_requests", default=False)


@contextmanager
def ahead_of_the_queue() -> Iterator[None]:
    """Requests made inside this block (in this thread) go ahead of the ordinary ones a limiter queued.

    For the one request chain a job waits on (the leads pull's open-ended tail cursor): its requests keep
    the pace and the windows, they only take the place of an ordinary request already waiting, which is
    booked again at the end of the queue. Each also holds such a place for the thread's next request,
    about when that one will ask, so a chain whose answers come back just after a slot has gone does not
    wait for the next one (`RateLimiter._hold_next`). Only :class:`RateLimiter` honours it.
    """
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


def _drop_after(starts: list[float], t: float) -> None:
    cut = bisect.bisect_right(starts, t)
    del starts[cut:]


_registry: dict[str, Limiter] = {}
_registry_lock = threading.Lock()


def limiter_key(base_url: str, *, workspace_id: str | None = None, api_key: str | None = None) -> str:
    """Registry key for a workspace: base URL (never its password) plus workspace id, else a hash of the key
    (never the key)."""
    base = url_without_password(base_url.rstrip("/"))
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
