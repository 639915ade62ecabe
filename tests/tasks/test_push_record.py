"""The push's bookkeeper connection: held across cycles, closed when someone queues for the warehouse."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import polars as pl
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
        recorder.write([], [_results()], [])  # one results row: waits for a whole row group, writes nothing
        assert recorder.connection() is first and recorder.waiting == 1
        recorder.write([], [], [], flush=True)  # written through the WAL: CHECKPOINT_ROWS reached
        assert recorder.connection() is not first
    finally:
        recorder.release()


def test_whole_row_groups_of_outcomes_do_not_count_towards_checkpoint_rows(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A whole row group goes to the file at its commit (nothing for a checkpoint to do): counting it closed
    # a million-lead push's connection five times instead of twice. Row groups of 2 rows here.
    import polars as pl

    monkeypatch.setattr(push_record, "ROW_GROUP_ROWS", 2)
    monkeypatch.setattr(push_record, "CHECKPOINT_ROWS", 2)
    recorder = _recorder(warehouse_path)
    try:
        first = recorder.connection()
        recorder.write([], [pl.concat([_results("a"), _results("b")])], [])  # one whole group: written
        assert recorder.waiting == 0 and recorder.connection() is first
        recorder.write([], [pl.concat([_results("c"), _results("d")])], [])
        assert recorder.connection() is first  # 4 rows written, none through the WAL
        recorder.write([], [_results("e")], [], flush=True)  # a partial group: 1 row through the WAL
        assert recorder.connection() is first
        recorder.write([], [_results("f")], [], flush=True)  # 2 rows through the WAL: CHECKPOINT_ROWS
        assert recorder.connection() is not first
    finally:
        recorder.release()


def _results(key: str = "a"):  # type: ignore[no-untyped-def]
    import polars as pl

    from warehouse import ledger

    return pl.DataFrame(
        {
            "row_key": [key],
            "email": [f"{key}@x.co"],
            "lead_id": [f"L-{key}"],
            "outcome": ["created"],
            "reason": [None],
        },
        schema=dict.fromkeys(ledger.RESULT_COLUMNS, pl.Utf8),
    )


@pytest.mark.parametrize("answer", ["frames", "all created"])
def test_a_cycle_writes_each_new_jobs_intents_with_its_batch_id_and_the_finished_jobs_outcomes(
    warehouse_path: Path, answer: str
) -> None:
    import polars as pl

    from tasks.push_models import JOB_COLUMNS, Job, JobResult
    from warehouse import ledger

    def rows(*keys: str) -> pl.DataFrame:
        return pl.DataFrame(
            {"row_key": list(keys), "email": [f"{k}@x.co" for k in keys], "lead": ["{}"] * len(keys),
             "payload_hash": [f"h{k}" for k in keys], "lead_id": [None] * len(keys), "reason": [None] * len(keys)},
            schema=dict.fromkeys(JOB_COLUMNS, pl.Utf8),
        )  # fmt: skip

    recorder = _recorder(warehouse_path)
    first, second = Job("add", "b1", rows("a", "b")), Job("update", "b2", rows("c"))
    try:
        recorder.write([], [], [first, second])
        if answer == "frames":  # what the sender returns for any answer
            done = JobResult(
                ledger=[
                    ledger.entry_frame(
                        first.rows, "done", batch_id="b1", lead_ids=["L-a", "L-b"], outcomes="created"
                    )
                ]
            )
            done.results.append(
                ledger.result_frame(first.rows, ["L-a", "L-b"], ["created"] * 2, [None, None])
            )
        else:  # ... and for the common one: every row created (the bookkeeper builds the frames)
            done = JobResult(created=["L-a", "L-b"])
        recorder.write([(first, done)], [_results().with_columns(row_key=pl.lit("z"))], [])
    finally:
        recorder.close()
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        assert con.execute(
            f"SELECT row_key, state, outcome, lead_id, payload_hash, batch_id FROM {ledger.CURRENT} ORDER BY 1"
        ).fetchall() == [
            ("a", "done", "created", "L-a", "ha", "b1"),
            ("b", "done", "created", "L-b", "hb", "b1"),
            ("c", "pending", None, None, "hc", "b2"),
        ]
        assert con.execute(
            "SELECT row_key, lead_id, outcome FROM ops.push_results ORDER BY 1"
        ).fetchall() == [("a", "L-a", "created"), ("b", "L-b", "created"), ("z", "L-a", "created")]


def test_outcomes_wait_for_a_whole_row_group_which_goes_to_the_file_not_the_wal(warehouse_path: Path) -> None:
    import polars as pl

    group = push_record.ROW_GROUP_ROWS

    def results(n: int, start: int) -> pl.DataFrame:
        return pl.DataFrame({"row_key": [f"k{i}" for i in range(start, start + n)]}).select(
            "row_key",
            email=pl.col("row_key") + "@example.com",
            lead_id=pl.lit("0194b5a0-6d1e-7c3b-9e55-3f1f0c2d4e5a"),
            outcome=pl.lit("unchanged"),
            reason=pl.lit(None, dtype=pl.Utf8),
        )

    recorded: list[int] = []
    recorder = Recorder(
        Warehouse(warehouse_path), SCOPE, on_results=lambda frame: recorded.append(frame.height)
    )
    wal = Path(f"{warehouse_path}.wal")

    def written() -> int:
        row = recorder.connection().execute("SELECT count(*) FROM ops.push_results").fetchone()
        return int(row[0]) if row else -1

    try:
        recorder.write([], [results(group - 1, 0)], [])
        assert (written(), recorder.waiting, recorded) == (0, group - 1, [])
        recorder.write([], [results(2, group - 1)], [])  # one whole row group now, and one row over
        assert (written(), recorder.waiting, recorded) == (group, 1, [group])
        # DuckDB wrote the group to the file compressed: its ~10 MB of values are not in the WAL.
        assert not wal.exists() or wal.stat().st_size < 1_000_000
    finally:
        recorder.close()  # the end of the pass: the rest goes too
    assert recorded == [group, 1]
    with Warehouse(warehouse_path).connect(read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT row_key) FROM ops.push_results").fetchone() == (group + 1,)


def test_outcomes_that_waited_wait_seconds_are_written_without_a_whole_row_group(
    warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[int] = []
    recorder = Recorder(
        Warehouse(warehouse_path), SCOPE, on_results=lambda frame: recorded.append(frame.height)
    )
    try:
        recorder.write([], [_results()], [])
        assert (recorder.waiting, recorded) == (1, [])
        monkeypatch.setattr(push_record, "WAIT_SECONDS", 0.0)  # a push at a low budget, 30 s later
        recorder.write([], [_results().with_columns(row_key=pl.lit("b"))], [])
        assert (recorder.waiting, recorded) == (0, [2])
    finally:
        recorder.close()
