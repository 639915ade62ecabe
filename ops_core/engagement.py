"""Engagement rules (pure): a lead's email status, and which of several statuses is "most advanced".

One source row can be a lead in several campaigns. The join reports one status per row: the most advanced
of its leads' statuses. These ranks are the single source of truth; `warehouse/views.py` turns them into
SQL `CASE` expressions, so Python and the views cannot disagree. They sit below both `tasks/` and `warehouse/`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The engagement columns, in order: the views add them to every source row (`ops.<table>_engagement`,
# warehouse/views.py), `sync --write-back` adds them to a Postgres source table and keeps them current
# (tasks/writeback.py), and so the push leaves them out of the leads it sends (tasks/mapping.py): they change
# with every sync. Here, below all three, so each reads the one list.
ENGAGEMENT_COLUMNS: tuple[str, ...] = (
    "instantly_status",
    "instantly_email_status",
    "instantly_last_contacted",
    "instantly_reply_count",
    "instantly_open_count",
    "instantly_click_count",
    "instantly_interest_status",
    "instantly_lead_id",
    "instantly_campaigns",
)

# The columns `ops.<table>_engagement_by_campaign` adds besides ENGAGEMENT_COLUMNS (one row per campaign). No
# write-back writes these, so a source column of one of these names is never ours (warehouse/names.py).
BY_CAMPAIGN_COLUMNS: tuple[str, ...] = ("instantly_campaign_id", "instantly_campaign_name", "instantly_link")

# The email status of one lead, least to most advanced. Bounced and unsubscribed outrank a reply: they are
# terminal (the address is dead, or the person must not be emailed again), which is what a CRM must know.
EMAIL_STATUSES: tuple[str, ...] = (
    "not_contacted",
    "sent",
    "opened",
    "clicked",
    "replied",
    "bounced",
    "unsubscribed",
)
EMAIL_STATUS_RANK: dict[str, int] = {status: rank for rank, status in enumerate(EMAIL_STATUSES)}

LEAD_STATUS_BOUNCED = -1  # SPEC Lead.status
LEAD_STATUS_UNSUBSCRIBED = -2  # SPEC Lead.status

# Lead.status (SPEC: 1 Active, 2 Paused, 3 Completed, -1 Bounced, -2 Unsubscribed, -3 Skipped), ranked along
# the lead's life: still running, finished, then the terminal outcomes.
LEAD_STATUS_RANK: dict[int, int] = {1: 1, 2: 2, 3: 3, -3: 4, -1: 5, -2: 6}

# Lead.lt_interest_status ranked along the sales funnel (SPEC: 0 Out of Office, 1 Interested, 2 Meeting
# Booked, 3 Meeting Completed, 4 Won, -1 Not Interested, -2 Wrong Person, -3 Lost, -4 No Show). NULL is a
# plain "Lead" (rank 0); custom labels (other values) rank just above it.
INTEREST_STATUS_RANK: dict[int, int] = {0: 2, -2: 3, -1: 4, 1: 5, -3: 6, 2: 7, -4: 8, 3: 9, 4: 10}
INTEREST_NULL_RANK = 0
INTEREST_CUSTOM_RANK = 1

# Interest events (DOC-WH payload names) -> Lead.lt_interest_status (SPEC Lead; None = plain "Lead").
INTEREST_VALUE: dict[str, int | None] = {
    "lead_neutral": None,
    "lead_interested": 1,
    "lead_not_interested": -1,
    "lead_meeting_booked": 2,
    "lead_meeting_completed": 3,
    "lead_closed": 4,
    "lead_out_of_office": 0,
    "lead_wrong_person": -2,
    "lead_no_show": -4,
}


def email_status(lead: Mapping[str, Any]) -> str:
    """Derive one lead's email status from its status, counts and timestamps (pure).

    Args:
        lead: a mapping with the Lead fields `status`, `email_*_count` and `timestamp_last_*`.

    Returns:
        One of `EMAIL_STATUSES`: the most advanced that the lead's data supports.
    """
    status = lead.get("status")
    if status == LEAD_STATUS_UNSUBSCRIBED:
        return "unsubscribed"
    if status == LEAD_STATUS_BOUNCED:
        return "bounced"
    if _positive(lead.get("email_reply_count")) or lead.get("timestamp_last_reply"):
        return "replied"
    if _positive(lead.get("email_click_count")) or lead.get("timestamp_last_click"):
        return "clicked"
    if _positive(lead.get("email_open_count")) or lead.get("timestamp_last_open"):
        return "opened"
    if lead.get("timestamp_last_contact"):
        return "sent"
    return "not_contacted"


def most_advanced_email_status(statuses: Iterable[str | None]) -> str:
    """The most advanced of several email statuses; `not_contacted` when there are none."""
    known = [s for s in statuses if s in EMAIL_STATUS_RANK]
    return max(known, key=EMAIL_STATUS_RANK.__getitem__, default="not_contacted")


def lead_status_rank(status: int | None) -> int:
    """Rank of a Lead.status code (0 for none or an unknown code)."""
    return 0 if status is None else LEAD_STATUS_RANK.get(status, 0)


def interest_status_rank(value: int | None) -> int:
    """Rank of a Lead.lt_interest_status value along the funnel."""
    if value is None:
        return INTEREST_NULL_RANK
    return INTEREST_STATUS_RANK.get(value, INTEREST_CUSTOM_RANK)


def most_advanced_lead_status(statuses: Iterable[int | None]) -> int | None:
    """The most advanced Lead.status code, or None when there is none."""
    known = [s for s in statuses if s is not None]
    return max(known, key=lead_status_rank, default=None)


def most_advanced_interest_status(values: Iterable[int | None]) -> int | None:
    """The most advanced interest status along the funnel (None = plain "Lead")."""
    return max(values, key=interest_status_rank, default=None)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and value > 0
