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


def _advance(ms: int, seq: int, steps: int) -> tuple[int, int]:
    """(ms, seq) `steps` ids after (ms, seq): seq counts to 0xFFF, then the next millisecond starts at 0."""
    seq += steps
    return ms + seq // 0x1000, seq % 0x1000


_SEQ_HEX = tuple(f"{seq:03x}" for seq in range(0x1000))


@lru_cache(maxsize=8)
def _masks(count: int) -> tuple[int, int, int]:
    """For `count` 64-bit words (little-endian in one int): their high halves, low halves, and top bits."""
    high = int.from_bytes(b"\0\0\0\0\xff\xff\xff\xff" * count, "little")
    return high, high >> 32, int.from_bytes(b"\0\0\0\0\0\0\0\x80" * count, "little")


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

        A bulk add names up to 1,000 leads at once: one lock, one draw of random bits and one hex formatting
        for the batch, and one formatting of the time prefix per millisecond, instead of each per id.
        """
        if count <= 0:
            return []
        rng = self._rng
        with self._lock:
            last, seq = self._last_ms, self._seq
            if ms <= last:
                ms, seq = last, seq + 1
            else:
                seq = rng.randrange(0, 0x400)
            # The 62 random bits of each id, as one getrandbits(62) per id would draw them: two 32-bit
            # words, the first whole and the second's top 30 bits (CPython's getrandbits fills words from the
            # least significant end), so one draw of 64 bits per id gives the same words in the same order.
            words = rng.getrandbits(64 * count)
            self._last_ms, self._seq = _advance(ms, seq, count - 1)
        high, low, top = _masks(count)
        tails = ((words & high) >> 2) & high | words & low | top  # each id's 64-bit tail, 0b10 on top
        hexed = tails.to_bytes(8 * count, "big").hex()  # big-endian: the last id's tail comes first
        out: list[str] = []
        end = 16 * count
        while count:
            # ids of one millisecond: seq counts up from `seq`; past 0xFFF the next millisecond starts at 0
            stamp = f"{ms & 0xFFFFFFFFFFFF:012x}"
            prefix = f"{stamp[:8]}-{stamp[8:]}-7"
            seqs = _SEQ_HEX[seq : seq + count]
            out += [
                f"{prefix}{s}-{hexed[i - 16 : i - 12]}-{hexed[i - 12 : i]}"
                for s, i in zip(seqs, range(end, end - 16 * len(seqs), -16), strict=True)
            ]
            count -= len(seqs)
            end -= 16 * len(seqs)
            ms, seq = ms + 1, 0
        return out

    def object_id(self, ms: int) -> str:
        """24-hex ids like the SPEC's BackgroundJob example (`6a7da68ed583d899a375b4ea`)."""
        with self._lock:
            return f"{ms // 1000:08x}{self._rng.getrandbits(64):016x}"

    def getstate(self) -> list[int]:
        return [self._last_ms, self._seq]

    def setstate(self, state: list[int]) -> None:
        self._last_ms, self._seq = int(state[0]), int(state[1])
