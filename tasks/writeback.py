"""Optional write-back: the engagement columns added to (if missing) and updated on a Postgres source table.

All tables are written in one Postgres transaction. Rows are matched on the table's key column as recorded
in ops.source_tables (compared as text, as the warehouse's `_row_key` is), or on the normalised email when
the table has no key column. Only rows whose engagement changed are updated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import SecretStr

from ops_core.emails import email_key_sql
from ops_core.engagement import ENGAGEMENT_COLUMNS
from ops_core.errors import OpsError, first_line
from ops_core.interface import option
from ops_core.sql import quote_ident
from ops_core.urls import url_key
from warehouse.db import Warehouse
from warehouse.names import custom_variable_name
from warehouse.views import SourceTable, source_tables

if TYPE_CHECKING:
    from blocks import PostgresSource

# Postgres types of the engagement columns (ENGAGEMENT_COLUMNS order).
PG_TYPES: dict[str, str] = {
    "instantly_status": "text",
    "instantly_email_status": "text",
    "instantly_last_contacted": "timestamptz",
    "instantly_reply_count": "integer",
    "instantly_open_count": "integer",
    "instantly_click_count": "integer",
    "instantly_interest_status": "text",
    "instantly_lead_id": "text",
    "instantly_campaigns": "text[]",
}


@dataclass(frozen=True)
class WriteBackTarget:
    """Where to write: a Postgres URL (a secret), its default schema, and which source tables."""

    url: SecretStr
    schema: str = "public"
    tables: tuple[str, ...] = ()

    @classmethod
    def from_block(cls, source: PostgresSource, tables: Sequence[str] = ()) -> WriteBackTarget:
        """The database of a Postgres Source block (saved, or built in-process from `--source-url`)."""
        return cls(url=source.url, schema=source.schema_name, tables=tuple(tables))


def plan_tables(tables: Sequence[SourceTable], target: WriteBackTarget) -> list[tuple[SourceTable, str]]:
    """(source table, Postgres table) pairs to write (pure).

    Named tables are taken as given (`schema.table` or a table in the target's schema), found by their
    warehouse name (`contacts`) or the Postgres table they were read from (`crm.Contacts`); otherwise every
    source table extracted from this Postgres database (same URL, password aside) is written to the table it
    was read from. A table read with a --query has none: it is written only when named. Tables recorded
    before the push kept their Postgres table (migration 0014) are taken to be `<schema>.<warehouse name>`.
    """
    by_name = {t.name: t for t in tables}
    by_pg = {t.source_table: t for t in tables if t.source_table}
    if target.tables:
        chosen = []
        for name in target.tables:
            short = name.rsplit(".", 1)[-1]
            qualified = name if "." in name else f"{target.schema}.{name}"
            table = by_name.get(short) or by_pg.get(qualified) or by_name.get(custom_variable_name(short))
            if table is None:
                raise OpsError(
                    f"No source table {short!r} in the warehouse to write back.",
                    hint="push it first; known tables: " + (", ".join(sorted(by_name)) or "none"),
                )
            chosen.append((table, qualified))
        return chosen
    url = url_key(target.url.get_secret_value())  # as ops.source_tables records it
    return [
        (t, t.source_table or f"{target.schema}.{t.name}")
        for t in tables
        if t.source == url and not t.source_query
    ]


def read_engagement(warehouse: Warehouse, table: SourceTable) -> list[tuple[Any, ...]]:
    """(row key, engagement columns...) once per row key of the table's engagement view.

    Source rows sharing a key (repeated emails, which the push reports as duplicates) share its engagement:
    the view has the same values on each of them, and the UPDATE writes them to every row with that key.
    """
    cols = ", ".join(quote_ident(c) for c in ENGAGEMENT_COLUMNS)
    view = f"ops.{quote_ident(table.name + '_engagement')}"
    with warehouse.connect(read_only=True) as con:
        return con.execute(
            f"SELECT DISTINCT ON (_row_key) _row_key, {cols} FROM {view} WHERE _row_key IS NOT NULL"
        ).fetchall()


@task(name="write_back_engagement", retries=0, cache_policy=NO_CACHE)
def write_back_engagement(warehouse: Warehouse, target: WriteBackTarget) -> dict[str, int]:
    """Write the engagement columns to the Postgres source tables, in one transaction.

    Returns:
        Rows updated per Postgres table.

    Raises:
        OpsError: no table to write, a table missing in Postgres, or a Postgres error (nothing written).
    """
    import psycopg

    with warehouse.connect(read_only=True) as con:
        tables = source_tables(con)
    pairs = plan_tables(tables, target)
    url = url_key(target.url.get_secret_value())  # as ops.source_tables records it
    queried = sorted(t.name for t in tables if t.source == url and t.source_query)
    if not pairs and queried:
        raise OpsError(
            f"The tables pushed from this Postgres database were read with a query ({', '.join(queried)}), "
            "which names no table to write to.",
            hint=f"name the Postgres table to write with {option('write_back_tables', metavar='SCHEMA.TABLE')}",
        )
    if not pairs:
        raise OpsError(
            "No source table in the warehouse was extracted from this Postgres database.",
            hint=f"push a Postgres table first, or name it with {option('write_back_tables')}",
        )
    data = {pg: (table, read_engagement(warehouse, table)) for table, pg in pairs}
    updated: dict[str, int] = {}
    try:
        with psycopg.connect(target.url.get_secret_value(), connect_timeout=10) as pg, pg.transaction():
            for pg_table, (table, rows) in data.items():
                updated[pg_table] = _write_table(pg, pg_table, table, rows)
    except psycopg.Error as exc:
        first = first_line(exc)
        raise OpsError(
            f"Write-back to Postgres failed, nothing was written: {first}",
            hint="check the table exists and the user may ALTER and UPDATE it",
        ) from None
    return updated


def _write_table(pg: Any, pg_table: str, table: SourceTable, rows: list[tuple[Any, ...]]) -> int:
    from psycopg import sql

    schema, name = pg_table.rsplit(".", 1)
    target = sql.Identifier(schema, name)
    if pg.execute("SELECT to_regclass(%s)", [f'"{schema}"."{name}"']).fetchone()[0] is None:
        raise OpsError(
            f"The Postgres table {pg_table} does not exist.",
            hint=f"name it with {option('write_back_tables')}",
        )
    for column in ENGAGEMENT_COLUMNS:
        pg.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} " + PG_TYPES[column]).format(
                target, sql.Identifier(column)
            )
        )
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[c])) for c in ENGAGEMENT_COLUMNS
    )
    pg.execute(
        sql.SQL("CREATE TEMP TABLE _ops_engagement (row_key text PRIMARY KEY, {}) ON COMMIT DROP").format(
            columns
        )
    )
    with pg.cursor().copy(
        sql.SQL("COPY _ops_engagement (row_key, {}) FROM STDIN").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in ENGAGEMENT_COLUMNS)
        )
    ) as copy:
        for row in rows:
            copy.write_row([*row[:-1], list(row[-1] or [])])
    match: sql.Composable
    if table.key_column:
        match = sql.SQL("CAST(t.{} AS text) = e.row_key").format(sql.Identifier(table.key_column))
    else:
        # The push's own email rule (ops_core.emails.email_key_sql: invisible characters out, trimmed, lower-cased),
        # in Postgres' SQL (the same functions), so a row matches the `_row_key` it was given.
        column = sql.Identifier(table.email_column or "email").as_string(pg)
        match = sql.SQL(email_key_sql(f"CAST(t.{column} AS text)") + " = e.row_key")
    sets = sql.SQL(", ").join(sql.SQL("{0} = e.{0}").format(sql.Identifier(c)) for c in ENGAGEMENT_COLUMNS)
    changed = sql.SQL(" OR ").join(
        sql.SQL("t.{0} IS DISTINCT FROM e.{0}").format(sql.Identifier(c)) for c in ENGAGEMENT_COLUMNS
    )
    cur = pg.execute(
        sql.SQL("UPDATE {} AS t SET {} FROM _ops_engagement e WHERE {} AND ({})").format(
            target, sets, match, changed
        )
    )
    pg.execute("DROP TABLE _ops_engagement")
    return int(cur.rowcount)
