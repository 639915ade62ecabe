"""The push ledger (warehouse/ledger.py): append-only writes, the current state, compaction, migration 0009."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from warehouse import ledger
from warehouse.db import Warehouse, migrations
from warehouse.ledger import LedgerEntry, LedgerScope

SCOPE = LedgerScope("ws", "camp", "people", "run-1")


@pytest.fixture
def con(tmp_path: Path) -> Any:
    """A migrated warehouse with a three-row source table ops.people (row keys a, b, c)."""
    with Warehouse(tmp_path / "w.duckdb").connect() as con:
        con.execute(
            "CREATE TABLE ops.people AS SELECT * FROM (VALUES ('a', 'a@x.co', NULL), ('b', 'b@x.co', NULL), "
            "('c', 'c@x.co', NULL)) t(_row_key, email, _row_problem)"
        )
        yield con


def entry(key: str, state: Any, **kw: Any) -> LedgerEntry:
    fields: dict[str, Any] = {"email": f"{key}@x.co", "lead_id": None, "payload_hash": "h", **kw}
    return LedgerEntry(key, state=state, **fields)


def write(
    con: Any, *entries: LedgerEntry, scope: LedgerScope = SCOPE, forget: list[str] | None = None
) -> None:
    ledger.write(con, scope, ledger.entries_of(list(entries)), forget=forget or [])


def current(con: Any) -> list[tuple[Any, ...]]:
    return con.execute(
        f"SELECT workspace, campaign_id, row_key, state, lead_id, outcome FROM {ledger.CURRENT} ORDER BY ALL"
    ).fetchall()


def test_the_newest_entry_of_a_row_is_its_state(con: Any) -> None:
    write(con, entry("a", "pending", batch_id="b1"), entry("b", "pending", batch_id="b1"))
    write(con, entry("a", "done", lead_id="L-a", outcome="created"), entry("b", "unknown"))

    assert current(con) == [
        ("ws", "camp", "a", "done", "L-a", "created"),
        ("ws", "camp", "b", "unknown", None, None),
    ]
    assert [(e.row_key, e.state, e.batch_id) for e in ledger.open_entries(con, SCOPE)] == [
        ("b", "unknown", None)
    ]


def test_within_one_write_the_last_entry_for_a_key_wins(con: Any) -> None:
    write(con, entry("a", "pending"), entry("a", "done", lead_id="L-a"))
    assert current(con) == [("ws", "camp", "a", "done", "L-a", None)]


def test_a_forgotten_row_counts_as_never_pushed(con: Any) -> None:
    write(con, entry("a", "pending"), entry("b", "pending"))
    write(con, forget=["a"])

    assert [r[2] for r in current(con)] == ["b"]
    sliced = ledger.read_slice(con, SCOPE, ["email"], 0, 3)
    assert sliced.select("row_key", "l_state", "c0").rows() == [
        ("a", None, "a@x.co"),
        ("b", "pending", "b@x.co"),
        ("c", None, "c@x.co"),
    ]


def test_a_slice_carries_the_current_entry_of_this_campaign_only(con: Any) -> None:
    other = LedgerScope("ws", "other-campaign", "people", "run-1")
    write(con, entry("b", "done", lead_id="L-b", outcome="created", payload_hash="hb"))
    write(con, entry("b", "rejected", outcome="skipped"), scope=other)

    sliced = ledger.read_slice(con, SCOPE, ["email"], 1, 3)
    assert sliced.columns == [
        "rowid",
        "row_key",
        "source_row",
        "row_problem",
        *ledger.SLICE_LEDGER_COLUMNS,
        "c0",
    ]
    assert sliced.select("row_key", "l_state", "l_hash", "l_lead_id", "l_outcome").rows() == [
        ("b", "done", "hb", "L-b", "created"),
        ("c", None, None, None, None),
    ]
    keyed = ledger.read_keys(con, other, ["email"], ["b"])
    assert keyed.select("row_key", "l_state", "l_outcome").rows() == [("b", "rejected", "skipped")]


def test_a_slice_read_upto_a_write_leaves_out_this_runs_later_entries_but_never_another_runs(
    con: Any,
) -> None:
    write(con, entry("a", "done", lead_id="L-a", outcome="created"))
    upto = ledger.newest_write(con, SCOPE)
    write(con, entry("b", "pending"))  # this run, after the pass began (a row of an earlier slice)

    sliced = ledger.read_slice(con, SCOPE, ["email"], 0, 3, upto=upto)
    assert sliced.select("row_key", "l_state").rows() == [("a", "done"), ("b", None), ("c", None)]
    assert ledger.read_slice(con, SCOPE, ["email"], 0, 3).select("l_state").to_series().to_list() == [
        "done",
        "pending",
        None,
    ]

    # Another run wrote meanwhile (a second push of the same table to the same campaign): the read is whole.
    write(con, entry("c", "pending"), scope=LedgerScope("ws", "camp", "people", "run-2"))
    sliced = ledger.read_slice(con, SCOPE, ["email"], 0, 3, upto=upto)
    assert sliced.select("row_key", "l_state").rows() == [("a", "done"), ("b", "pending"), ("c", "pending")]


def test_a_slice_keeps_source_order_for_a_range_and_for_keys(con: Any) -> None:
    con.execute("INSERT INTO ops.people SELECT 'k' || i, 'k' || i || '@x.co', NULL FROM range(5000) t(i)")
    write(con, entry("k4000", "done", lead_id="L"), entry("b", "done", lead_id="L-b"))
    sliced = ledger.read_slice(con, SCOPE, ["email"], 0, 5003)
    assert sliced["rowid"].to_list() == list(range(5003))
    keyed = ledger.read_keys(con, SCOPE, ["email"], ["k4000", "c", "k7", "b"])
    assert keyed.select("row_key", "l_lead_id").rows() == [
        ("b", "L-b"),
        ("c", None),
        ("k7", None),
        ("k4000", "L"),
    ]


def test_compaction_keeps_the_current_state_and_one_entry_per_row(con: Any) -> None:
    write(con, entry("a", "pending"), entry("b", "pending"), entry("c", "pending"))
    write(con, entry("a", "done", lead_id="L-a"), entry("b", "unknown"))
    write(con, forget=["c"])
    before = current(con)

    removed = ledger.compact(con, SCOPE)

    assert removed == 4  # a and b pending, c pending and its forgetting
    assert current(con) == before
    entries = con.execute("SELECT row_key, state FROM ops.push_ledger_entries ORDER BY 1").fetchall()
    assert entries == [("a", "done"), ("b", "unknown")]
    assert ledger.compact(con, SCOPE) == 0


def test_intents_have_their_own_table_and_go_once_settled(con: Any) -> None:
    write(con, entry("a", "pending"), entry("b", "pending"))
    assert con.execute("SELECT row_key FROM ops.push_ledger_intents ORDER BY 1").fetchall() == [
        ("a",),
        ("b",),
    ]
    assert con.execute("SELECT count(*) FROM ops.push_ledger_entries").fetchone() == (0,)
    assert [r[3] for r in current(con)] == ["pending", "pending"]
    write(con, entry("a", "done", lead_id="L-a"))

    assert ledger.compact(con, SCOPE) == 1  # a's intent; b's is still open
    assert con.execute("SELECT row_key FROM ops.push_ledger_intents").fetchall() == [("b",)]
    assert [(r[2], r[3]) for r in current(con)] == [("a", "done"), ("b", "pending")]
    assert [e.row_key for e in ledger.open_entries(con, SCOPE)] == ["b"]


def test_a_settling_write_deletes_the_intents_its_entries_supersede_and_nothing_else(con: Any) -> None:
    other = LedgerScope("ws", "other-camp", "people", "run-1")
    write(con, entry("a", "pending"), entry("b", "pending"), entry("c", "pending"))
    write(con, entry("a", "pending"), scope=other)
    ledger.write(
        con, SCOPE, ledger.entries_of([entry("a", "done", lead_id="L-a"), entry("b", "unknown")]), settle=True
    )
    ledger.write(con, SCOPE, forget=["c"], settle=True)

    # This scope's intents of a, b (superseded) and c (forgotten) are gone; the other campaign's stays.
    assert con.execute("SELECT row_key FROM ops.push_ledger_intents").fetchall() == [("a",)]
    assert current(con) == [
        ("ws", "camp", "a", "done", "L-a", None),
        ("ws", "camp", "b", "unknown", None, None),
        ("ws", "other-camp", "a", "pending", None, None),
    ]
    # An intent written with the entries of other rows stays: only newer entries of its own row settle it.
    ledger.write(
        con, SCOPE, ledger.entries_of([entry("c", "pending"), entry("b", "done", lead_id="L-b")]), settle=True
    )
    assert con.execute("SELECT row_key FROM ops.push_ledger_intents ORDER BY 1").fetchall() == [
        ("a",),
        ("c",),
    ]
    assert [r[3] for r in current(con)] == ["done", "done", "pending", "pending"]


def test_a_pending_entry_written_before_the_intents_table_still_counts(con: Any) -> None:
    # Migration 0011 left the pending entries of a push interrupted before it in ops.push_ledger_entries.
    write(con, entry("a", "done", lead_id="L-a"))
    write_id = con.execute("SELECT max(write_id) + 1 FROM ops.push_ledger_writes").fetchone()[0]
    con.execute(
        "INSERT INTO ops.push_ledger_writes VALUES (?, 'ws', 'camp', 'people', 'run-0', now())", [write_id]
    )
    con.execute(
        "INSERT INTO ops.push_ledger_entries VALUES (?, 'b', 'b@x.co', NULL, 'h', 'pending', NULL, NULL)",
        [write_id],
    )
    assert [(r[2], r[3]) for r in current(con)] == [("a", "done"), ("b", "pending")]
    assert ledger.read_slice(con, SCOPE, ["email"], 0, 3)["l_state"].to_list() == ["done", "pending", None]
    write(con, entry("b", "done", lead_id="L-b"))
    assert ledger.compact(con, SCOPE) == 1
    assert [(r[2], r[3]) for r in current(con)] == [("a", "done"), ("b", "done")]


def test_the_ledger_needs_no_primary_key_or_upsert(con: Any) -> None:
    # DuckLake has no primary keys or unique constraints: the ledger must not depend on them.
    constraints = con.execute(
        "SELECT table_name, constraint_type FROM duckdb_constraints() WHERE schema_name = 'ops' "
        "AND table_name LIKE 'push_ledger%' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"
    ).fetchall()
    assert constraints == []
    source = Path(ledger.__file__).read_text()
    assert not re.search(r"INSERT OR (REPLACE|IGNORE)|ON CONFLICT", source)


def test_sync_lead_ids_and_engagement_links_come_from_the_current_state(con: Any) -> None:
    write(con, entry("a", "done", lead_id="L-old"))
    write(con, entry("a", "done", lead_id="L-a"), entry("b", "rejected"))

    assert ledger.lead_ids_by_campaign(con, "ws") == {"camp": ["L-a"]}
    assert ledger.lead_ids_by_campaign(con, "another-ws") == {}
    links = con.execute(ledger.lead_links_sql("people")).fetchall()
    assert links == [("a", "camp", "L-a")]


def test_adopting_a_workspace_rekeys_old_rows_and_keeps_rows_already_under_the_id(con: Any) -> None:
    legacy = LedgerScope("https://api#0123", "camp", "people", "old-run")
    write(con, entry("a", "done", lead_id="L-a-legacy"), entry("b", "done", lead_id="L-b"), scope=legacy)
    write(con, entry("a", "done", lead_id="L-a"), scope=LedgerScope("ws-id", "camp", "people", "r"))

    moved = ledger.adopt_workspace(con, "ws-id", "Acme", ["camp"])

    assert moved == 1
    assert current(con) == [
        ("ws-id", "camp", "a", "done", "L-a", None),
        ("ws-id", "camp", "b", "done", "L-b", None),
    ]
    assert con.execute("SELECT alias, workspace_id FROM ops.workspace_aliases").fetchall() == [
        ("https://api#0123", "ws-id")
    ]
    assert ledger.adopt_workspace(con, "ws-id", "Acme", ["camp"]) == 0


def test_results_are_appended_with_the_run_and_campaign(con: Any) -> None:
    rows = pl.DataFrame({"row_key": ["a"], "email": ["a@x.co"]})
    ledger.append_results(con, SCOPE, ledger.result_frame(rows, ["L-a"], ["created"], [None]))
    ledger.append_results(con, SCOPE, [ledger.ResultRow("b", "b@x.co", None, "unknown", "still unknown")])
    assert con.execute(
        "SELECT run_id, source_table, campaign_id, row_key, outcome FROM ops.push_results ORDER BY row_key"
    ).fetchall() == [
        ("run-1", "people", "camp", "a", "created"),
        ("run-1", "people", "camp", "b", "unknown"),
    ]


def test_created_frames_match_the_per_request_entries_and_results() -> None:
    first = pl.DataFrame({"row_key": ["a", "b"], "email": ["a@x.co", "b@x.co"], "payload_hash": ["ha", "hb"],
                          "reason": [None, "email fixed"], "lead": ["{}", "{}"]})  # fmt: skip
    second = pl.DataFrame({"row_key": ["c"], "email": ["c@x.co"], "payload_hash": ["hc"], "reason": [None],
                           "lead": ["{}"]}, schema_overrides={"reason": pl.Utf8})  # fmt: skip

    entries, results = ledger.created_frames([first, second], [["L-a", "L-b"], ["L-c"]], ["b1", "b2"])

    expected_entries = pl.concat(
        [
            ledger.entry_frame(first, "done", batch_id="b1", lead_ids=["L-a", "L-b"], outcomes="created"),
            ledger.entry_frame(second, "done", batch_id="b2", lead_ids=["L-c"], outcomes="created"),
        ]
    )
    expected_results = pl.concat(
        [
            ledger.result_frame(first, ["L-a", "L-b"], ["created"] * 2, [None, "email fixed"]),
            ledger.result_frame(second, ["L-c"], ["created"], [None]),
        ]
    )
    assert entries.columns == list(ledger.ENTRY_COLUMNS)
    assert results.columns == list(ledger.RESULT_COLUMNS)
    assert entries.to_dicts() == expected_entries.to_dicts()
    assert results.to_dicts() == expected_results.to_dicts()


def test_a_warehouse_with_the_old_ledger_table_migrates_to_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    raw.execute(
        "CREATE TABLE main._migrations (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)"
    )
    for version, name, sql in migrations():
        if version < 9:  # the warehouse as the last release left it
            raw.execute(sql)
            raw.execute("INSERT INTO main._migrations VALUES (?, ?, now())", [version, name])
    old_rows = [
        ("ws", "camp", "people", "a", "a@x.co", "L-a", "ha", "done", "created", "b1", "r1"),
        ("ws", "camp", "people", "b", "b@x.co", None, "hb", "pending", None, "b2", "r2"),
        ("ws", "camp", "people", "c", "c@x.co", None, "hc", "sent", None, "b2", "r2"),
        ("ws", "camp2", "people", "a", "a@x.co", None, "ha", "rejected", "skipped", "b3", "r2"),
    ]
    raw.executemany("INSERT INTO ops.push_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())", old_rows)
    raw.execute(
        "CREATE TABLE ops.people AS SELECT * FROM (VALUES ('a', NULL), ('b', NULL), ('c', NULL)) t(_row_key, _row_problem)"
    )
    raw.close()

    with Warehouse(path).connect() as con:
        state = con.execute(
            f"SELECT workspace, campaign_id, source_table, row_key, email, lead_id, payload_hash, state, outcome, "
            f"batch_id, run_id FROM {ledger.CURRENT} ORDER BY campaign_id, row_key"
        ).fetchall()
        scope = LedgerScope("ws", "camp", "people", "r3")
        opened = [(e.row_key, e.state, e.batch_id) for e in ledger.open_entries(con, scope)]
        # The first write after the migration is newer than every migrated entry.
        write(con, entry("a", "done", lead_id="L-a2"), scope=scope)
        after = ledger.read_slice(con, scope, [], 0, 3).select("row_key", "l_state", "l_lead_id").rows()

    sent_as_unknown = [r if r[7] != "sent" else (*r[:7], "unknown", *r[8:]) for r in old_rows]
    assert state == sorted(sent_as_unknown, key=lambda r: (r[1], r[3]))
    assert opened == [("b", "pending", "b2"), ("c", "unknown", "b2")]
    assert after == [("a", "done", "L-a2"), ("b", "pending", None), ("c", "unknown", None)]


def test_open_entries_are_rows_whose_newest_entry_is_open_in_this_scope_only(con: Any) -> None:
    other = LedgerScope("ws", "other-campaign", "people", "run-1")
    write(con, entry("a", "pending"), entry("b", "pending"), entry("c", "pending"))
    write(con, entry("a", "done", lead_id="L-a"), entry("b", "unknown"), forget=["c"])
    write(con, entry("a", "unknown"), entry("c", "pending"), scope=other)

    assert [(e.row_key, e.state) for e in ledger.open_entries(con, SCOPE)] == [("b", "unknown")]
    assert [(e.row_key, e.state) for e in ledger.open_entries(con, other)] == [
        ("a", "unknown"),
        ("c", "pending"),
    ]
