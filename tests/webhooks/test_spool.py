"""The spool on a real directory: group-fsync'd segments, torn tails, abandoned segments, done marks."""

from __future__ import annotations

import asyncio
import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

from webhooks.spool import (
    SpoolWriter,
    encode_record,
    mark_done,
    prune_done,
    read_segment,
    ready_segments,
    spool_counts,
)

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _write(directory: Path, payloads: list[dict], **kwargs) -> SpoolWriter:
    async def run() -> SpoolWriter:
        writer = SpoolWriter(directory, **kwargs)
        await writer.start()
        await asyncio.gather(*(writer.append(encode_record(p, NOW)) for p in payloads))
        await writer.close()
        return writer

    return asyncio.run(run())


def test_concurrent_appends_share_fsyncs_and_land_in_order_once(tmp_path: Path) -> None:
    payloads = [{"event_type": "email_opened", "n": i} for i in range(300)]
    writer = _write(tmp_path, payloads, group=64)
    assert writer.appended == 300
    [segment] = ready_segments(tmp_path)
    records = read_segment(segment).records
    assert [p["n"] for _, p in records] == list(range(300))
    assert records[0][0] == NOW


def test_a_segment_closes_after_its_record_limit(tmp_path: Path) -> None:
    _write(tmp_path, [{"n": i} for i in range(10)], segment_records=4, group=1)
    segments = ready_segments(tmp_path)
    assert [len(read_segment(s).records) for s in segments] == [4, 4, 2]


def test_a_torn_last_line_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "0000000000001-1-000001.closed"
    path.write_bytes(encode_record({"n": 1}, NOW) + b'{"received_at": "2026-11-20T10:0')
    segment = read_segment(path)
    assert [p["n"] for _, p in segment.records] == [1]
    assert (segment.torn, segment.unreadable) == (1, 0)


def test_an_open_segment_without_a_live_writer_is_taken_over_but_a_locked_one_is_left(tmp_path: Path) -> None:
    abandoned = tmp_path / "0000000000001-1-000001.open"
    abandoned.write_bytes(encode_record({"n": 1}, NOW))
    live = tmp_path / "0000000000002-2-000001.open"
    live.write_bytes(encode_record({"n": 2}, NOW))
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # as a running receiver holds it
    try:
        assert ready_segments(tmp_path) == [abandoned.with_suffix(".closed")]
        assert live.exists()
    finally:
        os.close(fd)
    assert len(ready_segments(tmp_path)) == 2


def test_done_segments_leave_the_queue_and_are_pruned_when_old(tmp_path: Path) -> None:
    _write(tmp_path, [{"n": 1}])
    [segment] = ready_segments(tmp_path)
    done = mark_done(segment)
    assert ready_segments(tmp_path) == [] and spool_counts(tmp_path)["done"] == 1
    assert prune_done(tmp_path, keep_days=1) == 0
    os.utime(done, (0, 0))
    assert prune_done(tmp_path, keep_days=1) == 1
