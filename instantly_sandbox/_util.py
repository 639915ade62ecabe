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
        return self.uuid7_many(ms, 1)[0]

    def uuid7_many(self, ms: int, count: int) -> list[str]:
        """`count` ids at `ms`, as `count` calls of :meth:`uuid7` would give them, under one lock.

        A bulk add names up to 1,000 leads at once; one lock and one formatting of the time prefix per batch
        instead of per id.
        """
        out: list[str] = []
        getrandbits = self._rng.getrandbits
        with self._lock:
            last, seq = self._last_ms, self._seq
            prefix, prefix_ms = "", -1
            for _ in range(count):
                if ms <= last:
                    ms = last
                    seq += 1
                    if seq > 0xFFF:
                        ms += 1
                        seq = 0
                else:
                    seq = self._rng.randrange(0, 0x400)
                last = ms
                if ms != prefix_ms:
                    stamp = f"{ms & 0xFFFFFFFFFFFF:012x}"
                    prefix, prefix_ms = f"{stamp[:8]}-{stamp[8:]}-7", ms
                tail = f"{0b10 << 62 | getrandbits(62):016x}"
                out.append(f"{prefix}{seq:03x}-{tail[:4]}-{tail[4:]}")
            self._last_ms, self._seq = last, seq
        return out

    def object_id(self, ms: int) -> str:
        """24-hex ids like the SPEC's BackgroundJob example (`6a7da68ed583d899a375b4ea`)."""
        with self._lock:
            return f"{ms // 1000:08x}{self._rng.getrandbits(64):016x}"

    def getstate(self) -> list:
        return [self._last_ms, self._seq]

    def setstate(self, state: list) -> None:
        self._last_ms, self._seq = int(state[0]), int(state[1])
