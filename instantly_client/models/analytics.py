"""Campaign analytics (SPEC ``GET /campaigns/analytics``, ``/overview``, ``/daily``, ``/steps``)."""

from __future__ import annotations

from ._base import ReadModel
from .enums import CampaignStatus

__all__ = [
    "CampaignAnalytics",
    "CampaignAnalyticsOverview",
    "CampaignDailyAnalytics",
    "CampaignStepAnalytics",
]


class _Counts(ReadModel):
    open_count: int | None = None
    open_count_unique: int | None = None
    open_count_unique_by_step: int | None = None
    reply_count: int | None = None
    reply_count_unique: int | None = None
    reply_count_unique_by_step: int | None = None
    reply_count_automatic: int | None = None
    reply_count_automatic_unique: int | None = None
    reply_count_automatic_unique_by_step: int | None = None
    link_click_count: int | None = None
    link_click_count_unique: int | None = None
    link_click_count_unique_by_step: int | None = None
    bounced_count: int | None = None
    unsubscribed_count: int | None = None
    completed_count: int | None = None
    emails_sent_count: int | None = None
    contacted_count: int | None = None
    new_leads_contacted_count: int | None = None
    total_opportunities: int | None = None
    total_opportunity_value: float | None = None


class CampaignAnalytics(_Counts):
    """One campaign's totals (one row of ``GET /campaigns/analytics``)."""

    campaign_id: str | None = None
    campaign_name: str | None = None
    campaign_status: int | None = None
    campaign_is_evergreen: bool | None = None
    leads_count: int | None = None

    @property
    def status_label(self) -> str | None:
        return CampaignStatus.label_for(self.campaign_status)


class CampaignAnalyticsOverview(_Counts):
    """Aggregate totals over the selected campaigns (``GET /campaigns/analytics/overview``)."""

    total_interested: int | None = None
    total_meeting_booked: int | None = None
    total_meeting_completed: int | None = None
    total_closed: int | None = None


class CampaignDailyAnalytics(ReadModel):
    """One day (``date``, ``YYYY-MM-DD``). Rows carry no campaign id: query one campaign at a time."""

    date: str | None = None
    sent: int | None = None
    contacted: int | None = None
    new_leads_contacted: int | None = None
    opened: int | None = None
    unique_opened: int | None = None
    replies: int | None = None
    unique_replies: int | None = None
    replies_automatic: int | None = None
    unique_replies_automatic: int | None = None
    clicks: int | None = None
    unique_clicks: int | None = None
    opportunities: int | None = None
    unique_opportunities: int | None = None


class CampaignStepAnalytics(ReadModel):
    """One step/variant. ``step`` and ``variant`` are strings or null; ``variant`` is 0-based (0 = A)."""

    step: str | None = None
    variant: str | None = None
    sent: int | None = None
    opened: int | None = None
    unique_opened: int | None = None
    replies: int | None = None
    unique_replies: int | None = None
    replies_automatic: int | None = None
    unique_replies_automatic: int | None = None
    clicks: int | None = None
    unique_clicks: int | None = None
    opportunities: int | None = None
    unique_opportunities: int | None = None
    meetings_booked: int | None = None
    won: int | None = None
