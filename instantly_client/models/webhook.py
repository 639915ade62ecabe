"""Webhook subscriptions (SPEC ``/webhooks``)."""

from __future__ import annotations

from pydantic import Field, field_validator

from ._base import ReadModel, WriteModel

__all__ = [
    "WEBHOOK_EVENT_TYPES",
    "Webhook",
    "WebhookEventType",
    "WebhookIn",
    "WebhookPatch",
    "WebhookTestResult",
]

# SPEC POST /api/v2/webhooks requestBody event_type enum. ``None`` subscribes to a custom label
# (set custom_interest_value). Payloads name some events differently (email_link_clicked arrives as
# link_clicked; notes C4).
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (
    "all_events",
    "email_sent",
    "email_opened",
    "email_link_clicked",
    "reply_received",
    "email_bounced",
    "lead_unsubscribed",
    "campaign_completed",
    "account_error",
    "lead_neutral",
    "lead_interested",
    "lead_not_interested",
    "lead_meeting_booked",
    "lead_meeting_completed",
    "lead_closed",
    "lead_out_of_office",
    "lead_wrong_person",
    "lead_no_show",
    "supersearch_enrichment_completed",
)


class Webhook(ReadModel):
    """A webhook subscription. ``status`` 1 = active, -1 = disabled after delivery errors."""

    id: str | None = None
    organization: str | None = None
    campaign: str | None = None
    name: str | None = None
    target_hook_url: str | None = None
    event_type: str | None = None
    custom_interest_value: float | None = None
    headers: dict[str, str] | None = None
    status: int | None = None
    timestamp_created: str | None = None
    timestamp_error: str | None = None


class WebhookIn(WriteModel):
    """Body of ``POST /webhooks``. There is no signature: authenticate deliveries with ``headers``."""

    target_hook_url: str = Field(pattern=r"^https?://")
    event_type: str | None = None
    campaign: str | None = None
    name: str | None = None
    custom_interest_value: float | None = None
    headers: dict[str, str] | None = None

    @field_validator("event_type")
    @classmethod
    def _known_event_type(cls, value: str | None) -> str | None:
        if value is not None and value not in WEBHOOK_EVENT_TYPES:
            raise ValueError(f"event_type {value!r} is not one of {', '.join(WEBHOOK_EVENT_TYPES)}")
        return value


class WebhookPatch(WriteModel):
    """Body of ``PATCH /webhooks/{id}``: only the fields to change (SPEC ``minProperties: 1``)."""

    target_hook_url: str | None = Field(None, pattern=r"^https?://")
    event_type: str | None = None
    campaign: str | None = None
    name: str | None = None
    custom_interest_value: float | None = None
    headers: dict[str, str] | None = None

    @field_validator("event_type")
    @classmethod
    def _known_event_type(cls, value: str | None) -> str | None:
        return WebhookIn._known_event_type(value)


class WebhookTestResult(ReadModel):
    """Result of ``POST /webhooks/{id}/test``."""

    success: bool | None = None
    message: str | None = None
    response_time_ms: float | None = None
    status_code: int | None = None
    error: str | None = None


class WebhookEventType(ReadModel):
    """One entry of ``GET /webhooks/event-types`` (includes custom labels)."""

    id: str | None = None
    label: str | None = None
    type: str | None = None
