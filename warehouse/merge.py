"""Merging staged rows into a warehouse table on its natural key.

A row is inserted when its key is new and rewritten only when its `_hash` differs, so a re-run neither
duplicates rows nor touches the `_loaded_at`/`_run_id` of rows whose data did not change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
        f"WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values}) "
        "RETURNING merge_action"
    )


def merge_frame(
    con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, keys: Sequence[str], run_id: str
) -> MergeCounts:
    """Merge `frame` (one row per key) into `table`, inside the caller's transaction."""
    if frame.is_empty():
        return MergeCounts()
    staged = frame.with_columns(pl.lit(run_id).alias("_run_id"))
    name = "_merge_source"
    con.register(name, staged)
    try:
        actions = con.execute(merge_sql(table, frame.columns, keys, name)).fetchall()
    finally:
        con.unregister(name)
    inserted = sum(1 for (a,) in actions if a == "INSERT")
    updated = sum(1 for (a,) in actions if a == "UPDATE")
    return MergeCounts(inserted=inserted, updated=updated, unchanged=frame.height - inserted - updated)
