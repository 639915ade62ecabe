"""``client.analytics``: SPEC ``GET /api/v2/campaigns/analytics*`` (not paginated).

Date arguments accept ``date``/``datetime`` or strings (``YYYY-MM-DD`` is UTC midnight). Parameter
names differ by endpoint (notes §2): ``id``/``ids`` for totals and overview, ``campaign_id`` for daily
and steps.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..models.analytics import (
    CampaignAnalytics,
    CampaignAnalyticsOverview,
    CampaignDailyAnalytics,
    CampaignStepAnalytics,
)
from ._base import DateLike, Resource, date_param

__all__ = ["Analytics"]


class Analytics(Resource):
    """Campaign analytics: per-campaign totals, overview, daily series and per-step numbers."""

    def campaigns(
        self,
        *,
        ids: Sequence[str] | None = None,
        id: str | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
        exclude_total_leads_count: bool | None = None,
    ) -> list[CampaignAnalytics]:
        """``GET /campaigns/analytics``: one row per campaign (all campaigns when no id is given).

        Args:
            ids: campaign ids (sent as repeated ``ids`` keys).
            id: a single campaign id.
            start_date: window start.
            end_date: window end.
            exclude_total_leads_count: skip ``leads_count`` (much faster for many campaigns).
        """
        params = {
            "id": id,
            "ids": list(ids) if ids is not None else None,
            "start_date": date_param(start_date),
            "end_date": date_param(end_date),
            "exclude_total_leads_count": exclude_total_leads_count,
        }
        return self._parse_list(
            self._request("GET", "/campaigns/analytics", params=params), CampaignAnalytics
        )

    def overview(
        self,
        *,
        ids: Sequence[str] | None = None,
        id: str | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
        campaign_status: int | None = None,
        expand_crm_events: bool | None = None,
    ) -> CampaignAnalyticsOverview:
        """``GET /campaigns/analytics/overview``: totals over the selected campaigns."""
        params = {
            "id": id,
            "ids": list(ids) if ids is not None else None,
            "start_date": date_param(start_date),
            "end_date": date_param(end_date),
            "campaign_status": campaign_status,
            "expand_crm_events": expand_crm_events,
        }
        payload = self._request("GET", "/campaigns/analytics/overview", params=params)
        return CampaignAnalyticsOverview.model_validate(payload or {})

    def daily(
        self,
        *,
        campaign_id: str | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
        campaign_status: int | None = None,
    ) -> list[CampaignDailyAnalytics]:
        """``GET /campaigns/analytics/daily``: one row per day (rows carry no campaign id)."""
        params = {
            "campaign_id": campaign_id,
            "start_date": date_param(start_date),
            "end_date": date_param(end_date),
            "campaign_status": campaign_status,
        }
        payload = self._request("GET", "/campaigns/analytics/daily", params=params)
        return self._parse_list(payload, CampaignDailyAnalytics)

    def steps(
        self,
        *,
        campaign_id: str | None = None,
        start_date: DateLike | None = None,
        end_date: DateLike | None = None,
        include_opportunities_count: bool | None = None,
    ) -> list[CampaignStepAnalytics]:
        """``GET /campaigns/analytics/steps``: one row per step and variant (``variant`` 0-based)."""
        params = {
            "campaign_id": campaign_id,
            "start_date": date_param(start_date),
            "end_date": date_param(end_date),
            "include_opportunities_count": include_opportunities_count,
        }
        payload = self._request("GET", "/campaigns/analytics/steps", params=params)
        return self._parse_list(payload, CampaignStepAnalytics)
