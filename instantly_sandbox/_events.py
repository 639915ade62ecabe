"""The one append-only event history, and how lead fields are derived from it.

Every engagement fact (sent, opened, clicked, replied, auto_reply, bounced, unsubscribed, interest, completed,
campaign_completed) is an `Event`. Lead counters and timestamps are folded in by `apply_event` as events are
appended; analytics, daily rows, steps and the /emails inbox are computed from the same list, so they agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ._util import iso

FIRST_FOR_LEAD = 1
FIRST_FOR_STEP = 2
POSITIVE_INTEREST = {1, 2, 3, 4}  # Interested, Meeting Booked, Meeting Completed, Won = an opportunity


@dataclass(slots=True)
class Event:
    id: str
    ts: int
    kind: str
    lead_id: str | None
    campaign_id: str | None
    step: int | None = None  # 0-based sequence step
    variant: int | None = None  # 0-based variant (0 = A)
    first: int = 0  # FIRST_FOR_LEAD | FIRST_FOR_STEP bits
    data: dict[str, Any] | None = None

    def to_list(self) -> list[Any]:
        return [
            self.id,
            self.ts,
            self.kind,
            self.lead_id,
            self.campaign_id,
            self.step,
            self.variant,
            self.first,
            self.data,
        ]

    @classmethod
    def from_list(cls, row: list[Any]) -> Event:
        return cls(*row)

    @property
    def is_first(self) -> bool:
        return bool(self.first & FIRST_FOR_LEAD)


def step_uuid(campaign_id: str, step: int) -> str:
    """A stable id per campaign step (for `last_step_id` / `status_summary.lastStep.stepID`)."""
    return str(uuid.uuid5(uuid.UUID(campaign_id), f"step-{step}"))


def first_flags(lead: dict[str, Any], ev: Event) -> int:
    """Mark the first event of its kind for the lead (webhook `is_first`, unique counts) and for its step."""
    seen: set[str] = lead.setdefault("_firsts", set())
    kind = ev.kind
    if kind == "interest":
        if (ev.data or {}).get("value") not in POSITIVE_INTEREST:
            return 0
        kind = "opportunity"
    flags = 0
    if kind not in seen:
        seen.add(kind)
        flags |= FIRST_FOR_LEAD
    key = f"{kind}:{ev.step}"
    if key not in seen:
        seen.add(key)
        flags |= FIRST_FOR_STEP
    return flags


def apply_event(lead: dict[str, Any], ev: Event) -> None:
    """Fold one event into the lead's API fields. The only place lead engagement fields change."""
    ts = iso(ev.ts)
    kind = ev.kind
    lead["timestamp_updated"] = ts
    if kind == "sent":
        step_id = step_uuid(ev.campaign_id, ev.step or 0) if ev.campaign_id else None
        lead["timestamp_last_contact"] = ts
        lead["timestamp_last_touch"] = ts
        lead["last_step_from"] = "campaign"
        lead["last_step_id"] = step_id
        lead["last_step_timestamp_executed"] = ts
        lead["last_contacted_from"] = (ev.data or {}).get("eaccount")
        lead["status_summary"] = {
            "lastStep": {"from": "campaign", "stepID": step_id, "timestamp_executed": ts},
            "domain_complete": False,
        }
    elif kind == "opened":
        lead["email_open_count"] += 1
        lead["timestamp_last_open"] = ts
        lead["email_opened_step"], lead["email_opened_variant"] = ev.step, ev.variant
    elif kind == "clicked":
        lead["email_click_count"] += 1
        lead["timestamp_last_click"] = ts
        lead["email_clicked_step"], lead["email_clicked_variant"] = ev.step, ev.variant
    elif kind == "replied":
        lead["email_reply_count"] += 1
        lead["timestamp_last_reply"] = ts
        lead["timestamp_last_touch"] = ts
        lead["email_replied_step"], lead["email_replied_variant"] = ev.step, ev.variant
    elif kind == "bounced":
        lead["status"] = -1
    elif kind == "unsubscribed":
        lead["status"] = -2
    elif kind == "completed":
        lead["status"] = 3
    elif kind == "interest":
        value = (ev.data or {}).get("value")
        if value is None:
            lead.pop("lt_interest_status", None)  # null resets to plain "Lead"
        else:
            lead["lt_interest_status"] = value
        lead["timestamp_last_interest_change"] = ts


# Webhook naming: payload `event_type` per DOC-WH, and the subscription `event_type` that receives it.
INTEREST_EVENT = {
    None: "lead_neutral",
    1: "lead_interested",
    -1: "lead_not_interested",
    2: "lead_meeting_booked",
    3: "lead_meeting_completed",
    4: "lead_closed",
    0: "lead_out_of_office",
    -2: "lead_wrong_person",
    -4: "lead_no_show",
}
PAYLOAD_EVENT = {
    "sent": "email_sent",
    "opened": "email_opened",
    "clicked": "link_clicked",  # quirk: subscribed as `email_link_clicked`, delivered as `link_clicked`
    "replied": "reply_received",
    "auto_reply": "auto_reply_received",  # quirk: not subscribable; only `all_events` receives it
    "bounced": "email_bounced",
    "unsubscribed": "lead_unsubscribed",
    "campaign_completed": "campaign_completed",
}
SUBSCRIPTION_FOR_PAYLOAD = {"link_clicked": "email_link_clicked"}


def payload_event_type(ev: Event) -> str | None:
    if ev.kind == "interest":
        return INTEREST_EVENT.get((ev.data or {}).get("value"))
    return PAYLOAD_EVENT.get(ev.kind)
