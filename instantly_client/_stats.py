"""Request statistics: counts (in all and per endpoint) and an EWMA of latency, for sizing concurrency."""

from __future__ import annotations

import re
import threading
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from ._concurrency import concurrency_for

__all__ = ["ClientStats", "StatsRecorder", "endpoint_of"]

EWMA_ALPHA = 0.2  # weight of the newest sample
LOW_WINDOW = 100  # responses over which `latency_low` is the minimum
# A path segment that names a resource or an action: lowercase words and hyphens (`leads`, `list`,
# `update-interest-status`). Anything else (a UUID, a quoted email, an id with digits) is an id.
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")


def endpoint_of(method: str, path: str) -> str:
    """The endpoint a request went to, ids replaced by `{id}`: `PATCH /leads/{id}` (pure).

    Args:
        method: the HTTP method, any case.
        path: the path under the base URL, with or without a leading slash or a query.
    """
    segments = path.split("?", 1)[0].strip("/").split("/")
    shown = [s if _WORD.fullmatch(s) else "{id}" for s in segments if s]
    return f"{method.upper()} /{'/'.join(shown)}"


@dataclass(frozen=True)
class ClientStats:
    """A snapshot of one client's request statistics.

    Attributes:
        requests: HTTP attempts that got a response (retries included).
        by_endpoint: HTTP attempts per endpoint (`endpoint_of`: `"POST /leads/list"`), retries and
            attempts that got no response included: every request this client sent.
        retries: attempts that were retried.
        rate_limited: responses with HTTP 429.
        transport_errors: attempts that got no response (timeouts, connection errors).
        latency_ewma: exponentially weighted mean latency in seconds (``None`` before the first response).
        latency_low: the lowest latency of the last 100 responses, in seconds: the server's own time
            without our queueing behind it (sizing concurrency on it does not feed on the delay that
            extra concurrency causes).
    """

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    transport_errors: int = 0
    latency_ewma: float | None = None
    latency_low: float | None = None
    by_endpoint: Mapping[str, int] = field(default_factory=dict)  # a copy per snapshot; do not change it

    @property
    def sent(self) -> int:
        """Every HTTP attempt sent (the sum of `by_endpoint`)."""
        return sum(self.by_endpoint.values())

    def suggested_concurrency(self, rate_per_second: float, *, minimum: int = 1, maximum: int = 64) -> int:
        """Workers needed to use ``rate_per_second`` at the observed mean latency (`concurrency_for`)."""
        return concurrency_for(rate_per_second, self.latency_ewma, minimum=minimum, maximum=maximum)


class StatsRecorder:
    """Thread-safe accumulator behind :class:`ClientStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats = ClientStats()
        self._recent: deque[float] = deque(maxlen=LOW_WINDOW)
        self._by_endpoint: Counter[str] = Counter()
        self._changed = False  # since the last snapshot: a snapshot copies `by_endpoint` only then

    def record_response(self, status_code: int, latency: float, endpoint: str = "") -> None:
        with self._lock:
            self._count(endpoint)
            s = self._stats
            ewma = (
                latency
                if s.latency_ewma is None
                else EWMA_ALPHA * latency + (1 - EWMA_ALPHA) * s.latency_ewma
            )
            self._recent.append(latency)
            self._stats = replace(
                s,
                requests=s.requests + 1,
                rate_limited=s.rate_limited + (status_code == 429),
                latency_ewma=ewma,
                latency_low=min(self._recent),
            )

    def record_transport_error(self, endpoint: str = "") -> None:
        with self._lock:
            self._count(endpoint)
            s = self._stats
            self._stats = replace(s, transport_errors=s.transport_errors + 1)

    def record_retry(self, _attempt: int) -> None:
        with self._lock:
            s = self._stats
            self._stats = replace(s, retries=s.retries + 1)

    def snapshot(self) -> ClientStats:
        with self._lock:
            if self._changed:
                self._stats = replace(self._stats, by_endpoint=dict(self._by_endpoint))
                self._changed = False
            return self._stats

    def _count(self, endpoint: str) -> None:
        if endpoint:
            self._by_endpoint[endpoint] += 1
            self._changed = True
