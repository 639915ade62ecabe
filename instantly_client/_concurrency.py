"""How many requests to keep in flight to use a rate budget: the one sizing rule (Little's law)."""

from __future__ import annotations

import math

__all__ = ["concurrency_for"]


def concurrency_for(
    rate_per_second: float,
    latency: float | None,
    *,
    rate_per_minute: float | None = None,
    overhead: float = 0.0,
    headroom: float = 1.0,
    latency_floor: float = 0.0,
    minimum: int = 1,
    maximum: int = 64,
) -> int:
    """Requests to keep in flight: ``ceil(rate x (latency + overhead) x headroom)``, within bounds.

    The limiter paces request starts, so sizing a little high costs only threads that wait, while sizing
    low leaves budget unused.

    Args:
        rate_per_second: the per-second budget (requests/s).
        latency: observed seconds per request; ``None``, NaN or <= 0 when nothing is observed yet.
        rate_per_minute: the per-minute budget; the tighter of the two budgets is used.
        overhead: seconds a finished request's slot waits for the caller before it is refilled.
        headroom: factor over the exact Little's-law count (latency varies between requests).
        latency_floor: the lowest latency to size on (first calls are often faster than later ones).
        minimum: the answer with no latency to size on, and the lower bound.
        maximum: the upper bound; it wins over ``minimum`` (e.g. no more threads than tasks).

    Returns:
        A count between 1 and ``maximum``.
    """
    rate = rate_per_second if rate_per_minute is None else min(rate_per_second, rate_per_minute / 60.0)
    seen = latency if latency is not None and math.isfinite(latency) and latency > 0 else 0.0
    seconds = max(seen, latency_floor)
    wanted = math.ceil(rate * (seconds + max(0.0, overhead)) * headroom) if seconds > 0 else minimum
    return max(1, min(maximum, max(minimum, wanted)))
