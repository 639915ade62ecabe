"""Connections: which source table feeds which Instantly campaigns (table `ops.connections`, migration 0004).

`ops-instantly connect-table` writes them after checking each campaign against the API; scheduled push and
sync runs read them with :func:`list_connections`, so they need no arguments.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import duckdb

from ops_core.sources import same_file
from warehouse.db import column_exists, table_exists
from warehouse.merge import claim, upsert_row
from warehouse.names import ops_table_name

__all__ = [
    "BLOCK_PREFIX",
    "Connection",
    "list_connections",
    "plan_connected_pushes",
    "read_connections",
    "remove_connections",
    "repoint_table",
    "save_connection",
]

# A connection's source names a Postgres Source block as "block:NAME" (a URL with a password is never stored).
BLOCK_PREFIX = "block:"

_COLUMNS = "table_name, campaign_id, campaign_name, source, key_column, mapping, created_at"
_READ_AS = ("sheet", "query")  # migration 0015: absent from an older warehouse opened read-only


@dataclass(frozen=True)
class Connection:
    """One source table feeding one campaign.

    Attributes:
        table_name: the Ops table, as given to `--table` (e.g. `ops.prospects`).
        campaign_id: the Instantly campaign id (checked against the API when connected).
        campaign_name: the campaign's name when it was connected (display only).
        source: where the table is read from (a source block or URL name); `None` means the warehouse.
        key_column: the table's key column; `None` means the push default.
        mapping: the column mapping (the content of the `--mapping` file), or `None` for the default.
        created_at: when the connection was recorded.
        sheet: the workbook's sheet to read (`--sheet`); `None` means the first sheet.
        query: the Postgres query to read instead of the table (`--query`); `table_name` names the result.
    """

    table_name: str
    campaign_id: str
    campaign_name: str
    source: str | None = None
    key_column: str | None = None
    mapping: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    sheet: str | None = None
    query: str | None = None

    @property
    def read_as(self) -> str:
        """Where the table is read from, as messages show it: `book.xlsx (sheet 'Leads')`,
        `postgresql://host/db (a query)`, or the source alone."""
        return read_as(self.source or "", self.sheet, self.query)


def read_as(source: str, sheet: str | None = None, query: str | None = None) -> str:
    """A source with the sheet or query it is read through, as messages show it (pure)."""
    if sheet:
        return f"{source} (sheet {sheet!r})"
    return f"{source} (a query)" if query else source


def list_connections(con: duckdb.DuckDBPyConnection, table_name: str | None = None) -> list[Connection]:
    """Every connection (or those of one table, however it is spelled: `ops.prospects`, `prospects`),
    ordered by table and campaign name.

    Works on a read-only connection; returns `[]` when the warehouse predates migration 0004.
    """
    if not table_exists(con, "ops", "connections"):
        return []
    read_as = [c if column_exists(con, "ops", "connections", c) else f"NULL AS {c}" for c in _READ_AS]
    sql = f"SELECT {_COLUMNS}, {', '.join(read_as)} FROM ops.connections"
    rows = con.execute(sql + " ORDER BY table_name, campaign_name, campaign_id").fetchall()
    if table_name:
        wanted = ops_table_name(table_name)
        rows = [r for r in rows if ops_table_name(r[0]) == wanted]
    return [
        Connection(
            table_name=r[0],
            campaign_id=r[1],
            campaign_name=r[2],
            source=r[3],
            key_column=r[4],
            mapping=json.loads(r[5]) if r[5] else None,
            created_at=r[6],
            sheet=r[7],
            query=r[8],
        )
        for r in rows
    ]


def save_connection(con: duckdb.DuckDBPyConnection, connection: Connection) -> None:
    """Insert or replace the connection of (table_name, campaign_id): one per warehouse table and campaign,
    so the table's connection to that campaign under another spelling (`ops.hooks`, `hooks`) is replaced."""
    for old in list_connections(con, connection.table_name):
        if old.campaign_id == connection.campaign_id and old.table_name != connection.table_name:
            claim(con)
            con.execute(
                "DELETE FROM ops.connections WHERE table_name = ? AND campaign_id = ?",
                [old.table_name, old.campaign_id],
            )
    row = {
        "table_name": connection.table_name,
        "campaign_id": connection.campaign_id,
        "campaign_name": connection.campaign_name,
        "source": connection.source,
        "key_column": connection.key_column,
        "mapping": json.dumps(connection.mapping) if connection.mapping is not None else None,
        "created_at": connection.created_at,
        "sheet": connection.sheet,
        "query": connection.query,
    }
    upsert_row(con, "ops.connections", ["table_name", "campaign_id"], row)


def repoint_table(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    source: str,
    *,
    sheet: str | None = None,
    query: str | None = None,
) -> tuple[str | None, list[Connection]]:
    """Make `source` (its `sheet`, or a Postgres `query`) where `table_name` is read from: every connection of
    the table, and the source recorded for `ops.<table_name>` (so its next push replaces the rows from there
    instead of refusing another source).

    For a connected file that moved, or a table now read from elsewhere: `connect-table` with the new
    `--source` says so. Returns (the source recorded before, or None when it was the same, also written
    another way (`leads.csv` and its absolute path), or the table was never pushed; the table's connections
    whose source, sheet or query changed, as they were).
    """
    changed = [
        c for c in list_connections(con, table_name) if (c.source, c.sheet, c.query) != (source, sheet, query)
    ]
    table_name = ops_table_name(table_name)  # as ops.source_tables names it (`ops.hooks` -> `hooks`)
    for c in changed:
        save_connection(con, replace(c, source=source, sheet=sheet, query=query))
    if query is not None and column_exists(con, "ops", "source_tables", "source_query"):
        claim(con)  # the next push reads this query: not "another source" (tasks/extract.py)
        con.execute(
            "UPDATE ops.source_tables SET source_query = ?, source_table = NULL WHERE table_name = ?",
            [query.strip().rstrip(";").strip(), table_name],
        )
    before = None
    if table_exists(con, "ops", "source_tables"):
        row = con.execute(
            "SELECT source FROM ops.source_tables WHERE table_name = ?", [table_name]
        ).fetchone()
        if row is not None and row[0] != source:
            # The same file written another way (a push given `leads.csv`, now its absolute path) is
            # recorded anew without saying it moved.
            before = None if same_file(row[0], source) else row[0]
            claim(con)
            con.execute("UPDATE ops.source_tables SET source = ? WHERE table_name = ?", [source, table_name])
    return before, changed


def remove_connections(
    con: duckdb.DuckDBPyConnection, table_name: str, campaign_ids: list[str] | None = None
) -> int:
    """Remove a table's connections (all of them, or those to `campaign_ids`), the table spelled any way
    that names it (`ops.prospects`, `prospects`). Returns how many went."""
    spellings = sorted({c.table_name for c in list_connections(con, table_name)})
    if not spellings:
        return 0
    sql = f"DELETE FROM ops.connections WHERE table_name IN ({', '.join('?' for _ in spellings)})"
    params: list[Any] = list(spellings)
    if campaign_ids:
        sql += f" AND campaign_id IN ({', '.join('?' for _ in campaign_ids)})"
        params.extend(campaign_ids)
    before = con.execute("SELECT count(*) FROM ops.connections").fetchone()
    con.execute(sql, params)
    after = con.execute("SELECT count(*) FROM ops.connections").fetchone()
    return int(before[0] if before else 0) - int(after[0] if after else 0)


def read_connections(warehouse: Any) -> list[Connection]:
    """Every connection in a warehouse (a read-only connection held for milliseconds)."""
    with warehouse.connect(read_only=True) as con:
        return list_connections(con)


def plan_connected_pushes(connections: list[Connection]) -> list[dict[str, Any]]:
    """Group connections into one push per table: the push parameters each group needs (pure).

    Raises:
        OpsError: a connected table has no source to read it from.
    """
    from ops_core.errors import OpsError

    groups: dict[tuple[str, str | None, str | None, str, str | None, str | None], list[Connection]] = {}
    for c in connections:
        key = (
            _read_table(c),
            c.source,
            c.key_column,
            json.dumps(c.mapping, sort_keys=True),
            c.sheet,
            c.query,
        )
        groups.setdefault(key, []).append(c)
    plans = []
    for (_, source, key_column, mapping, sheet, query), connected in groups.items():
        table = connected[0].table_name
        if not source:
            raise OpsError(
                f"The connection of {table} has no source to read it from.",
                hint=f"run `ops-instantly connect-table --table {table} --source ... --campaign ...` again",
            )
        plan: dict[str, Any] = {
            "table": table,
            "key": key_column,
            "campaigns": [c.campaign_id for c in connected],
            "campaign_names": [c.campaign_name or c.campaign_id for c in connected],
            "mapping_rules": json.loads(mapping),
            "sheet": sheet,
            "query": query,
        }
        if source.startswith(BLOCK_PREFIX):
            plan["source_block"] = source[len(BLOCK_PREFIX) :]
        else:
            plan["source"] = source
        plans.append(plan)
    return plans


def _read_table(connection: Connection) -> str:
    """What a connection's table name reads: the source's table in a database (a Postgres `crm.leads` is
    not `public.leads`), else only the warehouse table it names (`ops.hooks` and `hooks` of a CSV are one)."""
    source = connection.source or ""
    if source.startswith(BLOCK_PREFIX) or source.lower().startswith(("postgres", "duckdb://")):
        return connection.table_name
    if source.lower().endswith((".duckdb", ".ddb")):
        return connection.table_name
    return ops_table_name(connection.table_name)
