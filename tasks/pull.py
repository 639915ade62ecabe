"""Pull tasks: read campaigns, leads, analytics and replies from the API into warehouse rows.

No task here touches DuckDB: the flow reads the sync state first, pulls, then loads everything in one
transaction (`tasks/load.py`), so the warehouse's write lock is never held while the API is called.
Tasks have `retries=0`: request-level retries live in the client.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from instantly_client import (
    Campaign,
    CampaignAnalytics,
    CampaignDailyAnalytics,
    Email,
    InstantlyClient,
    Lead,
)
from tasks.campaign_summary import find_campaign
from tasks.pull_leads import dump, pull_lead_records
from tasks.pull_plan import (
    DEFAULT_LEADS_PER_CHAIN,
    api_today,
    chunk,
    daily_window,
    email_since,
    worker_count,
)
from tasks.pull_staging import Staging
from tasks.pull_transform import (
    analytics_row,
    campaign_row,
    daily_row,
    email_row,
    lead_row,
    parse_timestamp,
    unknown_fields,
)

EMAILS_STREAM = "emails"
CAMPAIGN_IDS_PER_REQUEST = 100  # keep the repeated ?ids= query string short


@dataclass
class PulledData:
    """Everything one sync pulled, as warehouse rows per `instantly.*` table."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    daily_ends: dict[str, date] = field(default_factory=dict)
    daily_windows: dict[str, tuple[date, date]] = field(default_factory=dict)
    email_watermark: datetime | None = None
    as_of: date | None = None


def _log() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("ops_instantly.sync")


def warn_unknown_fields(kind: str, records: Iterable[Mapping[str, Any]], model: type[Any]) -> set[str]:
    """Log one warning naming the fields the API sent that the client's model does not declare."""
    known = set(model.model_fields)
    extra: set[str] = set()
    for record in records:
        extra |= unknown_fields(record, known)
    if extra:
        _log().warning(
            "The API sent %s fields this version does not know: %s (kept in the raw data, not loaded)",
            kind,
            ", ".join(sorted(extra)),
        )
    return extra


@task(name="pull_campaigns", retries=0, cache_policy=NO_CACHE)
def pull_campaigns(client: InstantlyClient, wanted: Sequence[str]) -> list[dict[str, Any]]:
    """The campaigns to sync: those named (by id or name), or every campaign in the workspace.

    Raises:
        NotFoundError: a named campaign does not exist (one line, with a hint).
    """
    if wanted:
        found = {}
        for id_or_name in wanted:
            campaign = find_campaign(client, id_or_name)
            found[campaign.id] = dump(campaign)
        records = list(found.values())
    else:
        records = [dump(c) for c in client.campaigns.list()]
    warn_unknown_fields("campaign", records, Campaign)
    return records


@task(name="pull_leads", retries=0, cache_policy=NO_CACHE)
def pull_leads(
    client: InstantlyClient,
    campaign_ids: Sequence[str],
    known_ids: Mapping[str, Sequence[str]],
    staging: Staging,
    leads_per_chain: int = DEFAULT_LEADS_PER_CHAIN,
    synced_ids: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every lead of the campaigns (fanned out; see `tasks/pull_leads.py`), as instantly.leads rows.

    `known_ids` come from the push ledger, `synced_ids` from the previous sync (chain boundaries only).
    """
    pulled = pull_lead_records(
        client, campaign_ids, known_ids, staging, leads_per_chain=leads_per_chain, synced_ids=synced_ids
    )
    warn_unknown_fields("lead", pulled.records, Lead)
    stats = {
        "chains": pulled.chains,
        "chains_resumed": pulled.chains_resumed,
        "fetched_by_id": pulled.fetched_by_id,
        "workers": pulled.workers,
    }
    return [lead_row(r) for r in pulled.records], stats


@task(name="pull_campaign_analytics", retries=0, cache_policy=NO_CACHE)
def pull_campaign_analytics(
    client: InstantlyClient, campaign_ids: Sequence[str], as_of: date
) -> list[dict[str, Any]]:
    """Each campaign's all-time totals, as today's snapshot rows (an empty list until it has sent)."""
    records: list[dict[str, Any]] = []
    for ids in chunk(list(campaign_ids), CAMPAIGN_IDS_PER_REQUEST):
        records += [dump(a) for a in client.analytics.campaigns(ids=ids)]
    warn_unknown_fields("campaign analytics", records, CampaignAnalytics)
    wanted = set(campaign_ids)
    return [analytics_row(r, as_of) for r in records if r.get("campaign_id") in wanted]


@task(name="pull_daily_analytics", retries=0, cache_policy=NO_CACHE)
def pull_daily_analytics(
    client: InstantlyClient, windows: Mapping[str, tuple[date, date]]
) -> list[dict[str, Any]]:
    """One call per campaign over its window, in parallel; each row stamped with its campaign id.

    Explicit start and end dates are always sent. The end sent is the day after the window's last day:
    whether the API's `end_date` is inclusive is undocumented (notes Q1), and an extra empty day is
    harmless while a missing "today" is not.
    """

    def one(item: tuple[str, tuple[date, date]]) -> list[dict[str, Any]]:
        campaign_id, (start, end) = item
        days = client.analytics.daily(
            campaign_id=campaign_id, start_date=start, end_date=end + timedelta(days=1)
        )
        records = [dump(d) for d in days]
        warn_unknown_fields("daily analytics", records, CampaignDailyAnalytics)
        # Only days inside the window: a row outside it is not ours to overwrite.
        return [row for row in (daily_row(r, campaign_id) for r in records) if start <= row["date"] <= end]

    items = list(windows.items())
    if not items:
        return []
    workers = worker_count(client.rate_per_second, client.stats.latency_ewma, tasks=len(items))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="daily") as pool:
        return [row for rows in pool.map(one, items) for row in rows]


@task(name="pull_emails", retries=0, cache_policy=NO_CACHE)
def pull_emails(
    client: InstantlyClient, staging: Staging, since: datetime | None
) -> tuple[list[dict[str, Any]], datetime | None]:
    """Received replies created since `since` (oldest first), and the new watermark.

    GET /emails allows 20 requests a minute (the client paces it), so this pull is incremental: the
    watermark is the newest `timestamp_created` loaded, and the cursor is checkpointed per page.
    """
    chain = "received"
    checkpoint = staging.checkpoint(EMAILS_STREAM, chain)
    if not checkpoint.done and not (checkpoint.pages and checkpoint.cursor is None):
        cursor = checkpoint.cursor if checkpoint.pages else None
        pages = client.emails.pages(
            email_type="received",
            sort_order="asc",
            min_timestamp_created=_iso(since) if since else None,
            starting_after=cursor,
            limit=100,
        )
        for page in pages:
            staging.save_page(EMAILS_STREAM, chain, [dump(e) for e in page.items], page.next_starting_after)
    staging.finish(EMAILS_STREAM, chain)
    records = list(staging.items(EMAILS_STREAM))
    warn_unknown_fields("email", records, Email)
    rows = [email_row(r) for r in records]
    newest = max((r["timestamp_created"] for r in rows if r["timestamp_created"]), default=None)
    return rows, newest


def campaign_rows(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """instantly.campaigns rows from campaign records."""
    return [campaign_row(r) for r in records]


def plan_daily_windows(
    campaigns: Iterable[Mapping[str, Any]],
    last_ends: Mapping[str, date],
    *,
    as_of: date,
    lookback_days: int,
    since: date | None,
) -> dict[str, tuple[date, date]]:
    """The daily-analytics window of each campaign (backfill on the first sync, look-back after)."""
    windows = {}
    for record in campaigns:
        created = parse_timestamp(record.get("timestamp_created"))
        windows[str(record["id"])] = daily_window(
            created=created.astimezone(UTC).date() if created else None,
            last_end=last_ends.get(str(record["id"])),
            as_of=as_of,
            lookback_days=lookback_days,
            since=since,
        )
    return windows


def sync_as_of(campaigns: Iterable[Mapping[str, Any]], leads: Iterable[Mapping[str, Any]]) -> date:
    """Today, as the API sees it (see `api_today`): the snapshot date and the windows' last day."""
    observed: list[datetime | None] = [parse_timestamp(c.get("timestamp_updated")) for c in campaigns]
    for lead in leads:
        observed += [lead.get("timestamp_updated"), lead.get("timestamp_last_contact")]
    return api_today(observed, datetime.now(UTC))


def since_for_emails(watermark: datetime | None, since: date | None) -> datetime | None:
    """Where the emails pull starts (the watermark less an overlap, or `--since`)."""
    return email_since(watermark, since)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def assemble(
    *,
    campaigns: Sequence[Mapping[str, Any]],
    leads: list[dict[str, Any]],
    analytics: list[dict[str, Any]],
    daily: list[dict[str, Any]],
    steps: list[dict[str, Any]] | None = None,
    windows: Mapping[str, tuple[date, date]],
    emails: list[dict[str, Any]],
    watermarks: tuple[datetime | None, datetime | None],
    as_of: date,
) -> PulledData:
    """Everything a sync pulled, ready for `load_sync` (the email watermark never moves back)."""
    known = [w for w in watermarks if w is not None]
    return PulledData(
        rows={
            "campaigns": campaign_rows(campaigns),
            "leads": leads,
            "campaign_analytics": analytics,
            "campaign_daily_analytics": daily,
            "campaign_step_analytics": steps or [],
            "emails": emails,
        },
        daily_ends={cid: end for cid, (_, end) in windows.items()},
        daily_windows=dict(windows),
        email_watermark=max(known) if known else None,
        as_of=as_of,
    )
