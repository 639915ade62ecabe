"""Pull per step and A/B variant analytics (SPEC GET /campaigns/analytics/steps) into warehouse rows.

Like the other pull tasks it never touches DuckDB; `load_sync` merges the rows on
(campaign_id, step, variant). Request-level retries live in the client (`retries=0` here).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from instantly_client import InstantlyClient
from instantly_client.models import CampaignStepAnalytics
from tasks.pull import warn_unknown_fields
from tasks.pull_leads import dump
from tasks.pull_plan import worker_count
from tasks.pull_transform import step_row

__all__ = ["pull_step_analytics"]


@task(name="pull_step_analytics", retries=0, cache_policy=NO_CACHE)
def pull_step_analytics(client: InstantlyClient, campaign_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Each campaign's all-time counts per step and variant, one call per campaign, in parallel.

    The API's rows carry no campaign id (one call per campaign, each row stamped); no dates are sent, so
    the counts are all-time and a re-sync overwrites them. `include_opportunities_count=true` adds
    opportunities, meetings booked and won per step (SPEC).

    Returns:
        instantly.campaign_step_analytics rows (`tasks.pull_transform.step_row`); none for a campaign that
        has not sent.
    """

    def one(campaign_id: str) -> list[dict[str, Any]]:
        found = client.analytics.steps(campaign_id=campaign_id, include_opportunities_count=True)
        records = [dump(r) for r in found]
        warn_unknown_fields("step analytics", records, CampaignStepAnalytics)
        return [step_row(r, campaign_id) for r in records]

    ids = list(dict.fromkeys(campaign_ids))
    if not ids:
        return []
    workers = worker_count(client.rate_per_second, client.stats.latency_ewma, tasks=len(ids))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="steps") as pool:
        return [row for rows in pool.map(one, ids) for row in rows]
