"""Every keyed write: merging staged rows, upserting one row, inserting only what is missing.

A merged row is inserted when its key is new and rewritten only when its `_hash` differs, so a re-run
neither duplicates rows nor touches the `_loaded_at`/`_run_id` of rows whose data did not change.

One form for both backends: MERGE INTO, never INSERT OR REPLACE / ON CONFLICT, which need a PRIMARY KEY
that a DuckLake cannot have. On a DuckLake nothing stops two writers from inserting the same new key at
once (inserts never conflict there), so every keyed write first *claims* the warehouse: it rewrites the one
row of `ops.write_claim` (migration 0010). Two transactions that both claim conflict, and the one run
again sees the other's rows: keyed writes commit one at a time, as they would under a key. Appends
(`ops.push_results`, the push ledger) do not claim and run side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from ops_core.sql import quote_ident


@dataclass(frozen=True)
class MergeCounts:
    """Rows of one merge: new keys, changed rows rewritten, and rows left as they were."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


def merge_sql(table: str, columns: Sequence[str], keys: Sequence[str], source: str) -> str:
    """The MERGE statement for `table` from the relation `source` (pure).

    Args:
        table: qualified target, e.g. `instantly.leads` (already quoted as needed).
        columns: data columns of `source`, `_hash` included; `_loaded_at` and `_run_id` are added.
        keys: the natural key columns.
        source: a relation with `columns` plus `_run_id`.
    """
    cols = [*columns, "_run_id", "_loaded_at"]
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    updates = ", ".join(f"{quote_ident(c)} = s.{quote_ident(c)}" for c in cols if c not in keys)
    names = ", ".join(quote_ident(c) for c in cols)
    values = ", ".join(f"s.{quote_ident(c)}" for c in cols)
    return (
        f"MERGE INTO {table} AS t "
        f"USING (SELECT *, now() AS _loaded_at FROM {source}) AS s ON {on} "
        f"WHEN MATCHED AND t._hash IS DISTINCT FROM s._hash THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})"
    )


def merge_counts_sql(table: str, keys: Sequence[str], source: str) -> str:
    """(inserted, updated) that `merge_sql` is about to make, from the same relations (pure).

    DuckLake has no MERGE ... RETURNING, so the counts are read first, inside the same transaction.
    """
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    return (
        "SELECT count(*) FILTER (WHERE t._matched IS NULL), "
        "count(*) FILTER (WHERE t._matched AND t._hash IS DISTINCT FROM s._hash) "
        f"FROM {source} AS s LEFT JOIN (SELECT *, true AS _matched FROM {table}) AS t ON {on}"
    )


def claim(con: duckdb.DuckDBPyConnection) -> None:
    """Claim the warehouse for a keyed write, inside the caller's transaction (see the module docstring)."""
    con.execute("UPDATE ops.write_claim SET claims = claims + 1, claimed_at = now()")


def merge_frame(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, keys: Sequence[str], run_id: str
) -> MergeCounts:
    """Merge `frame` (one row per key) into `table`, inside the caller's transaction."""
    if frame.is_empty():
        return MergeCounts()
    claim(con)
    staged = frame.with_columns(pl.lit(run_id).alias("_run_id"))
    name = "_merge_source"
    con.register(name, staged)
    try:
        found = con.execute(merge_counts_sql(table, keys, name)).fetchone()
        inserted, updated = (int(found[0]), int(found[1])) if found else (0, 0)
        con.execute(merge_sql(table, frame.columns, keys, name))
    finally:
        con.unregister(name)
    return MergeCounts(inserted=inserted, updated=updated, unchanged=frame.height - inserted - updated)


def upsert_row(
    con: duckdb.DuckDBPyConnection, table: str, keys: Sequence[str], row: Mapping[str, Any]
) -> None:
    """Insert `row` ({column: value}), or rewrite the row with the same `keys` (INSERT OR REPLACE's job)."""
    claim(con)
    cols = list(row)
    names = ", ".join(quote_ident(c) for c in cols)
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    updates = ", ".join(f"{quote_ident(c)} = s.{quote_ident(c)}" for c in cols if c not in keys)
    values = ", ".join(f"s.{quote_ident(c)}" for c in cols)
    params = ", ".join("?" for _ in cols)
    con.execute(
        f"MERGE INTO {table} AS t USING (SELECT * FROM (VALUES ({params})) AS v({names})) AS s ON {on} "
        f"WHEN MATCHED THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})",
        list(row.values()),
    )


def insert_missing(
    con: duckdb.DuckDBPyConnection, table: str, keys: Sequence[str], columns: Sequence[str], source: str
) -> None:
    """Insert the rows of relation `source` whose `keys` are not in `table` yet (INSERT OR IGNORE's job).

    `source` must hold one row per key.
    """
    claim(con)
    names = ", ".join(quote_ident(c) for c in columns)
    on = " AND ".join(f"t.{quote_ident(k)} = s.{quote_ident(k)}" for k in keys)
    values = ", ".join(f"s.{quote_ident(c)}" for c in columns)
    con.execute(
        f"MERGE INTO {table} AS t USING {source} AS s ON {on} "
        f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})"
    )
