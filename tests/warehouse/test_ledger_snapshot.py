"""A pass's ledger snapshot (warehouse/ledger_snapshot.py): the same rows as a read with `upto`, from a file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from warehouse import ledger, ledger_snapshot
from warehouse.db import Warehouse
from warehouse.ledger import LedgerEntry, LedgerScope
from warehouse.ledger_snapshot import LedgerSnapshot, snapshot_folder, sweep

SCOPE = LedgerScope("ws", "camp", "people", "run-1")
OTHER_RUN = LedgerScope("ws", "camp", "people", "run-2")


@pytest.fixture
def con(tmp_path: Path) -> Any:
    """A migrated warehouse with a source table ops.people of 20 rows (row keys k0 ... k19)."""
    with Warehouse(tmp_path / "w.duckdb").connect() as con:
        con.execute(
            "CREATE TABLE ops.people AS SELECT 'k' || i AS _row_key, 'k' || i || '@x.co' AS email, "
            "CAST(NULL AS VARCHAR) AS _row_problem FROM range(20) t(i)"
        )
        yield con


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where snapshots go; any ledger is large enough for a file."""
    monkeypatch.setattr(ledger_snapshot, "SNAPSHOT_MIN_ENTRIES", 1)
    monkeypatch.setattr(ledger_snapshot, "ROW_GROUP_ROWS", 2048)
    return tmp_path / "scratch"


def entry(key: str, state: Any, **kw: Any) -> LedgerEntry:
    fields: dict[str, Any] = {"email": f"{key}@x.co", "lead_id": None, "payload_hash": "h", **kw}
    return LedgerEntry(key, state=state, **fields)


def write(
    con: Any, *entries: LedgerEntry, scope: LedgerScope = SCOPE, forget: list[str] | None = None
) -> None:
    ledger.write(con, scope, ledger.entries_of(list(entries)), forget=forget or [])


def states(frame: Any) -> dict[str, Any]:
    return {k: s for k, s in frame.select("row_key", "l_state").rows() if s is not None}


def a_mixed_ledger(con: Any) -> None:
    write(con, *(entry(f"k{i}", "pending", batch_id="b1") for i in range(8)))
    write(
        con,
        entry("k0", "done", lead_id="L0", outcome="created", payload_hash="h0"),
        entry("k1", "unknown"),
        entry("k2", "rejected", outcome="invalid"),
        entry("k3", "done", lead_id="L3", outcome="duplicate", email="old@x.co"),
    )
    write(con, forget=["k4"])  # newest entry `forgotten`: never pushed
    write(
        con, entry("k9", "done", lead_id="L9"), scope=LedgerScope("ws", "other-campaign", "people", "run-1")
    )


def test_a_snapshot_reads_what_a_read_upto_the_passs_start_reads(con: Any, folder: Path) -> None:
    a_mixed_ledger(con)
    upto = ledger.newest_write(con, SCOPE)
    snap = LedgerSnapshot.take(con, SCOPE, folder)
    try:
        assert snap.kind == "file" and snap.upto == upto and snap.path is not None and snap.path.exists()
        for start, stop in [(0, 20), (0, 3), (3, 9), (19, 20), (20, 30)]:
            got = snap.read_slice(con, ["email"], start, stop)
            assert got.equals(ledger.read_slice(con, SCOPE, ["email"], start, stop, upto=upto))
        assert states(snap.read_slice(con, ["email"], 0, 20)) == {
            "k0": "done",
            "k1": "unknown",
            "k2": "rejected",
            "k3": "done",
            "k5": "pending",
            "k6": "pending",
            "k7": "pending",
        }
    finally:
        snap.close()
    assert not snap.path and not folder.exists()  # the pass's folder, then the empty scratch folder


def test_this_runs_later_entries_are_left_out_and_another_runs_never_are(con: Any, folder: Path) -> None:
    a_mixed_ledger(con)
    snap = LedgerSnapshot.take(con, SCOPE, folder)
    try:
        # This run, after the pass began: rows of earlier slices (each row is planned once a pass).
        write(con, entry("k0", "pending"), entry("k12", "pending"))
        write(con, entry("k12", "done", lead_id="L12"), forget=["k1"])
        first = states(snap.read_slice(con, ["email"], 0, 20))
        assert first["k0"] == "done" and first["k1"] == "unknown" and "k12" not in first

        # Another run wrote meanwhile (CampaignPush run directly, no push guard): the read is whole, for good.
        write(con, entry("k15", "pending"), scope=OTHER_RUN)
        whole = snap.read_slice(con, ["email"], 0, 20)
        assert whole.equals(ledger.read_slice(con, SCOPE, ["email"], 0, 20))
        assert {k: whole_state for k, whole_state in states(whole).items() if k in ("k0", "k12", "k15")} == {
            "k0": "pending",
            "k12": "done",
            "k15": "pending",
        }
        assert "k1" not in states(whole)
    finally:
        snap.close()


def test_another_runs_write_that_lands_late_below_the_passs_start_is_read(con: Any, folder: Path) -> None:
    # A DuckLake: another run's transaction took its write id before this pass began and committed after.
    a_mixed_ledger(con)
    snap = LedgerSnapshot.take(con, SCOPE, folder)
    try:
        con.execute("INSERT INTO ops.push_ledger_writes VALUES (1, 'ws', 'camp', 'people', 'run-2', now())")
        con.execute(
            "INSERT INTO ops.push_ledger_intents (write_id, row_key, email, payload_hash, batch_id) "
            "VALUES (1, 'k18', 'k18@x.co', 'h', 'b9')"
        )
        assert snap.upto > 1
        assert states(snap.read_slice(con, ["email"], 18, 20)) == {"k18": "pending"}
    finally:
        snap.close()


def test_a_new_extract_of_the_table_during_the_pass_is_read_whole(con: Any, folder: Path) -> None:
    a_mixed_ledger(con)
    con.execute(
        "INSERT INTO ops.source_tables (table_name, source, key_column, email_column, row_count, extracted_at, run_id) VALUES ('people', 'a.csv', NULL, 'email', 20, TIMESTAMP '2026-01-01', 'x1')"
    )
    snap = LedgerSnapshot.take(con, SCOPE, folder)
    try:
        # Extracted again, in another order: rowid 0 is now k3.
        con.execute("CREATE OR REPLACE TABLE ops.people AS SELECT * FROM ops.people ORDER BY _row_key DESC")
        con.execute("UPDATE ops.source_tables SET extracted_at = now(), run_id = 'x2'")
        got = snap.read_slice(con, ["email"], 0, 20)
        assert got.equals(ledger.read_slice(con, SCOPE, ["email"], 0, 20))
        assert got.row(0, named=True)["row_key"] == "k9" and got.row(0, named=True)["l_state"] is None
        assert got.filter(got["row_key"] == "k3")["l_lead_id"].to_list() == ["L3"]
    finally:
        snap.close()


def test_a_small_ledger_is_read_per_slice_and_an_empty_one_not_at_all(
    con: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "scratch"
    empty = LedgerSnapshot.take(con, SCOPE, folder)
    assert empty.kind == "empty" and not folder.exists()
    assert states(empty.read_slice(con, ["email"], 0, 20)) == {}
    write(con, entry("k2", "pending"), scope=OTHER_RUN)  # another run: read whole
    assert states(empty.read_slice(con, ["email"], 0, 20)) == {"k2": "pending"}

    a_mixed_ledger(con)
    monkeypatch.setattr(ledger_snapshot, "SNAPSHOT_MIN_ENTRIES", 1_000)
    small = LedgerSnapshot.take(con, SCOPE, folder)
    assert small.kind == "live" and not folder.exists()
    write(con, entry("k0", "pending"))  # this run, later: left out
    assert states(small.read_slice(con, ["email"], 0, 1)) == {"k0": "done"}


def test_a_killed_passs_snapshot_is_removed_by_the_next_and_a_live_one_is_kept(
    con: Any, folder: Path
) -> None:
    a_mixed_ledger(con)
    live = LedgerSnapshot.take(con, SCOPE, folder)
    killed = LedgerSnapshot.take(con, SCOPE, folder)
    assert killed.path is not None and live.path is not None
    killed_folder = killed.path.parent
    assert killed._lock is not None
    os.close(killed._lock)  # what the kernel does when its process dies
    nxt = LedgerSnapshot.take(con, SCOPE, folder)
    try:
        assert not killed_folder.exists()
        assert live.path.exists() and nxt.path is not None and nxt.path.exists()
        assert sweep(folder) == []
    finally:
        live.close()
        nxt.close()
    assert not folder.exists()


def test_a_push_leaves_no_empty_folder_beside_the_warehouse_file_unless_another_run_uses_it(
    con: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_snapshot, "SNAPSHOT_MIN_ENTRIES", 1)
    a_mixed_ledger(con)
    folder = snapshot_folder(Warehouse(tmp_path / "w.duckdb"))  # w.duckdb.sync/push
    state = folder.parent
    first = LedgerSnapshot.take(con, SCOPE, folder)
    second = LedgerSnapshot.take(con, SCOPE, folder)  # another pass of another table, at the same time
    first.close()
    assert second.path is not None and second.path.exists()  # its folder, and push/, stay while it runs
    staged = state / "0123abcd"  # a sync's staged pages
    staged.mkdir()
    second.close()
    assert not folder.exists() and state.exists()  # push/ went; the state folder holds the sync's pages
    staged.rmdir()
    LedgerSnapshot.take(con, SCOPE, folder).close()
    assert not state.exists()


def test_a_pass_whose_folder_another_pass_removes_as_it_creates_it_creates_it_again(
    con: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_mixed_ledger(con)
    real_sweep = ledger_snapshot.sweep
    removed = []

    def sweep_then_lose_the_folder(where: Path) -> list[Path]:
        found = real_sweep(where)
        if not removed:  # another pass's close, between this pass's mkdir and mkdtemp: the folder was empty
            ledger_snapshot.remove_empty(where)
            removed.append(where)
        return found

    monkeypatch.setattr(ledger_snapshot, "sweep", sweep_then_lose_the_folder)
    snap = LedgerSnapshot.take(con, SCOPE, folder)
    try:
        assert removed == [folder]
        assert snap.kind == "file" and snap.path is not None and snap.path.exists()
    finally:
        snap.close()
