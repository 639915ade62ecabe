"""sync_engagement: pull campaigns, leads, analytics and replies into DuckDB; join them onto source tables.

Example:
    ```python
    from flows.sync_engagement import SyncParams, sync_engagement

    sync_engagement(SyncParams(campaigns=["Q3 founders"], lookback_days=14))
    ```
"""

from __future__ import annotations

import uuid
from datetime import date

from prefect import flow, runtime
from pydantic import BaseModel, Field, SecretStr

from blocks import resolve_credentials, resolve_warehouse
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
from tasks.sync_summary import SyncResult, publish_summary, pull_summary, record_failure
from tasks.webhook_events import catch_up_webhooks
from tasks.writeback import WriteBackTarget, write_back_engagement
from warehouse.db import DEFAULT_LOCK_TIMEOUT

__all__ = ["FLOW_NAME", "SyncParams", "SyncResult", "sync_engagement"]

FLOW_NAME = "sync-engagement"


class SyncParams(BaseModel):
    """Parameters of a sync (the Prefect UI shows them as a form)."""

    campaigns: list[str] = Field(
        default_factory=list, description="Campaign ids or names to sync (empty: every campaign)."
    )
    lookback_days: int = Field(
        DEFAULT_LOOKBACK_DAYS, ge=0, le=366, description="Days of daily analytics re-pulled on each sync."
    )
    since: date | None = Field(
        None, description="Re-pull daily analytics and replies from this date (a backfill)."
    )
    credentials_block: str | None = Field(
        None, description="InstantlyCredentials block name (default: INSTANTLY_API_KEY from the environment)."
    )
    warehouse_block: str | None = Field(None, description="DuckDBWarehouse block name.")
    warehouse_path: str | None = Field(None, description="Warehouse file path (wins over the block).")
    lock_timeout_seconds: float = Field(
        DEFAULT_LOCK_TIMEOUT,
        gt=0,
        description="Seconds to wait for the warehouse while other runs write to it, before failing.",
    )
    write_back: bool = Field(False, description="Also write the engagement columns to the Postgres source.")
    source_url: SecretStr | None = Field(
        None, description="Postgres URL for write-back (prefer source_block: a URL parameter is stored)."
    )
    source_block: str | None = Field(None, description="PostgresSource block name for write-back.")
    write_back_tables: list[str] = Field(
        default_factory=list,
        description="Source tables to write back (default: every table extracted from that Postgres).",
    )
    leads_per_chain: int = Field(
        DEFAULT_LEADS_PER_CHAIN, ge=100, description="Leads per parallel cursor chain in the leads scan."
    )


@flow(name=FLOW_NAME, log_prints=True)
def sync_engagement(params: SyncParams = SyncParams()) -> SyncResult:
    """Sync Instantly engagement into DuckDB: campaigns, leads, analytics (per step too), replies, the views.

    The API is called with no warehouse connection open; everything pulled is loaded in one transaction,
    so a failure leaves the warehouse as it was, and an interrupted run resumes from its staged pages.

    Args:
        params: what to sync and where (defaults: every campaign, environment credentials).

    Returns:
        The run id and per-table counts.
    """
    credentials = resolve_credentials(params.credentials_block)
    warehouse = resolve_warehouse(params.warehouse_block, params.warehouse_path)
    warehouse.lock_timeout = params.lock_timeout_seconds
    write_back = (
        WriteBackTarget.resolve(params.source_url, params.source_block, params.write_back_tables)
        if params.write_back
        else None
    )
    run_id = str(runtime.flow_run.id or uuid.uuid4())
    workspace = credentials.workspace_key
    warehouse.start_run(run_id, FLOW_NAME)
    try:
        state = read_sync_state(warehouse, workspace)
        staging = Staging.for_warehouse(warehouse.path, workspace)
        resumed_from = staging.open(run_id)
        with credentials.get_client() as client:
            campaigns = pull_campaigns(client, params.campaigns)
            campaign_ids = [str(c["id"]) for c in campaigns]
            leads, lead_stats = pull_leads(
                client, campaign_ids, state.known_ids, staging, params.leads_per_chain
            )
            as_of = sync_as_of(campaigns, leads)
            windows = plan_daily_windows(
                campaigns,
                state.daily_last_end,
                as_of=as_of,
                lookback_days=params.lookback_days,
                since=params.since,
            )
            analytics = pull_campaign_analytics(client, campaign_ids, as_of)
            daily = pull_daily_analytics(client, windows)
            steps = pull_step_analytics(client, campaign_ids)
            emails, newest_email = pull_emails(
                client, staging, since_for_emails(state.email_watermark, params.since)
            )
            api_stats = client.stats
        pulled = assemble(
            campaigns=campaigns,
            leads=leads,
            analytics=analytics,
            daily=daily,
            steps=steps,
            windows=windows,
            emails=emails,
            watermarks=(state.email_watermark, newest_email),
            as_of=as_of,
        )
        counts = load_sync(warehouse, pulled, workspace=workspace, run_id=run_id)
        staging.clear()
        if write_back is not None:
            counts["write_back"] = write_back_engagement(warehouse, write_back)
        counts["pull"] = pull_summary(lead_stats, resumed_from, api_stats)
        counts["webhook_catch_up"] = catch_up_webhooks(credentials, warehouse, run_id=run_id)
    except BaseException as exc:
        record_failure(warehouse, run_id, exc)
        raise
    warehouse.finish_run(run_id, "completed", counts)
    result = SyncResult(run_id=run_id, as_of=as_of, counts=counts)
    publish_summary(result)
    return result
