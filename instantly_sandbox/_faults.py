"""Rate limiting and fault injection for /api/v2 requests (never /_sandbox).

Fault knobs (constructor args of SandboxServer, `GET/POST /_sandbox/faults` at runtime):
    fail_rate        fraction answered 500/502/503 BEFORE processing (nothing written)
    reset_rate       fraction reset AFTER processing (the write happened; the client sees a dropped socket)
    timeout_rate     fraction processed, then held `timeout_seconds` before answering (client times out)
    timeout_seconds  default 5.0
    burst_429        the next N requests get 429
    latency_ms       added latency, plus uniform `latency_jitter_ms`
    path_prefix      restrict the knobs above to paths starting with this (e.g. "/api/v2/leads/add")
    rules            targeted faults: [{"path_prefix": "/api/v2/leads/add", "method": "POST",
                     "action": "fail"|"reset"|"timeout"|"429", "nth": [3], "times": N, "rate": F,
                     "status": 503}]: `nth` counts matching requests from 1 ("fail the 3rd bulk add"),
                     `times` fires on the first N matches, `rate` on a seeded random fraction.
    patch_custom_variables  "merge" (default) or "replace": what PATCH /leads/{id} does with the lead's
                     existing custom variables. The OpenAPI document does not say (SPEC patchLead only lists
                     `custom_variables` as an object), so clients are tested against both readings.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from ._router import ApiError

KNOBS = {
    "fail_rate": float,
    "reset_rate": float,
    "timeout_rate": float,
    "timeout_seconds": float,
    "burst_429": int,
    "latency_ms": float,
    "latency_jitter_ms": float,
    "path_prefix": str,
    "rules": list,
    "patch_custom_variables": str,
}
PATCH_MODES = ("merge", "replace")
ACTIONS = ("fail", "reset", "timeout", "429")


@dataclass
class Decision:
    pre: str | None = None  # "fail" or "429"
    status: int = 503
    post: str | None = None  # "reset" or "timeout"
    delay: float = 0.0


class Faults:
    def __init__(self, seed: int = 0, **knobs: Any) -> None:
        self._rng = random.Random(f"faults-{seed}")
        self._lock = threading.Lock()
        self.knobs: dict[str, Any] = {
            "fail_rate": 0.0,
            "reset_rate": 0.0,
            "timeout_rate": 0.0,
            "timeout_seconds": 5.0,
            "burst_429": 0,
            "latency_ms": 0.0,
            "latency_jitter_ms": 0.0,
            "path_prefix": None,
            "rules": [],
            "patch_custom_variables": "merge",
        }
        self.configure(knobs)

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(body) - set(KNOBS))
        if unknown:
            raise ApiError(400, f"unknown fault knob(s): {', '.join(unknown)}")
        if body.get("patch_custom_variables", "merge") not in PATCH_MODES:
            raise ApiError(400, f"patch_custom_variables must be one of {', '.join(PATCH_MODES)}")
        with self._lock:
            for key, value in body.items():
                if value is None or key == "rules":
                    self.knobs[key] = value if key != "rules" else [self._rule(r) for r in value or []]
                else:
                    self.knobs[key] = KNOBS[key](value)
        return self.to_json()

    @staticmethod
    def _rule(rule: dict[str, Any]) -> dict[str, Any]:
        if rule.get("action") not in ACTIONS:
            raise ApiError(400, f"rule action must be one of {', '.join(ACTIONS)}")
        return {
            "path_prefix": "/api/v2",
            "method": None,
            "nth": None,
            "times": None,
            "rate": None,
            "status": 503,
            **rule,
            "seen": 0,
            "fired": 0,
        }

    def to_json(self) -> dict[str, Any]:
        with self._lock:
            return {k: (list(v) if isinstance(v, list) else v) for k, v in self.knobs.items()}

    def decide(self, method: str, path: str) -> Decision:
        d = Decision()
        with self._lock:
            k = self.knobs
            d.delay = (k["latency_ms"] + self._rng.uniform(0, k["latency_jitter_ms"] or 0)) / 1000
            for rule in k["rules"]:
                if not path.startswith(rule["path_prefix"]) or rule["method"] not in (None, method):
                    continue
                rule["seen"] += 1
                fire = (
                    (rule["nth"] and rule["seen"] in rule["nth"])
                    or (rule["times"] and rule["fired"] < rule["times"])
                    or (rule["rate"] and self._rng.random() < rule["rate"])
                )
                if fire:
                    rule["fired"] += 1
                    self._apply(d, rule["action"], int(rule.get("status") or 503))
            if k["path_prefix"] and not path.startswith(k["path_prefix"]):
                return d
            if k["burst_429"] > 0:
                k["burst_429"] -= 1
                d.pre = d.pre or "429"
            if k["fail_rate"] and self._rng.random() < k["fail_rate"]:
                self._apply(d, "fail", self._rng.choice((500, 502, 503)))
            if k["reset_rate"] and self._rng.random() < k["reset_rate"]:
                self._apply(d, "reset", 0)
            if k["timeout_rate"] and self._rng.random() < k["timeout_rate"]:
                self._apply(d, "timeout", 0)
        return d

    @staticmethod
    def _apply(d: Decision, action: str, status: int) -> None:
        if action in ("fail", "429") and d.pre is None:
            d.pre, d.status = action, status
        elif action in ("reset", "timeout") and d.post is None:
            d.post = action

    def timeout_seconds(self) -> float:
        return float(self.knobs["timeout_seconds"])


RATE_WINDOWS = ("sliding", "fixed")


class RateLimiter:
    """At most `per_second` requests per second and `per_minute` per minute, counted over real wall time.

    Instantly does not document how it counts (DOC-RL says only "100 requests per second and 6,000 per
    minute"), so both usual algorithms are here and a client must keep 429s rare against either:

    - ``sliding``: no more than N in ANY 1 s (60 s) span ending now;
    - ``fixed``: no more than N in each calendar second (minute) of the wall clock, counters reset on the
      boundary, so two bursts either side of a boundary both pass.

    Refused requests are not counted.
    """

    def __init__(self, per_second: float, per_minute: float, window: str = "sliding") -> None:
        if window not in RATE_WINDOWS:
            raise ValueError(f"rate window must be one of {', '.join(RATE_WINDOWS)}, got {window!r}")
        self.per_second, self.per_minute, self.window = per_second, per_minute, window
        self._hits: deque[float] = deque()
        self.attempts: deque[float] = deque(maxlen=500_000)  # every request checked, allowed or not
        self._fixed: dict[float, list[float]] = {1.0: [-1.0, 0], 60.0: [-1.0, 0]}  # period -> [start, count]
        self._lock = threading.Lock()

    def allow(self, arrived: tuple[float, float] | None = None) -> bool:
        """Count one request that arrived at `arrived` = (monotonic, wall) time (default: now)."""
        mono, wall = arrived or (time.monotonic(), time.time())
        with self._lock:
            self.attempts.append(mono)
            if self.window == "fixed":
                return self._allow_fixed(wall)
            return self._allow_sliding(mono)

    def _allow_sliding(self, now: float) -> bool:
        # Requests are counted when they arrived, which is not quite the order they get here: a hit may
        # be a little older than the one before it. That only shifts when it leaves the windows.
        while self._hits and now - self._hits[0] >= 60:
            self._hits.popleft()
        if len(self._hits) >= self.per_minute:
            return False
        recent = 0
        for t in reversed(self._hits):  # newest first: stop at the first hit older than a second
            if now - t >= 1:
                break
            recent += 1
        if recent >= self.per_second:
            return False
        self._hits.append(now)
        return True

    def _allow_fixed(self, now: float) -> bool:
        counters = []
        for period, limit in ((1.0, self.per_second), (60.0, self.per_minute)):
            counter = self._fixed[period]
            start = now // period * period
            if counter[0] != start:
                counter[0], counter[1] = start, 0
            if counter[1] >= limit:
                return False
            counters.append(counter)
        for counter in counters:
            counter[1] += 1
        return True

    def busiest(self, period: float) -> int:
        """The most requests (allowed or refused) that arrived within any `period` seconds."""
        with self._lock:
            times = list(self.attempts)
        times.sort()
        most, first = 0, 0
        for last, t in enumerate(times):
            while t - times[first] >= period:
                first += 1
            most = max(most, last - first + 1)
        return most

    def span(self) -> float:
        """Seconds from the first to the last request checked (allowed or refused); 0 before two."""
        with self._lock:
            return self.attempts[-1] - self.attempts[0] if len(self.attempts) > 1 else 0.0

    def reset_attempts(self) -> None:
        with self._lock:
            self.attempts.clear()
