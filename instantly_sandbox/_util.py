"""Clock, id and timestamp helpers shared by the sandbox modules."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from functools import lru_cache

MS_PER_MINUTE = 60_000
MS_PER_HOUR = 60 * MS_PER_MINUTE
MS_PER_DAY = 24 * MS_PER_HOUR


@lru_cache(maxsize=4096)  # a bulk add stamps 1,000 leads within a few milliseconds
def iso(ms: int | None) -> str | None:
    """Epoch milliseconds -> ISO 8601 UTC with milliseconds (`2026-08-13T11:11:55.811Z`), like the API."""
    if ms is None:
        return None
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_when(value: str, *, end_of_day: bool = False) -> int:
    """`YYYY-MM-DD` (UTC midnight, per SPEC analytics ops) or a full ISO timestamp -> epoch ms."""
    text = value.strip()
    if len(text) == 10:
        dt = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        ms = int(dt.timestamp() * 1000)
        return ms + MS_PER_DAY - 1 if end_of_day else ms
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def utc_date(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


class SimClock:
    """Simulated time: a fixed start, plus explicit advances, plus real time elapsed since start.

    Real elapsed time keeps timestamps of successive API calls distinct; weeks pass only via `advance`.
    """

    def __init__(self, start_ms: int | None = None) -> None:
        if start_ms is None:
            start_ms = int(time.time() // 60 * 60 * 1000)  # whole minute: a stable, readable start
        self.start_ms = start_ms
        self.offset_ms = 0
        self._real0 = time.monotonic()

    def now_ms(self) -> int:
        return self.start_ms + self.offset_ms + int((time.monotonic() - self._real0) * 1000)

    def advance(self, ms: int) -> None:
        self.offset_ms += ms

    def snapshot(self) -> int:
        return self.now_ms()


class IdFactory:
    """Time-ordered UUIDv7 ids (`019…`) from the simulated clock and a seeded RNG.

    Ids of one factory are strictly increasing, so entities listed "in ascending id order" are listed in
    creation order even when many are created within the same millisecond.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"ids-{seed}")
        self._lock = threading.Lock()
        self._last_ms = 0
        self._seq = 0

    def uuid7(self, ms: int) -> str:
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                self._seq += 1
                if self._seq > 0xFFF:
                    ms += 1
                    self._seq = 0
            else:
                self._seq = self._rng.randrange(0, 0x400)
            self._last_ms = ms
            rand_b = self._rng.getrandbits(62)
        value = (ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | self._seq << 64 | 0b10 << 62 | rand_b
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def object_id(self, ms: int) -> str:
        """24-hex ids like the SPEC's BackgroundJob example (`6a7da68ed583d899a375b4ea`)."""
        with self._lock:
            return f"{ms // 1000:08x}{self._rng.getrandbits(64):016x}"

    def getstate(self) -> list:
        return [self._last_ms, self._seq]

    def setstate(self, state: list) -> None:
        self._last_ms, self._seq = int(state[0]), int(state[1])
