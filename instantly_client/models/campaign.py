"""Campaigns: the read model and the create/patch write models (SPEC ``POST /api/v2/campaigns``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from ._base import ReadModel, WriteModel
from .enums import CampaignStatus
from .timezones import CAMPAIGN_TIMEZONES, nearest_timezone

__all__ = [
    "AutoVariantSelect",
    "Campaign",
    "CampaignIn",
    "CampaignPatch",
    "CampaignSchedule",
    "LimitEmailsPerCompanyOverride",
    "ProviderRoutingRule",
    "Schedule",
    "ScheduleTiming",
    "CampaignSequence",
    "SequenceStep",
    "StepVariant",
]

_HHMM = r"^([01][0-9]|2[0-3]):([0-5][0-9])$"  # SPEC schedules[].timing.from/to pattern
_DAY_KEYS = ("0", "1", "2", "3", "4", "5", "6")  # SPEC schedules[].days: string digits, "0" = Sunday
DelayUnit = Literal["minutes", "hours", "days"]


class Campaign(ReadModel):
    """A campaign as returned by the API (SPEC ``components.schemas.Campaign``)."""

    id: str | None = None
    name: str | None = None
    status: int | None = None
    not_sending_status: int | None = None
    organization: str | None = None
    owned_by: str | None = None
    campaign_schedule: dict[str, Any] | None = None
    sequences: list[dict[str, Any]] | None = None
    email_list: list[str] | None = None
    email_tag_list: list[str] | None = None
    daily_limit: float | None = None
    daily_max_leads: int | None = None
    stop_on_reply: bool | None = None
    stop_on_auto_reply: bool | None = None
    link_tracking: bool | None = None
    open_tracking: bool | None = None
    is_evergreen: bool | None = None
    pl_value: float | None = None
    core_variables: dict[str, Any] | None = None
    custom_variables: dict[str, Any] | None = None
    timestamp_created: str | None = None
    timestamp_updated: str | None = None
    # Sending options (SPEC Campaign): typed loosely, since reads must never fail on a new shape.
    email_gap: float | None = None
    random_wait_max: float | None = None
    text_only: bool | None = None
    first_email_text_only: bool | None = None
    prioritize_new_leads: bool | None = None
    match_lead_esp: bool | None = None
    stop_for_company: bool | None = None
    insert_unsubscribe_header: bool | None = None
    allow_risky_contacts: bool | None = None
    disable_bounce_protect: bool | None = None
    limit_emails_per_company_override: Any = None
    auto_variant_select: Any = None
    provider_routing_rules: Any = None
    cc_list: list[str] | None = None
    bcc_list: list[str] | None = None
    ai_sdr_id: str | None = None

    @property
    def status_label(self) -> str | None:
        return CampaignStatus.label_for(self.status)


class ScheduleTiming(WriteModel):
    """Sending hours, ``HH:MM`` in the schedule's timezone. Use ``from_=`` in Python (``from`` in JSON)."""

    from_: str = Field(alias="from", pattern=_HHMM)
    to: str = Field(pattern=_HHMM)


class Schedule(WriteModel):
    """One sending schedule: ``days`` maps ``"0"`` (Sunday) .. ``"6"`` to on/off."""

    name: str
    timing: ScheduleTiming
    days: dict[str, bool]
    timezone: str

    @field_validator("days", mode="before")
    @classmethod
    def _days_are_digit_strings(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not value:
            raise ValueError('days must be a non-empty object like {"1": true, ..., "5": true}')
        days = {str(key): flag for key, flag in value.items()}
        unknown = sorted(set(days) - set(_DAY_KEYS))
        if unknown:
            raise ValueError(f'days keys must be "0" (Sunday) .. "6", not {unknown}')
        return days

    @field_validator("timezone")
    @classmethod
    def _timezone_in_enum(cls, value: str) -> str:
        if value not in CAMPAIGN_TIMEZONES:
            suggestion = nearest_timezone(value)
            hint = f"; use {suggestion!r} (same UTC offset)" if suggestion else ""
            raise ValueError(f"timezone {value!r} is not accepted by the API{hint}")
        return value


class CampaignSchedule(WriteModel):
    """``campaign_schedule``: at least one schedule, optional start/end dates (``YYYY-MM-DD``)."""

    schedules: list[Schedule] = Field(min_length=1)
    start_date: str | None = None
    end_date: str | None = None


class StepVariant(WriteModel):
    """One A/B variant of a step. ``body`` is HTML (use ``<br/>`` for line breaks)."""

    subject: str
    body: str
    v_disabled: bool | None = None


class SequenceStep(WriteModel):
    """One email step; ``delay`` is the wait before the NEXT step."""

    type: Literal["email"] = "email"
    delay: float
    delay_unit: DelayUnit | None = None
    pre_delay: float | None = None
    pre_delay_unit: DelayUnit | None = None
    variants: list[StepVariant]


class CampaignSequence(WriteModel):
    """A sequence. The API only uses the first sequence of ``sequences``."""

    steps: list[SequenceStep]


class AutoVariantSelect(WriteModel):
    trigger: Literal["reply_rate", "click_rate", "open_rate"]


class LimitEmailsPerCompanyOverride(WriteModel):
    mode: Literal["custom", "disabled"]
    daily_limit: float | None = None
    scope: Literal["per_campaign", "across_workspace"] | None = None


class ProviderRoutingRule(WriteModel):
    action: Literal["send", "do_not_send"]
    recipient_esp: list[Literal["all", "google", "outlook", "other"]]
    sender_esp: list[Literal["all", "google", "outlook", "other"]]


class _CampaignFields(WriteModel):
    pl_value: float | None = None
    is_evergreen: bool | None = None
    sequences: list[CampaignSequence] | None = None
    email_gap: float | None = None
    random_wait_max: float | None = None
    text_only: bool | None = None
    first_email_text_only: bool | None = None
    email_list: list[str] | None = None
    daily_limit: float | None = None
    stop_on_reply: bool | None = None
    email_tag_list: list[str] | None = None
    link_tracking: bool | None = None
    open_tracking: bool | None = None
    stop_on_auto_reply: bool | None = None
    daily_max_leads: int | None = Field(default=None, ge=0)
    prioritize_new_leads: bool | None = None
    auto_variant_select: AutoVariantSelect | None = None
    match_lead_esp: bool | None = None
    stop_for_company: bool | None = None
    insert_unsubscribe_header: bool | None = None
    allow_risky_contacts: bool | None = None
    disable_bounce_protect: bool | None = None
    limit_emails_per_company_override: LimitEmailsPerCompanyOverride | None = None
    cc_list: list[str] | None = None
    bcc_list: list[str] | None = None
    owned_by: str | None = None
    provider_routing_rules: list[ProviderRoutingRule] | None = None


class CampaignIn(_CampaignFields):
    """Body of ``POST /campaigns``: ``name`` and ``campaign_schedule`` are required. Creates a Draft."""

    name: str
    campaign_schedule: CampaignSchedule
    ai_sdr_id: str | None = None


class CampaignPatch(_CampaignFields):
    """Body of ``PATCH /campaigns/{id}``: any create field. ``email_list`` REPLACES the sender list."""

    name: str | None = None
    campaign_schedule: CampaignSchedule | None = None
