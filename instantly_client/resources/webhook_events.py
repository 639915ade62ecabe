"""``client.webhook_events``: SPEC ``/api/v2/webhook-events*`` (the delivery log, read-only)."""

from __future__ import annotations

from collections.abc import Iterator

from .._pagination import Page
from ..models.webhook_event import WebhookEvent, WebhookEventsSummary
from ._base import DateLike, Resource, date_param, path_id

__all__ = ["WebhookEvents"]


class WebhookEvents(Resource):
    """Instantly's log of webhook deliveries: what was sent where, whether it succeeded, and the payload."""

    def pages(
        self,
        *,
        success: bool | None = None,
        from_date: DateLike | None = None,
        to_date: DateLike | None = None,
        search: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Iterator[Page[WebhookEvent]]:
        """Pages of ``GET /webhook-events``.

        Args:
            success: only successful (True) or failed (False) deliveries.
            from_date, to_date: inclusive window of ``timestamp_created`` dates (SPEC ``from``/``to``, YYYY-MM-DD).
            search: an exact webhook URL or lead email.
        """
        filters = {
            "success": None if success is None else str(success).lower(),
            "from": date_param(from_date),
            "to": date_param(to_date),
            "search": search,
        }
        return self._pages(
            "GET",
            "/webhook-events",
            WebhookEvent,
            cursor_in="query",
            filters=filters,
            limit=limit,
            starting_after=starting_after,
        )

    def list(
        self,
        *,
        success: bool | None = None,
        from_date: DateLike | None = None,
        to_date: DateLike | None = None,
        search: str | None = None,
        limit: int = 100,
    ) -> Iterator[WebhookEvent]:
        """Every logged delivery matching the filters (see `pages`)."""
        return self._items(
            self.pages(success=success, from_date=from_date, to_date=to_date, search=search, limit=limit)
        )

    def get(self, event_id: str) -> WebhookEvent:
        """``GET /webhook-events/{id}``."""
        return WebhookEvent.model_validate(self._request("GET", f"/webhook-events/{path_id(event_id)}"))

    def summary(
        self, *, from_date: DateLike | None = None, to_date: DateLike | None = None
    ) -> WebhookEventsSummary:
        """``GET /webhook-events/summary``: totals and success/failure rates over the window."""
        params = {k: v for k, v in {"from": date_param(from_date), "to": date_param(to_date)}.items() if v}
        return WebhookEventsSummary.model_validate(
            self._request("GET", "/webhook-events/summary", params=params)
        )
