"""Warehouse side of the sync: read what the pull needs, then load a whole run in one transaction.

Both tasks hold DuckDB's write lock for seconds only: the API is never called while a connection is open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

from ops_core.errors import OpsError, first_line
from tasks.pull import PulledData
from tasks.pull_transform import KEYS, frame, parse_timestamp
from warehouse import ledger
from warehouse.db import Warehouse
from warehouse.merge import merge_frame, upsert_row
from warehouse.sync_changes import engagement_changes
from warehouse.views import create_engagement_views

DAILY_STREAM = "daily_analytics"
EMAILS_STREAM = "emails"
ALL_SCOPE = "*"
LOAD_ORDER = (
    "campaigns",
    "leads",
    "campaign_analytics",
    "campaign_daily_analytics",
    "campaign_step_analytics",
    "emails",
)


@dataclass
class SyncState:
    """What the pull needs from the warehouse before it starts."""

    known_ids: dict[str, list[str]] = field(default_factory=dict)
    synced_ids: dict[str, list[str]] = field(default_factory=dict)
    daily_last_end: dict[str, date] = field(default_factory=dict)
    email_watermark: datetime | None = None


@task(name="read_sync_state", retries=0, cache_policy=NO_CACHE)
def read_sync_state(warehouse: Warehouse, workspace: str) -> SyncState:
    """Lead ids per campaign from the push ledger and from the previous sync (instantly.leads), and the
    committed daily/email checkpoints.

    Opens a write connection (briefly) so that pending migrations are applied first.
    """
    state = SyncState()
    with warehouse.connect() as con:
        if ledger.exists(con):
            state.known_ids = ledger.lead_ids_by_campaign(con, workspace)
        # Campaign ids are workspace-unique UUIDs: the pull only looks up the campaigns it scans.
        for campaign_id, lead_id in con.execute(
            "SELECT campaign_id, id FROM instantly.leads WHERE campaign_id IS NOT NULL ORDER BY campaign_id, id"
        ).fetchall():
            state.synced_ids.setdefault(campaign_id, []).append(lead_id)
        for stream, scope, value in con.execute(
            "SELECT stream, scope, value FROM instantly.sync_checkpoints WHERE workspace = ?", [workspace]
        ).fetchall():
            if stream == DAILY_STREAM and value:
                state.daily_last_end[scope] = date.fromisoformat(value)
            elif stream == EMAILS_STREAM and value:
                state.email_watermark = parse_timestamp(value)
    return state


@task(name="load_sync", retries=0, cache_policy=NO_CACHE)
def load_sync(warehouse: Warehouse, pulled: PulledData, *, workspace: str, run_id: str) -> dict[str, Any]:
    """Merge every pulled table, advance the checkpoints and refresh the engagement views, atomically.

    Everything happens in one transaction: if anything fails the warehouse keeps its previous state.

    Returns:
        Per table `{inserted, updated, unchanged}`, the engagement views refreshed, and `engagement`: new
        replies, bounces, unsubscribes and interested leads since the last sync (`warehouse/sync_changes.py`).
    """
    counts: dict[str, Any] = {}
    try:
        for attempt in warehouse.transactions():  # a DuckLake conflict runs the whole load again
            with attempt as con:
                counts = _load(con, pulled, workspace=workspace, run_id=run_id)
    except duckdb.Error as exc:
        first = first_line(exc)
        raise OpsError(
            f"Loading the sync into {warehouse.display} failed, nothing was changed: {first}",
            hint="the warehouse keeps its previous state; report this with the run id",
        ) from exc
    return counts


def _load(
    con: duckdb.DuckDBPyConnection, pulled: PulledData, *, workspace: str, run_id: str
) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    # Before the merge: what changed since the last sync (new replies, bounces, interested ...).
    counts["engagement"] = engagement_changes(
        con,
        pulled.rows.get("leads") or [],
        pulled.rows.get("emails") or [],
        {str(r["id"]): r.get("name") for r in pulled.rows.get("campaigns") or []},
    )
    for table in LOAD_ORDER:
        rows = pulled.rows.get(table)
        if rows is None:
            continue
        merged = merge_frame(con, f"instantly.{table}", frame(table, rows), KEYS[table], run_id)
        counts[table] = merged.as_dict()
    counts.setdefault("campaign_daily_analytics", {})["deleted"] = _drop_vanished_days(con, pulled)
    checkpoints = [(DAILY_STREAM, cid, end.isoformat()) for cid, end in pulled.daily_ends.items()]
    if pulled.email_watermark is not None:
        checkpoints.append((EMAILS_STREAM, ALL_SCOPE, pulled.email_watermark.isoformat()))
    _save_checkpoints(con, workspace, run_id, checkpoints)
    counts["views"] = create_engagement_views(con)
    return counts


def _drop_vanished_days(con: duckdb.DuckDBPyConnection, pulled: PulledData) -> int:
    """Delete daily rows inside a re-pulled window that the API no longer returns (their counts are now 0).

    The daily endpoint omits days without activity, so a day whose counts dropped to zero would otherwise
    keep its old numbers and the daily sums would drift from the campaign totals.
    """
    returned: dict[str, set[str]] = {}
    for row in pulled.rows.get("campaign_daily_analytics") or []:
        returned.setdefault(str(row["campaign_id"]), set()).add(str(row["date"])[:10])
    deleted = 0
    for campaign_id, (start, end) in pulled.daily_windows.items():
        keep = sorted(returned.get(campaign_id, set()))
        counted = con.execute(
            "SELECT count(*) FROM instantly.campaign_daily_analytics WHERE campaign_id = ?"
            " AND date BETWEEN ? AND ? AND NOT list_contains(?::VARCHAR[], strftime(date, '%Y-%m-%d'))",
            [campaign_id, start, end, keep],
        ).fetchone()
        stale = counted[0] if counted else 0
        if stale:
            con.execute(
                "DELETE FROM instantly.campaign_daily_analytics WHERE campaign_id = ?"
                " AND date BETWEEN ? AND ? AND NOT list_contains(?::VARCHAR[], strftime(date, '%Y-%m-%d'))",
                [campaign_id, start, end, keep],
            )
            deleted += int(stale)
    return deleted


def _save_checkpoints(
    con: duckdb.DuckDBPyConnection, workspace: str, run_id: str, rows: Sequence[tuple[str, str, str]]
) -> None:
    for stream, scope, value in rows:
        row = {"workspace": workspace, "stream": stream, "scope": scope, "value": value, "run_id": run_id}
        upsert_row(
            con,
            "instantly.sync_checkpoints",
            ["workspace", "stream", "scope"],
            row | {"updated_at": datetime.now(UTC)},
        )
