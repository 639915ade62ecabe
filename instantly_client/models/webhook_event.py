"""Webhook delivery log (SPEC ``/webhook-events``): one record per delivery Instantly made or attempted."""

from __future__ import annotations

from typing import Any

from ._base import ReadModel

__all__ = ["WebhookEvent", "WebhookEventsSummary"]


class WebhookEvent(ReadModel):
    """SPEC ``WebhookEvent``: the payload sent (or attempted) to ``webhook_url``, and how it went.

    ``timestamp_created`` is ISO 8601; ``status_code`` and ``response_time_ms`` (milliseconds) are those of the
    receiver's answer, ``None`` when there was none (timeout, connection refused).
    """

    id: str | None = None
    timestamp_created: str | None = None
    timestamp_created_date: str | None = None
    organization_id: str | None = None
    payload: dict[str, Any] | None = None
    success: bool | None = None
    retry_count: float | None = None
    will_retry: bool | None = None
    webhook_url: str | None = None
    status_code: float | None = None
    error_message: str | None = None
    timestamp_next_retry: str | None = None
    retry_group_id: str | None = None
    retry_successful: bool | None = None
    lead_email: str | None = None
    response_time_ms: float | None = None


class WebhookEventsSummary(ReadModel):
    """SPEC ``GET /webhook-events/summary``: counts and rates (percent, 0-100) over a date window."""

    total_events: float | None = None
    successful_events: float | None = None
    failed_events: float | None = None
    success_rate: float | None = None
    failure_rate: float | None = None
