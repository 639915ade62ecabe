"""The spool ingest on real files and a real DuckDB: segments are marked done only after a commit."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ops_core.errors import OpsError
from tasks.webhook_events import ingest_spool
from warehouse.db import Warehouse
from webhooks.spool import SpoolWriter, encode_record, ready_segments, spool_counts


def _spool(directory: Path, count: int) -> None:
    async def run() -> None:
        writer = SpoolWriter(directory)
        await writer.start()
        for n in range(count):
            await writer.append(encode_record({"event_type": "email_opened", "n": n}, datetime.now(UTC)))
        await writer.close()

    asyncio.run(run())


def test_a_failed_load_marks_nothing_done_and_the_next_run_loads_everything_once(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    _spool(spool, 5)
    not_a_file = tmp_path / "a-directory.duckdb"
    not_a_file.mkdir()
    with pytest.raises(OpsError):
        ingest_spool.fn(Warehouse(not_a_file, lock_timeout=1), spool, run_id="r1", keep_done_days=7)
    assert len(ready_segments(spool)) == 1  # still waiting

    warehouse = Warehouse(tmp_path / "wh.duckdb")
    first = ingest_spool.fn(warehouse, spool, run_id="r2", keep_done_days=7)
    assert (first.segments, first.events, first.new) == (1, 5, 5)
    assert spool_counts(spool) == {"open": 0, "closed": 0, "done": 1}
    _spool(spool, 5)  # the same five payloads delivered again
    second = ingest_spool.fn(warehouse, spool, run_id="r3", keep_done_days=7)
    assert (second.events, second.new) == (5, 0)
    with warehouse.connect(read_only=True) as con:
        assert con.execute(
            "SELECT count(*), count(DISTINCT _run_id) FROM instantly.webhook_events"
        ).fetchall() == [(5, 1)]
