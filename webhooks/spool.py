"""The durable spool between the receiver and the warehouse: append-only segment files, fsync'd in small groups.

Layout of a spool directory (one line of JSON per accepted delivery, `{"received_at": ISO, "payload": {...}}`):

    <ms>-<pid>-<n>.open     the segment a running receiver appends to (it holds an flock on the file)
    <ms>-<pid>-<n>.closed   full or old enough: ready for the ingest
    <ms>-<pid>-<n>.done     ingested and committed (pruned after `keep_days`)
    <ms>-<pid>-<n>-held.held   the segment's lines the ingest could not load (kept, never pruned; rename
                               the file to `<ms>-<pid>-<n>-held.closed` to load them again)

The receiver answers 200 only after the group holding the event has been written and fsync'd, so an
acknowledged event survives a crash (SIGKILL, power loss). A receiver killed mid-write can leave a torn last
line: that event was never acknowledged, and the reader skips it. An `.open` segment nobody holds a lock on
belongs to a dead receiver: the ingest closes it and takes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OPEN, CLOSED, DONE, HELD = ".open", ".closed", ".done", ".held"
DEFAULT_SEGMENT_RECORDS = 5000  # a segment closes after this many events ...
DEFAULT_SEGMENT_SECONDS = 5.0  # ... or once its first event is this old (the ingest runs every minute)
DEFAULT_SPOOL = "./webhook-spool"
DEFAULT_GROUP = 512  # at most this many events share one write + fsync


def default_spool_dir() -> Path:
    """`OPS_WEBHOOK_SPOOL` when set, else ./webhook-spool (the receiver and the ingest must agree)."""
    return Path(os.environ.get("OPS_WEBHOOK_SPOOL") or DEFAULT_SPOOL).expanduser()


def encode_record(payload: dict[str, Any], received_at: datetime) -> bytes:
    """One spool line (JSON escapes newlines inside strings, so a record is exactly one line)."""
    record = {"received_at": received_at.isoformat(), "payload": payload}
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class SpoolWriter:
    """Appends records to the current segment; `append` returns once the record is on disk (group fsync).

    Used from one asyncio event loop (the receiver's). Writes and fsyncs run in a worker thread, so the loop
    keeps accepting requests while a group is being synced; those requests form the next group.

    Args:
        directory: the spool directory (created if missing).
        segment_records: close the segment after this many records.
        segment_seconds: close a non-empty segment once its first record is this old (seconds).
        group: the most records written by one write + fsync.
    """

    def __init__(
        self,
        directory: str | Path,
        *,
        segment_records: int = DEFAULT_SEGMENT_RECORDS,
        segment_seconds: float = DEFAULT_SEGMENT_SECONDS,
        group: int = DEFAULT_GROUP,
    ) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.segment_records = segment_records
        self.segment_seconds = segment_seconds
        self.group = group
        self.appended = 0
        self._pending: list[tuple[bytes, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._io = asyncio.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._records = 0
        self._opened_at = 0.0
        self._seq = 0
        self._ticker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start closing idle segments in the background."""
        self._ticker = asyncio.create_task(self._tick())

    async def append(self, record: bytes) -> None:
        """Queue one record (a line from `encode_record`) and wait until it is durable; raises OSError if not."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def close(self) -> None:
        """Write what is queued, then close the current segment (it becomes ready for the ingest)."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        while self._flusher is not None and not self._flusher.done():
            await self._flusher
        async with self._io:
            await asyncio.to_thread(self._close_segment)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.group], self._pending[self.group :]
            try:
                async with self._io:
                    await asyncio.to_thread(self._write, b"".join(r for r, _ in batch), len(batch))
            except OSError as exc:
                log.error("webhook spool write failed: %s", exc)
                # A failed write may leave half a line: later records must not be glued to it.
                async with self._io:
                    await asyncio.to_thread(self._abandon_segment)
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.appended += len(batch)
            for _, future in batch:
                if not future.done():
                    future.set_result(None)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.segment_seconds / 2))
            if self._fd is not None and time.monotonic() - self._opened_at >= self.segment_seconds:
                async with self._io:
                    await asyncio.to_thread(self._close_segment)

    # -- the blocking half (runs in a worker thread, one at a time under `_io`) -----------------------------
    def _write(self, data: bytes, records: int) -> None:
        if self._fd is None:
            self._open_segment()
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)
        self._records += records
        if (
            self._records >= self.segment_records
            or time.monotonic() - self._opened_at >= self.segment_seconds
        ):
            self._close_segment()

    def _open_segment(self) -> None:
        self._seq += 1
        name = f"{int(time.time() * 1000):013d}-{os.getpid()}-{self._seq:06d}"
        path = self.directory / f"{name}{OPEN}"
        # Locked before it is visible as `.open`: the ingest takes over only unlocked (abandoned) segments.
        staging = self.directory / f"{name}.new"
        fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(staging, path)
        _fsync_dir(self.directory)
        self._fd, self._path, self._records, self._opened_at = fd, path, 0, time.monotonic()

    def _abandon_segment(self) -> None:
        """Close the segment after a failed write, as best we can; the next record opens a new one."""
        if self._fd is None or self._path is None:
            return
        with contextlib.suppress(OSError):
            os.rename(self._path, self._path.with_suffix(CLOSED))
        with contextlib.suppress(OSError):
            os.close(self._fd)
        self._fd, self._path = None, None

    def _close_segment(self) -> None:
        if self._fd is None or self._path is None:
            return
        os.fsync(self._fd)
        os.rename(self._path, self._path.with_suffix(CLOSED))
        _fsync_dir(self.directory)
        os.close(self._fd)  # releases the flock after the rename
        self._fd, self._path = None, None


# -- the reading side (the ingest) ---------------------------------------------------------------------------
@dataclass
class Segment:
    """The readable records of one segment file."""

    path: Path
    records: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # each record's line in the file (1-based)
    torn: int = 0  # an unterminated last line: a write cut short, never acknowledged
    unreadable: int = 0  # complete lines that are not a record (should not happen; logged, kept on disk)


def ready_segments(directory: str | Path) -> list[Path]:
    """Closed segments in time order, after closing `.open` ones whose receiver is gone (no lock held)."""
    root = Path(directory)
    if not root.is_dir():
        return []
    for path in sorted(root.glob(f"*{OPEN}")):
        _close_if_abandoned(path)
    return sorted(root.glob(f"*{CLOSED}"))


def read_segment(path: Path) -> Segment:
    """Parse one segment; a torn last line and unreadable lines are counted, never raised."""
    segment = Segment(path)
    data = path.read_bytes()
    lines = data.split(b"\n")
    if lines and lines[-1]:
        segment.torn = 1
    for number, line in enumerate(lines[:-1], start=1):
        if not line:
            continue
        try:
            record = json.loads(line)
            received_at = datetime.fromisoformat(record["received_at"])
            payload = record["payload"]
            if not isinstance(payload, dict):
                raise ValueError("payload is not an object")
        except (ValueError, KeyError, TypeError):
            segment.unreadable += 1
            continue
        segment.records.append((received_at, payload))
        segment.lines.append(number)
    if segment.torn or segment.unreadable:
        log.warning(
            "webhook spool %s: %d torn, %d unreadable line(s) skipped",
            path.name,
            segment.torn,
            segment.unreadable,
        )
    return segment


def mark_done(path: Path) -> Path:
    """Rename an ingested segment to `.done` (call only after the warehouse commit)."""
    done = path.with_suffix(DONE)
    os.rename(path, done)
    _fsync_dir(path.parent)
    return done


def held_path(path: Path) -> Path:
    """Where a segment's lines the ingest could not load are kept (its own name: renamed `.closed`, then
    `.done`, it never meets the segment's `.done`)."""
    return path.with_name(f"{path.stem}-held{HELD}")


def hold_lines(path: Path, numbers: list[int]) -> Path:
    """Copy lines `numbers` (1-based) of a segment, byte for byte, to `<segment>-held.held`; durable on return.

    Call before the segment's commit: a crash before it re-reads the segment and writes the same file again.
    """
    lines = path.read_bytes().split(b"\n")
    held = held_path(path)
    staging = held.with_suffix(".held-new")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"".join(lines[n - 1] + b"\n" for n in sorted(numbers)))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(staging, held)
    _fsync_dir(path.parent)
    return held


def prune_done(directory: str | Path, *, keep_days: float) -> int:
    """Delete `.done` segments older than `keep_days`; returns how many were deleted."""
    cutoff = (datetime.now(UTC) - timedelta(days=keep_days)).timestamp()
    deleted = 0
    for path in Path(directory).glob(f"*{DONE}"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                deleted += 1
    return deleted


def spool_counts(directory: str | Path) -> dict[str, int]:
    """How many segments are open, closed (waiting for the ingest), done, and held (lines the ingest could not load)."""
    root = Path(directory)
    return {
        state.lstrip("."): len(list(root.glob(f"*{state}"))) if root.is_dir() else 0
        for state in (OPEN, CLOSED, DONE, HELD)
    }


def _close_if_abandoned(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return  # closed by its receiver meanwhile
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a live receiver is writing it
        if path.exists():
            os.rename(path, path.with_suffix(CLOSED))
            _fsync_dir(path.parent)
            log.info("webhook spool: took over %s from a receiver that stopped", path.name)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
