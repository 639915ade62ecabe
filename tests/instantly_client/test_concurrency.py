"""The one concurrency-sizing rule: requests in flight = rate x (latency + overhead) x headroom, bounded."""

from __future__ import annotations

import pytest

from instantly_client import concurrency_for


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"rate_per_second": 50, "latency": 0.212}, 11),  # ceil(50 x 0.212): Little's law
        ({"rate_per_second": 50, "latency": 0.15, "headroom": 1.2}, 9),
        ({"rate_per_second": 50, "latency": 0.15, "overhead": 0.05, "headroom": 1.2}, 12),
        ({"rate_per_second": 100, "rate_per_minute": 600, "latency": 1.0}, 10),  # per-minute is tighter
        ({"rate_per_second": 100, "latency": 2.0}, 64),  # bounded above
        ({"rate_per_second": 100, "latency": 2.0, "maximum": 8}, 8),
        ({"rate_per_second": 50, "latency": None, "minimum": 2}, 2),  # nothing observed yet
        ({"rate_per_second": 50, "latency": float("nan"), "minimum": 2}, 2),
        ({"rate_per_second": 50, "latency": None, "latency_floor": 0.2, "headroom": 2.0}, 20),
        ({"rate_per_second": 1, "latency": 0.05, "minimum": 2}, 2),  # bounded below
        ({"rate_per_second": 50, "latency": 0.5, "minimum": 4, "maximum": 3}, 3),  # the maximum wins
    ],
)
def test_concurrency_follows_littles_law_within_bounds(kwargs: dict[str, float], expected: int) -> None:
    assert concurrency_for(**kwargs) == expected  # type: ignore[arg-type]
