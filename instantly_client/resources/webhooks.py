"""``client.webhooks``: SPEC ``/api/v2/webhooks*``."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping
from typing import Any

from .._pagination import Page
from ..models.webhook import Webhook, WebhookEventType, WebhookIn, WebhookPatch, WebhookTestResult
from ._base import Resource, path_id, to_body

__all__ = ["Webhooks"]


class Webhooks(Resource):
    """Webhook subscriptions. Deliveries carry no signature: authenticate them with custom ``headers``."""

    def create(self, webhook: WebhookIn | Mapping[str, Any]) -> Webhook:
        """``POST /webhooks``."""
        body = to_body(WebhookIn, webhook, what="webhook")
        return Webhook.model_validate(self._request("POST", "/webhooks", json=body))

    def pages(
        self,
        *,
        campaign: str | None = None,
        event_type: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Iterator[Page[Webhook]]:
        """Pages of ``GET /webhooks`` (filter by ``campaign`` id and/or ``event_type``)."""
        filters = {"campaign": campaign, "event_type": event_type}
        return self._pages(
            "GET",
            "/webhooks",
            Webhook,
            cursor_in="query",
            filters=filters,
            limit=limit,
            starting_after=starting_after,
        )

    def list(
        self,
        *,
        campaign: str | None = None,
        event_type: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Iterator[Webhook]:
        """Every webhook matching the filters."""
        return self._items(
            self.pages(campaign=campaign, event_type=event_type, limit=limit, starting_after=starting_after)
        )

    def get(self, webhook_id: str) -> Webhook:
        """``GET /webhooks/{id}``."""
        return Webhook.model_validate(self._request("GET", f"/webhooks/{path_id(webhook_id)}"))

    def update(self, webhook_id: str, fields: WebhookPatch | Mapping[str, Any]) -> Webhook:
        """``PATCH /webhooks/{id}``: change the given fields (e.g. ``headers`` to rotate a shared secret)."""
        body = to_body(WebhookPatch, fields, what="webhook patch")
        return Webhook.model_validate(self._request("PATCH", f"/webhooks/{path_id(webhook_id)}", json=body))

    def delete(self, webhook_id: str) -> Webhook:
        """``DELETE /webhooks/{id}`` (no body)."""
        return Webhook.model_validate(self._request("DELETE", f"/webhooks/{path_id(webhook_id)}"))

    def test(self, webhook_id: str) -> WebhookTestResult:
        """``POST /webhooks/{id}/test`` (no body): send a test delivery and report how it went."""
        payload = self._request("POST", f"/webhooks/{path_id(webhook_id)}/test")
        return WebhookTestResult.model_validate(payload or {})

    def resume(self, webhook_id: str) -> Webhook:
        """``POST /webhooks/{id}/resume`` (no body): re-enable a webhook disabled by delivery failures."""
        return Webhook.model_validate(self._request("POST", f"/webhooks/{path_id(webhook_id)}/resume"))

    def event_types(self) -> builtins.list[WebhookEventType]:
        """``GET /webhooks/event-types``: subscribable events, including custom labels."""
        payload = self._request("GET", "/webhooks/event-types")
        raw = payload.get("event_types", []) if isinstance(payload, Mapping) else payload
        return self._parse_list(raw, WebhookEventType)
