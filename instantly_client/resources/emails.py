"""``client.emails``: SPEC ``GET /api/v2/emails``.

This endpoint allows only 20 requests per minute (SPEC op description), so calls go through an extra
per-endpoint limiter on top of the workspace limiter.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._pagination import Page
from ..models.email import Email
from ._base import Resource

__all__ = ["EMAILS_RATE_PER_MINUTE", "Emails"]

EMAILS_RATE_PER_MINUTE = 20  # SPEC GET /api/v2/emails description: "rate limit of 20 requests per minute"


class Emails(Resource):
    """Sent and received emails (the unibox)."""

    def pages(
        self,
        *,
        campaign_id: str | None = None,
        email_type: str | None = None,
        lead: str | None = None,
        list_id: str | None = None,
        eaccount: str | None = None,
        search: str | None = None,
        is_unread: bool | None = None,
        min_timestamp_created: str | None = None,
        max_timestamp_created: str | None = None,
        sort_order: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
        **more_filters: Any,
    ) -> Iterator[Page[Email]]:
        """Pages of ``GET /emails`` (limited to 20 requests/minute).

        Args:
            campaign_id: only this campaign (``campaign_id`` here, unlike ``/leads/list``).
            email_type: ``received``, ``sent`` or ``manual``.
            lead: the lead's email.
            list_id: only this lead list.
            eaccount: the sending account's email.
            search: free-text search.
            is_unread: only unread (or read) emails.
            min_timestamp_created: ISO timestamp lower bound.
            max_timestamp_created: ISO timestamp upper bound.
            sort_order: ``asc`` or ``desc``.
            limit: page size, 1-100.
            starting_after: resume after this cursor.
            **more_filters: other query parameters (``i_status``, ``mode``, ``latest_of_thread``, ...).
        """
        filters = {
            "campaign_id": campaign_id,
            "email_type": email_type,
            "lead": lead,
            "list_id": list_id,
            "eaccount": eaccount,
            "search": search,
            "is_unread": is_unread,
            "min_timestamp_created": min_timestamp_created,
            "max_timestamp_created": max_timestamp_created,
            "sort_order": sort_order,
            **more_filters,
        }
        limiter = self._client._endpoint_limiter("emails", per_minute=EMAILS_RATE_PER_MINUTE)
        return self._pages(
            "GET",
            "/emails",
            Email,
            cursor_in="query",
            filters=filters,
            limit=limit,
            starting_after=starting_after,
            limiter=limiter,
        )

    def list(
        self,
        *,
        campaign_id: str | None = None,
        email_type: str | None = None,
        lead: str | None = None,
        list_id: str | None = None,
        eaccount: str | None = None,
        search: str | None = None,
        is_unread: bool | None = None,
        min_timestamp_created: str | None = None,
        max_timestamp_created: str | None = None,
        sort_order: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
        **more_filters: Any,
    ) -> Iterator[Email]:
        """Every email matching the filters; arguments as in :meth:`pages`."""
        return self._items(
            self.pages(
                campaign_id=campaign_id,
                email_type=email_type,
                lead=lead,
                list_id=list_id,
                eaccount=eaccount,
                search=search,
                is_unread=is_unread,
                min_timestamp_created=min_timestamp_created,
                max_timestamp_created=max_timestamp_created,
                sort_order=sort_order,
                limit=limit,
                starting_after=starting_after,
                **more_filters,
            )
        )
