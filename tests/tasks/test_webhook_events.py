"""The spool ingest on real files and a real DuckDB: segments are marked done only after a commit."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ops_core.errors import OpsError
from tasks import webhook_events
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
    assert spool_counts(spool) == {"open": 0, "closed": 0, "done": 1, "held": 0}
    _spool(spool, 5)  # the same five payloads delivered again
    second = ingest_spool.fn(warehouse, spool, run_id="r3", keep_done_days=7)
    assert (second.events, second.new) == (5, 0)
    with warehouse.connect(read_only=True) as con:
        assert con.execute(
            "SELECT count(*), count(DISTINCT _run_id) FROM instantly.webhook_events"
        ).fetchall() == [(5, 1)]


# The tester's deliveries, as sent: each answered 200 by the receiver, and each stopped every later ingest.
OUT_OF_RANGE = [
    '{"event_type":"email_opened","timestamp":"2026-12-20T10:00:00Z","lead_email":"x5@y.example","step":99999999999999}',
    '{"event_type":"email_opened","timestamp":"2026-12-20T10:00:01Z","lead_email":"x6@y.example","step":3000000000}',
    '{"event_type":"email_opened","timestamp":"2026-12-20T10:00:02Z","lead_email":"x7@y.example","step":1e400}',
    '{"event_type":"email_opened","timestamp":"2026-12-20T10:00:03Z","lead_email":"x8@y.example","variant":-1e300}',
    '{"event_type":"email_opened","timestamp":"2026-12-20T10:00:04Z","lead_email":"x9@y.example","step":NaN}',
]
REPLY = '{"event_type":"reply_received","timestamp":"2026-12-21T10:00:00Z","lead_email":"liam@b.example","campaign_id":"c1","step":2}'


def _spool_payloads(directory: Path, payloads: list[dict]) -> None:
    async def run() -> None:
        writer = SpoolWriter(directory)
        await writer.start()
        for payload in payloads:
            await writer.append(encode_record(payload, datetime.now(UTC)))
        await writer.close()

    asyncio.run(run())


def _events(warehouse: Warehouse) -> dict[str, tuple]:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT lead_email, event_type, step, variant, payload FROM instantly.webhook_events"
        ).fetchall()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("body", OUT_OF_RANGE)
def test_a_number_out_of_its_column_is_null_and_the_events_after_it_load_in_the_same_run(
    tmp_path: Path, body: str
) -> None:
    spool, warehouse = tmp_path / "spool", Warehouse(tmp_path / "wh.duckdb")
    _spool_payloads(spool, [json.loads(body), json.loads(REPLY)])  # as the receiver parses and spools them

    counts = ingest_spool.fn(warehouse, spool, run_id="r1", keep_done_days=7)

    assert (counts.segments, counts.events, counts.new, counts.held) == (1, 2, 2, 0)
    assert spool_counts(spool) == {"open": 0, "closed": 0, "done": 1, "held": 0}
    events = _events(warehouse)
    assert events["liam@b.example"][:3] == ("reply_received", 2, None)
    bad = json.loads(body)
    assert events[bad["lead_email"]][:3] == ("email_opened", None, None)
    stored = json.loads(events[bad["lead_email"]][3], parse_constant=_refuse)  # standard JSON in the column
    field = "step" if "step" in bad else "variant"
    assert stored[field] == (
        bad[field] if math.isfinite(bad[field]) else None
    )  # as received where JSON can say it

    _spool_payloads(spool, [json.loads(body), json.loads(REPLY)])  # delivered again: nothing twice
    again = ingest_spool.fn(warehouse, spool, run_id="r2", keep_done_days=7)
    assert (again.events, again.new) == (2, 0) and len(_events(warehouse)) == 2


def test_an_event_that_cannot_become_a_row_is_held_in_a_side_file_and_the_rest_of_its_segment_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spool, warehouse = tmp_path / "spool", Warehouse(tmp_path / "wh.duckdb")
    _spool_payloads(spool, [{"event_type": "email_opened", "n": 1}, {"poison": 1}, json.loads(REPLY)])
    [segment] = ready_segments(spool)
    real = webhook_events.to_row

    def to_row(payload, **kwargs):
        if "poison" in payload:
            raise RuntimeError("a fault nobody foresaw")
        return real(payload, **kwargs)

    monkeypatch.setattr(webhook_events, "to_row", to_row)
    counts = ingest_spool.fn(warehouse, spool, run_id="r1", keep_done_days=7)

    held = segment.with_name(f"{segment.stem}-held.held")
    assert (counts.events, counts.new, counts.held, counts.held_in) == (3, 2, 1, [str(held)])
    assert (
        held.read_bytes() == segment.with_suffix(".done").read_bytes().split(b"\n")[1] + b"\n"
    )  # byte for byte
    assert spool_counts(spool) == {"open": 0, "closed": 0, "done": 1, "held": 1}
    assert (
        f"{segment.name} line 2 cannot be loaded (RuntimeError: a fault nobody foresaw): kept in {held.name}"
        in (caplog.text)
    )

    monkeypatch.setattr(webhook_events, "to_row", real)  # fixed: the user renames the file to load it
    held.rename(held.with_suffix(".closed"))
    after = ingest_spool.fn(warehouse, spool, run_id="r2", keep_done_days=7)
    assert (after.events, after.new, after.held) == (1, 1, 0)
    assert _count(warehouse) == 3
    assert spool_counts(spool) == {"open": 0, "closed": 0, "done": 2, "held": 0}


def test_a_segment_the_warehouse_refuses_waits_alone_named_in_the_error_and_the_others_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spool, warehouse = tmp_path / "spool", Warehouse(tmp_path / "wh.duckdb")
    _spool_payloads(spool, [{"event_type": "email_opened", "n": 1}])
    _spool_payloads(spool, [{"event_type": "email_opened", "n": 2, "refused": True}])
    _spool_payloads(spool, [json.loads(REPLY), {"event_type": "email_opened", "n": 1}])
    first, refused, last = ready_segments(spool)
    real = webhook_events._insert

    def insert(con, batch):
        if "refused" in "".join(batch.column("payload").to_pylist()):
            raise duckdb.ConversionException("Conversion Error: a value the column refuses")
        return real(con, batch)

    monkeypatch.setattr(webhook_events, "_insert", insert)
    with pytest.raises(
        OpsError,
        match=rf"segment {refused} failed, it waits in the spool \(1 segment\(s\) waiting, "
        r"2 loaded with 2 new events\): Conversion Error: a value the column refuses",
    ):
        ingest_spool.fn(warehouse, spool, run_id="r1", keep_done_days=7)
    assert ready_segments(spool) == [refused]
    assert (
        {p.suffix for p in (first, last)}
        and first.with_suffix(".done").exists()
        and last.with_suffix(".done").exists()
    )
    assert set(_events(warehouse)) == {None, "liam@b.example"}

    monkeypatch.setattr(webhook_events, "_insert", real)
    after = ingest_spool.fn(warehouse, spool, run_id="r2", keep_done_days=7)
    assert (after.segments, after.new) == (1, 1)
    assert _count(warehouse) == 3


def _count(warehouse: Warehouse) -> int:
    with warehouse.connect(read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM instantly.webhook_events").fetchall()[0][0])


def _refuse(constant: str) -> None:
    raise AssertionError(f"non-standard JSON constant {constant} in the stored payload")


def test_a_row_arrow_cannot_hold_is_refused_alone_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    real = webhook_events.to_row

    def to_row(payload, **kwargs):  # a row the range rule let through (the tester's bug, one layer down)
        row = real(payload, **kwargs)
        return (*row[:9], 3_000_000_000, *row[10:]) if payload.get("n") == 2 else row

    monkeypatch.setattr(webhook_events, "to_row", to_row)
    events = [
        webhook_events.Delivered({"event_type": "email_opened", "n": n}, datetime.now(UTC), "receiver")
        for n in (1, 2, 3)
    ]
    prepared = webhook_events.prepare_events(events, run_id="r", loaded_at=datetime.now(UTC))
    assert [e.payload["n"] for e, _ in prepared.rows] == [1, 3]
    [(event, reason)] = prepared.refused
    assert event.payload["n"] == 2 and reason.startswith("ArrowInvalid: ") and "too large" in reason
    assert prepared.table().num_rows == 2
