"""Merging staged rows on a natural key (warehouse/merge.py): the statement, and its counts on a real
warehouse of each backend (a DuckDB file, a DuckLake), where the key is kept by the MERGE alone."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import polars as pl
import pytest

from warehouse.db import Warehouse
from warehouse.merge import MergeCounts, merge_frame, merge_sql


@pytest.fixture
def con(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A warehouse with a target table shaped like its own (data, `_hash`, run columns), keyless as on DuckLake."""
    with warehouse.connect() as con:
        con.execute(
            'CREATE TABLE t (id VARCHAR, "my col" VARCHAR, n INTEGER, _hash VARCHAR, _run_id VARCHAR,'
            " _loaded_at TIMESTAMPTZ)"
        )
        yield con


def staged_views(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute("SELECT view_name FROM duckdb_views() WHERE view_name = '_merge_source'").fetchall()


def rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    return con.execute('SELECT id, "my col", n, _hash, _run_id FROM t ORDER BY id').fetchall()


def test_merge_sql_updates_only_changed_hashes_and_never_the_key_columns() -> None:
    sql = merge_sql("instantly.leads", ["id", "email", "_hash"], ["id"], "_src")
    assert sql.startswith("MERGE INTO instantly.leads AS t USING (SELECT *, now() AS _loaded_at FROM _src)")
    assert 'ON t."id" = s."id"' in sql
    assert "WHEN MATCHED AND t._hash IS DISTINCT FROM s._hash THEN UPDATE SET" in sql
    update = sql.split("UPDATE SET", 1)[1].split("WHEN NOT MATCHED", 1)[0]
    assert '"id" =' not in update  # the key is matched on, never rewritten
    assert '"email" = s."email"' in update and '"_run_id" = s."_run_id"' in update
    assert 'INSERT ("id", "email", "_hash", "_run_id", "_loaded_at")' in sql
    assert "RETURNING" not in sql  # DuckLake has no MERGE ... RETURNING: merge_counts_sql counts first


def test_merge_sql_quotes_odd_column_names_and_joins_composite_keys() -> None:
    sql = merge_sql("t", ['we"ird', "day", "_hash"], ['we"ird', "day"], "_src")
    assert 'ON t."we""ird" = s."we""ird" AND t."day" = s."day"' in sql


def test_a_first_merge_inserts_every_row_with_its_run_id(con: duckdb.DuckDBPyConnection) -> None:
    frame = pl.DataFrame({"id": ["a", "b"], "my col": ["x", "y"], "n": [1, 2], "_hash": ["h1", "h2"]})
    counts = merge_frame(con, "t", frame, ["id"], "run-1")
    assert counts == MergeCounts(inserted=2)
    assert rows(con) == [("a", "x", 1, "h1", "run-1"), ("b", "y", 2, "h2", "run-1")]


def test_a_rerun_rewrites_only_rows_whose_hash_changed(con: duckdb.DuckDBPyConnection) -> None:
    first = pl.DataFrame({"id": ["a", "b"], "my col": ["x", "y"], "n": [1, 2], "_hash": ["h1", "h2"]})
    merge_frame(con, "t", first, ["id"], "run-1")
    loaded_before = dict(con.execute("SELECT id, _loaded_at FROM t").fetchall())

    again = pl.DataFrame(
        {"id": ["a", "b", "c"], "my col": ["x", "Y", "z"], "n": [1, 20, 3], "_hash": ["h1", "h2b", "h3"]}
    )
    counts = merge_frame(con, "t", again, ["id"], "run-2")
    assert counts.as_dict() == {"inserted": 1, "updated": 1, "unchanged": 1}
    assert rows(con) == [
        ("a", "x", 1, "h1", "run-1"),
        ("b", "Y", 20, "h2b", "run-2"),
        ("c", "z", 3, "h3", "run-2"),
    ]
    loaded_after = dict(con.execute("SELECT id, _loaded_at FROM t").fetchall())
    assert loaded_after["a"] == loaded_before["a"]  # an unchanged row keeps its load time and run


def test_a_row_whose_hash_was_null_is_rewritten(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("INSERT INTO t VALUES ('a', 'old', 1, NULL, 'run-0', now())")
    frame = pl.DataFrame({"id": ["a"], "my col": ["new"], "n": [1], "_hash": ["h1"]})
    assert merge_frame(con, "t", frame, ["id"], "run-1").updated == 1
    assert rows(con) == [("a", "new", 1, "h1", "run-1")]


def test_an_empty_frame_changes_nothing_and_registers_nothing(con: duckdb.DuckDBPyConnection) -> None:
    empty = pl.DataFrame(schema={"id": pl.String, "my col": pl.String, "n": pl.Int32, "_hash": pl.String})
    assert merge_frame(con, "t", empty, ["id"], "run-1") == MergeCounts()
    assert rows(con) == []
    assert staged_views(con) == []


def test_the_staged_frame_is_unregistered_even_when_the_merge_fails(con: duckdb.DuckDBPyConnection) -> None:
    bad = pl.DataFrame({"id": ["a"], "no_such_column": ["x"], "_hash": ["h"]})
    with pytest.raises(duckdb.Error):
        merge_frame(con, "t", bad, ["id"], "run-1")
    assert staged_views(con) == []


def test_merging_a_key_again_rewrites_its_row_instead_of_adding_one(con: duckdb.DuckDBPyConnection) -> None:
    frame = pl.DataFrame({"id": ["a"], "my col": ["x"], "n": [1], "_hash": ["h1"]})
    merge_frame(con, "t", frame, ["id"], "run-1")
    merge_frame(con, "t", frame.with_columns(pl.lit("h2").alias("_hash")), ["id"], "run-2")
    assert rows(con) == [("a", "x", 1, "h2", "run-2")]  # one row per key with no key constraint


def test_merge_counts_as_a_dict() -> None:
    assert MergeCounts(1, 2, 3).as_dict() == {"inserted": 1, "updated": 2, "unchanged": 3}
