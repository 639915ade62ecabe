"""What the commands print about a campaign, read through a client (no Prefect: `campaigns list`, `show`,
`validate` and `connect-table` import only this; the tasks in `tasks/campaigns.py` call it too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from instantly_client.errors import NotFoundError
from instantly_client.models import Campaign, CampaignStatus
from ops_core.errors import did_you_mean

if TYPE_CHECKING:
    from instantly_client import InstantlyClient

__all__ = [
    "CampaignCheck",
    "CampaignSummary",
    "already",
    "find_campaign",
    "read_campaign_check",
    "summarize",
]

# The status `activate` and `pause` set (SPEC POST /campaigns/{id}/activate, /pause; Campaign.status).
STATUS_AFTER = {"activate": CampaignStatus.ACTIVE, "pause": CampaignStatus.PAUSED}


class CampaignSummary(BaseModel):
    """What the commands print about a campaign."""

    id: str
    name: str
    status: int | None = None
    status_label: str | None = None
    daily_limit: float | None = None
    timezone: str | None = None
    steps: int = 0


class CampaignCheck(CampaignSummary):
    """A campaign confirmed to exist, with its counts from `GET /campaigns/analytics`.

    `analytics` is False when that endpoint has no row for it (none until the campaign has sent, SK-AN):
    its counts are then 0 whatever leads it holds, and `counts_text` says so instead of printing them.
    """

    leads: int = 0
    contacted: int = 0
    replies: int = 0
    analytics: bool = False

    def counts_text(self) -> str:
        """`leads 1,200, contacted 300, replies 12`, or `no analytics yet: ...` before the campaign sends."""
        if not self.analytics:
            return "no analytics yet: Instantly counts its leads once it sends"
        return f"leads {self.leads:,}, contacted {self.contacted:,}, replies {self.replies:,}"


def summarize(campaign: Campaign) -> CampaignSummary:
    """The printable summary of an API campaign (pure)."""
    schedules = (campaign.campaign_schedule or {}).get("schedules") or [{}]
    steps = ((campaign.sequences or [{}])[0] or {}).get("steps") or []
    return CampaignSummary(
        id=str(campaign.id),
        name=campaign.name or "",
        status=campaign.status,
        status_label=CampaignStatus.label_for(campaign.status)
        or (None if campaign.status is None else "Unknown"),
        daily_limit=campaign.daily_limit,
        timezone=schedules[0].get("timezone"),
        steps=len(steps),
    )


def already(status: int | None, action: Literal["activate", "pause"]) -> bool:
    """True when a campaign with this status is already where `action` would put it: sending the request
    would change nothing, so the commands and tasks skip it (pure)."""
    return status is not None and status == STATUS_AFTER[action]


def find_campaign(client: InstantlyClient, id_or_name: str) -> Campaign:
    """The campaign with this id or exact name (`client.campaigns.find`); when none has the name, the error
    names the closest one the search found (`did you mean 'Q3 founders'?`): every command takes names exactly.

    Raises:
        NotFoundError / AmbiguousNameError: no campaign, or several, with this id or name.
    """
    try:
        return client.campaigns.find(id_or_name)
    except NotFoundError as exc:
        close = did_you_mean(id_or_name, exc.near_names)
        if not close:
            raise
        raise NotFoundError(
            f"{exc.message}{close}",
            hint="names are matched exactly, case included: pass the name as listed, or the campaign id",
            near_names=exc.near_names,
        ) from None


def read_campaign_check(client: InstantlyClient, id_or_name: str) -> CampaignCheck:
    """Confirm a campaign exists and read its counts (leads, contacted, replies).

    `GET /campaigns/analytics` returns `[]` until a campaign has sent (SK-AN): the counts are then 0 and
    `analytics` False.

    Raises:
        NotFoundError / AmbiguousNameError: no campaign, or several, with this id or name.
    """
    campaign = find_campaign(client, id_or_name)
    rows = client.analytics.campaigns(ids=[str(campaign.id)])
    row = next((r for r in rows if r.campaign_id == campaign.id), rows[0] if len(rows) == 1 else None)
    counts = {}
    if row is not None:
        counts = {
            "leads": row.leads_count or 0,
            "contacted": row.contacted_count or 0,
            "replies": row.reply_count_unique if row.reply_count_unique is not None else row.reply_count or 0,
            "analytics": True,
        }
    return CampaignCheck(**summarize(campaign).model_dump(), **counts)
