"""The limiter over real HTTP: 8 threads against a sandbox that enforces the same budget, fixed or sliding.

The budget is the sandbox's own (50/s, 3,000/min): a client whose idea of "per second" differs from the
server's would meet 429s here. The share of 429s is asserted; the speed is not (that is bench/'s job).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from instantly_client import BatchLimiter, InstantlyClient
from instantly_client._ratelimit import RateLimiter
from instantly_sandbox import SandboxServer

REQUESTS = 300


@pytest.mark.slow
@pytest.mark.parametrize("window", ["fixed", "sliding"])
def test_429s_stay_under_one_percent_against_a_sandbox_with_the_same_budget(window):
    with SandboxServer(
        rate_per_second=50, rate_per_minute=3000, rate_window=window, latency_ms=20
    ) as sandbox:
        limiter = RateLimiter(50, 3000)  # a private limiter: other tests' clients do not share it
        with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url, limiter=limiter) as client:
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda _: client.request("GET", "/campaigns"), range(REQUESTS)))
            stats = client.stats
        server = sandbox.stats
    assert stats.requests >= REQUESTS  # every request answered (429s were retried)
    assert server.get("rate_limited", 0) == stats.rate_limited
    assert stats.rate_limited <= 0.01 * stats.requests, (window, stats)


@pytest.mark.slow
def test_requests_that_waited_for_shared_slots_still_leave_paced():
    """The shared limiter is asked before the process's paced one: requests that queue for shared slots (a
    Prefect global limit's round trip) leave at the pace when the slots come, not all at once."""
    gate = threading.Event()
    shared = BatchLimiter(lambda n: gate.wait(), batch=40)  # the first batch comes 1.5 s late
    with SandboxServer(rate_per_second=20, rate_per_minute=1200, rate_window="sliding") as sandbox:
        limiter = RateLimiter(20, 1200)
        with (
            InstantlyClient(
                api_key=sandbox.api_key, base_url=sandbox.base_url, limiter=limiter, global_limiter=shared
            ) as client,
            ThreadPoolExecutor(30) as pool,
        ):
            answers = pool.map(lambda _: client.request("GET", "/campaigns"), range(30))
            threading.Timer(1.5, gate.set).start()
            list(answers)
        server = sandbox.stats
    assert server["requests"] == 30 and server.get("rate_limited", 0) == 0
    assert server["busiest_second"] <= 20  # 30 requests held back 1.5 s did not leave together
