"""Pydantic models: tolerant read models (extra fields kept) and strict write models (extra forbidden)."""

from .account import Account
from .analytics import (
    CampaignAnalytics,
    CampaignAnalyticsOverview,
    CampaignDailyAnalytics,
    CampaignStepAnalytics,
)
from .campaign import (
    AutoVariantSelect,
    Campaign,
    CampaignIn,
    CampaignPatch,
    CampaignSchedule,
    CampaignSequence,
    LimitEmailsPerCompanyOverride,
    ProviderRoutingRule,
    Schedule,
    ScheduleTiming,
    SequenceStep,
    StepVariant,
)
from .email import Email
from .enums import CampaignStatus, InterestStatus, LeadStatus
from .job import JOB_TERMINAL_STATUSES, BackgroundJob
from .lead import (
    BulkAddResult,
    BulkAddSummary,
    CreatedLead,
    CreatedLeadRef,
    CustomValue,
    Lead,
    LeadIn,
    LeadPatch,
)
from .timezones import CAMPAIGN_TIMEZONES, nearest_timezone
from .webhook import (
    WEBHOOK_EVENT_TYPES,
    Webhook,
    WebhookEventType,
    WebhookIn,
    WebhookPatch,
    WebhookTestResult,
)
from .webhook_event import WebhookEvent, WebhookEventsSummary
from .workspace import Workspace

__all__ = [
    "CAMPAIGN_TIMEZONES",
    "JOB_TERMINAL_STATUSES",
    "WEBHOOK_EVENT_TYPES",
    "Account",
    "AutoVariantSelect",
    "BackgroundJob",
    "BulkAddResult",
    "BulkAddSummary",
    "Campaign",
    "CampaignAnalytics",
    "CampaignAnalyticsOverview",
    "CampaignDailyAnalytics",
    "CampaignIn",
    "CampaignPatch",
    "CampaignSchedule",
    "CampaignSequence",
    "CampaignStatus",
    "CampaignStepAnalytics",
    "CreatedLead",
    "CreatedLeadRef",
    "CustomValue",
    "Email",
    "InterestStatus",
    "Lead",
    "LeadIn",
    "LeadPatch",
    "LeadStatus",
    "LimitEmailsPerCompanyOverride",
    "ProviderRoutingRule",
    "Schedule",
    "ScheduleTiming",
    "SequenceStep",
    "StepVariant",
    "Webhook",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookEventsSummary",
    "WebhookIn",
    "WebhookPatch",
    "WebhookTestResult",
    "Workspace",
    "nearest_timezone",
]
