"""Emails: sent and received messages (SPEC ``GET /emails``)."""

from __future__ import annotations

from typing import Any

from ._base import ReadModel

__all__ = ["Email"]


class Email(ReadModel):
    """One email in the unibox. ``ue_type``: 1 sent from campaign, 2 received, 3 sent, 4 scheduled."""

    id: str | None = None
    timestamp_created: str | None = None
    timestamp_email: str | None = None
    message_id: str | None = None
    thread_id: str | None = None
    subject: str | None = None
    from_address_email: str | None = None
    to_address_email_list: str | None = None
    cc_address_email_list: str | None = None
    bcc_address_email_list: str | None = None
    reply_to: str | None = None
    body: dict[str, Any] | None = None
    content_preview: str | None = None
    organization_id: str | None = None
    campaign_id: str | None = None
    subsequence_id: str | None = None
    list_id: str | None = None
    lead: str | None = None
    lead_id: str | None = None
    eaccount: str | None = None
    ue_type: int | None = None
    step: str | None = None
    is_unread: int | None = None
    is_auto_reply: int | None = None
    i_status: int | None = None
    ai_interest_value: float | None = None
