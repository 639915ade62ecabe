"""The limiter: per-second and per-minute windows together, with a fake clock; the shared registry."""

import sys
import threading
import time

import pytest

from instantly_client._ratelimit import (
    CallableLimiter,
    Limiter,
    RateLimiter,
    Window,
    limiter_key,
    shared_limiter,
)


@pytest.mark.parametrize(
    ("rate", "period", "expected"),
    [
        (50, 1.0, Window(50, 1.0)),
        (3000, 60.0, Window(3000, 60.0)),
        (2.7, 1.0, Window(2, 1.0)),
        (0.5, 1.0, Window(1, 2.0)),
        (20, 60.0, Window(20, 60.0)),
    ],
)
def test_window_from_rate(rate, period, expected):
    assert Window.from_rate(rate, period) == expected


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan")])
def test_window_rejects_non_positive_rates(rate):
    with pytest.raises(ValueError):
        Window.from_rate(rate, 1.0)


def start_times(limiter: RateLimiter, clock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        limiter.acquire()
        times.append(round(clock.elapsed, 6))
    return times


@pytest.mark.parametrize(
    ("per_second", "per_minute", "n", "expected"),
    [
        # per-second window only binds
        (2, 1000, 5, [0, 0, 1, 1, 2]),
        # per-minute window binds after 12 starts, although the per-second window has room
        (10, 12, 14, [0] * 10 + [1, 1, 60, 60]),
        # both bind in turn: 5/s until 8 in the minute, then wait for the minute window
        (5, 8, 10, [0] * 5 + [1, 1, 1, 60, 60]),
        # fractional rate: one start every 2 seconds
        (0.5, None, 3, [0, 2, 4]),
        # per-minute only (like GET /emails at 20/min)
        (None, 3, 5, [0, 0, 0, 60, 60]),
    ],
)
def test_limiter_enforces_both_windows_together(clock, per_second, per_minute, n, expected):
    limiter = RateLimiter(per_second, per_minute, clock=clock, sleep=clock.sleep)
    assert start_times(limiter, clock, n) == pytest.approx(expected)


def test_limiter_does_not_wait_when_under_budget(clock):
    limiter = RateLimiter(50, 3000, clock=clock, sleep=clock.sleep)
    for _ in range(50):
        limiter.acquire()
    assert clock.sleeps == []


def test_limiter_needs_at_least_one_window():
    with pytest.raises(ValueError):
        RateLimiter(None, None)


def test_limiter_is_thread_safe_no_window_ever_exceeds_its_limit(clock):
    def contended_clock():
        time.sleep(0)  # yield the GIL inside the critical section, so races would show
        return clock()

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        limiter = RateLimiter(10, 1000, clock=contended_clock, sleep=clock.sleep)
        threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(15)]) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(previous)
    starts = sorted(limiter._starts)
    assert len(starts) == 120
    for i, t0 in enumerate(starts):
        in_window = [t for t in starts[i:] if t < t0 + 1.0]
        assert len(in_window) <= 10


def test_shared_limiter_returns_one_limiter_per_key():
    a = shared_limiter("http://x|workspace:test-shared-1", 5, 100)
    b = shared_limiter("http://x|workspace:test-shared-1", 99, 9999)
    c = shared_limiter("http://x|workspace:test-shared-2", 5, 100)
    assert a is b
    assert a is not c
    assert a.rate_per_second == 5  # the first caller's budget stands


def test_limiter_key_prefers_workspace_and_never_contains_the_raw_key():
    key = "sk-very-secret"
    assert limiter_key("http://x/api/v2/", workspace_id="ws1", api_key=key) == "http://x/api/v2|workspace:ws1"
    hashed = limiter_key("http://x/api/v2", api_key=key)
    assert key not in hashed
    assert hashed == limiter_key("http://x/api/v2", api_key=key)
    assert hashed != limiter_key("http://x/api/v2", api_key="another")


def test_callable_limiter_satisfies_the_protocol_and_calls_through():
    calls = []
    limiter = CallableLimiter(lambda: calls.append(1))
    assert isinstance(limiter, Limiter)
    limiter.acquire()
    limiter.acquire()
    assert calls == [1, 1]
