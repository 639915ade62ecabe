"""Helpers for the report tests: campaigns, leads and pushed source tables written straight into a real
warehouse (the tables and views the migrations create), linked by email as the engagement views link them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from instantly_client.models.enums import InterestStatus
from ops_core.sql import quote_ident

NOW = datetime(2026, 9, 3, 12, tzinfo=UTC)
META = ["h", NOW, "run-1"]  # _hash, _loaded_at, _run_id


def add_campaign(con: duckdb.DuckDBPyConnection, cid: str, name: str) -> None:
    con.execute(
        "INSERT INTO instantly.campaigns (id, name, status, status_label, _hash, _loaded_at, _run_id)"
        " VALUES (?, ?, 1, 'Active', ?, ?, ?)",
        [cid, name, *META],
    )


def add_lead(
    con: duckdb.DuckDBPyConnection,
    cid: str,
    email: str,
    *,
    contacted: bool = True,
    replied: bool = False,
    interest: int | None = None,
) -> None:
    """One lead of campaign `cid`, as a sync loads it (id `<cid>-<email>`)."""
    status = "replied" if replied else "sent" if contacted else "not_contacted"
    con.execute(
        "INSERT INTO instantly.leads (id, campaign_id, email, email_normalized, status, lt_interest_status,"
        " interest_status_label, email_open_count, email_reply_count, email_status, timestamp_last_contact,"
        " _hash, _loaded_at, _run_id) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [f"{cid}-{email}", cid, email, email, interest, InterestStatus.label_for(interest) if interest else None,
         int(replied), int(replied), status,
         datetime(2026, 9, 2, 10, tzinfo=UTC) if contacted else None, *META],
    )  # fmt: skip


def add_source_table(
    con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, str], rows: list[tuple[Any, ...]]
) -> None:
    """A pushed source table `ops.<table>` (first column `email`, the row key), recorded in ops.source_tables."""
    spec = ", ".join(f"{quote_ident(name)} {kind}" for name, kind in columns.items())
    con.execute(f"CREATE TABLE ops.{quote_ident(table)} ({spec}, _row_key VARCHAR)")
    for row in rows:
        con.execute(
            f"INSERT INTO ops.{quote_ident(table)} VALUES ({', '.join('?' * (len(row) + 1))})", [*row, row[0]]
        )
    con.execute(
        "INSERT INTO ops.source_tables (table_name, source, key_column, email_column, row_count, extracted_at, run_id) VALUES (?, ?, NULL, 'email', ?, ?, 'run-1')",
        [table, f"{table}.csv", len(rows), NOW],
    )
