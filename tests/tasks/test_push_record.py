"""The push's bookkeeper connection: held across cycles, closed when someone queues for the warehouse."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tasks import push_record
from tasks.push_record import Recorder
from warehouse.db import Warehouse
from warehouse.ledger import LedgerScope

SCOPE = LedgerScope("ws", "camp", "people", "run-1")


def _recorder(path: Path) -> Recorder:
    return Recorder(Warehouse(path), SCOPE, on_results=lambda results: None)


def test_the_connection_is_kept_across_cycles_while_nobody_waits(warehouse_path: Path) -> None:
    recorder = _recorder(warehouse_path)
    try:
        first = recorder.connection()
        assert recorder.connection() is first
    finally:
        recorder.release()


def test_a_queued_reader_gets_in_at_the_next_cycle(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push_record, "YIELD_AFTER_SECONDS", 0.0)
    recorder = _recorder(warehouse_path)
    got: list[str] = []

    def analyst() -> None:
        with Warehouse(warehouse_path, lock_timeout=30).connect(read_only=True) as con:
            got.append(str(con.execute("SELECT count(*) FROM ops.push_ledger_entries").fetchone()))

    try:
        first = recorder.connection()
        reader = threading.Thread(target=analyst)
        reader.start()
        deadline = time.monotonic() + 20
        while not recorder.warehouse.others_waiting():
            assert time.monotonic() < deadline, "the analyst never queued"
            time.sleep(0.01)
        assert got == []
        second = recorder.connection()  # the next cycle: closes, lets the analyst in, reopens
        assert second is not first
        assert got == ["(0,)"]  # served before the bookkeeper had the file again
        reader.join(10)
    finally:
        recorder.release()


def test_the_connection_is_closed_after_checkpoint_rows(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(push_record, "CHECKPOINT_ROWS", 1)
    recorder = _recorder(warehouse_path)
    try:
        first = recorder.connection()
        recorder.forget(["a"])  # its own short transaction: no rows counted on the held connection
        assert recorder.connection() is first
        recorder.write([], [_results()], [])  # one results row: CHECKPOINT_ROWS reached
        assert recorder.connection() is not first
    finally:
        recorder.release()


def _results():  # type: ignore[no-untyped-def]
    import polars as pl

    from warehouse import ledger

    return pl.DataFrame(
        {"row_key": ["a"], "email": ["a@x.co"], "lead_id": ["L-a"], "outcome": ["created"], "reason": [None]},
        schema=dict.fromkeys(ledger.RESULT_COLUMNS, pl.Utf8),
    )
