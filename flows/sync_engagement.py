"""sync_engagement: pull campaigns, leads, analytics and replies into DuckDB; join them onto source tables.

Example:
    ```python
    from blocks import InstantlyCredentials
    from flows.sync_engagement import sync_engagement

    sync_engagement(credentials=InstantlyCredentials.load("default"), campaigns=["Q3 founders"])
    ```
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Annotated

from prefect import flow, get_run_logger, runtime
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from blocks import (
    InstantlyCredentials,
    PostgresSource,
    load_postgres_source,
    resolve_credentials,
    resolve_warehouse,
)
from flows._parameters import TextWithoutPassword
from ops_core.bounds import MAX_LOOKBACK_DAYS
from ops_core.parsing import parse_day
from ops_core.text import counted
from tasks.load import load_sync, read_sync_state
from tasks.pull import (
    assemble,
    plan_daily_windows,
    pull_campaign_analytics,
    pull_campaigns,
    pull_daily_analytics,
    pull_emails,
    pull_leads,
    since_for_emails,
    sync_as_of,
)
from tasks.pull_plan import DEFAULT_LEADS_PER_CHAIN, DEFAULT_LOOKBACK_DAYS
from tasks.pull_staging import Staging
from tasks.pull_steps import pull_step_analytics
from tasks.sync_summary import SyncResult, publish_summary, pull_summary, record_failure, summary_lines
from tasks.webhook_events import catch_up_webhooks
from tasks.writeback import WriteBackTarget, write_back_engagement
from warehouse.db import DEFAULT_LOCK_TIMEOUT

__all__ = ["FLOW_NAME", "SyncResult", "sync_engagement"]

FLOW_NAME = "sync-engagement"


@flow(name=FLOW_NAME, log_prints=True)
def sync_engagement(
    credentials: InstantlyCredentials | SkipJsonSchema[None] = None,
    campaigns: Sequence[str] = (),
    lookback_days: Annotated[int, Field(ge=0, le=MAX_LOOKBACK_DAYS)] = DEFAULT_LOOKBACK_DAYS,
    since: str = "",
    write_back_to: str = "",
    write_back_tables: Sequence[str] = (),
    warehouse: TextWithoutPassword = "",
    lock_timeout_seconds: Annotated[float, Field(gt=0)] = DEFAULT_LOCK_TIMEOUT,
    leads_per_chain: Annotated[int, Field(ge=100)] = DEFAULT_LEADS_PER_CHAIN,
    write_back_postgres: SkipJsonSchema[PostgresSource | None] = None,
) -> SyncResult:
    """Sync Instantly engagement into DuckDB: campaigns, leads, analytics (per step too), replies, the views.

    The API is called with no warehouse connection open; everything pulled is loaded in one transaction,
    so a failure leaves the warehouse as it was, and an interrupted run resumes from its staged pages.

    Args:
        credentials: The Instantly workspace to sync. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
        campaigns: The campaigns to sync, by name or id. Empty: every campaign.
        lookback_days: How many recent days of daily analytics to pull again (the numbers keep moving).
        since: Pull daily analytics and replies again from this day on (a backfill), as YYYY-MM-DD.
        write_back_to: The name of a saved Postgres Source block: write the engagement columns (status,
            opens, replies...) back to the tables pushed from that database. Empty: no write-back.
        write_back_tables: Which of those Postgres tables to write back. Empty: every table pushed from it.
        warehouse: The warehouse file or DuckLake URL, without a password (PGPASSWORD or ~/.pgpass on the worker).
            Empty: OPS_WAREHOUSE on the worker, or ./warehouse.duckdb.
        lock_timeout_seconds: Seconds to wait for the warehouse while other runs write to it, before failing.
        leads_per_chain: Leads per parallel page chain when listing a campaign's leads.
        write_back_postgres: A write-back connection that is not saved as a block (in-process callers such
            as the CLI's `--source-url`). Not part of the UI's form or a deployment.

    Returns:
        The run id and per-table counts.
    """
    started = time.monotonic()
    creds = resolve_credentials(credentials)
    store = resolve_warehouse(None, warehouse or None)
    store.lock_timeout = lock_timeout_seconds
    since_day = parse_day(since, "since")
    target = load_postgres_source(write_back_to) if write_back_to else write_back_postgres
    write_back = WriteBackTarget.from_block(target, write_back_tables) if target is not None else None
    run_id = str(runtime.flow_run.id or uuid.uuid4())
    workspace = creds.workspace_key
    store.start_run(run_id, FLOW_NAME)
    try:
        state = read_sync_state(store, workspace)
        staging = Staging.for_warehouse(store.state_dir, workspace)
        resumed_from = staging.open(run_id)
        with creds.get_client() as client:
            found = pull_campaigns(client, list(campaigns))
            campaign_ids = [str(c["id"]) for c in found]
            leads, lead_stats = pull_leads(
                client, campaign_ids, state.known_ids, staging, leads_per_chain, synced_ids=state.synced_ids
            )
            as_of = sync_as_of(found, leads)
            windows = plan_daily_windows(
                found,
                state.daily_last_end,
                as_of=as_of,
                lookback_days=lookback_days,
                since=since_day,
            )
            analytics = pull_campaign_analytics(client, campaign_ids, as_of)
            daily = pull_daily_analytics(client, windows)
            steps = pull_step_analytics(client, campaign_ids)
            emails, newest_email = pull_emails(
                client, staging, since_for_emails(state.email_watermark, since_day)
            )
            api_stats = client.stats
        pulled = assemble(
            campaigns=found,
            leads=leads,
            analytics=analytics,
            daily=daily,
            steps=steps,
            windows=windows,
            emails=emails,
            watermarks=(state.email_watermark, newest_email),
            as_of=as_of,
        )
        counts = load_sync(store, pulled, workspace=workspace, run_id=run_id)
        staging.clear()
        if write_back is not None:
            counts["write_back"] = write_back_engagement(store, write_back)
        counts["pull"] = pull_summary(lead_stats, resumed_from, api_stats)
        counts["webhook_catch_up"] = catch_up_webhooks(creds, store, run_id=run_id)
    except BaseException as exc:
        record_failure(store, run_id, exc)
        raise
    store.finish_run(run_id, "completed", counts)
    result = SyncResult(run_id=run_id, as_of=as_of, counts=counts)
    publish_summary(result)
    # The run's Logs tab says what the CLI prints (the Artifacts tab has the tables).
    logger = get_run_logger()
    disabled = set((counts.get("webhook_catch_up") or {}).get("disabled") or [])
    for line in summary_lines(counts):
        (logger.warning if line in disabled else logger.info)(line)
    logger.info(
        "synced %s as of %s in %.1f s",
        counted(len(found), "campaign"),
        as_of.isoformat(),
        time.monotonic() - started,
    )
    return result
