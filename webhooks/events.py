"""Delivered webhook payloads (pure): their names, their content-hash id, and their warehouse row.

Instantly signs nothing and sends no event id (docs/instantly-api-notes.md §8.2-8.3), and may deliver an event
twice or out of order. An event's id is therefore a hash of its whole payload: a re-delivery (or the same
payload replayed from the delivery log, SPEC `WebhookEvent.payload`) has the same id and lands once.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ops_core.emails import normalise_email

# The header a subscription sends (SPEC CreateWebhook.headers) and the receiver checks: Instantly has no signature.
SECRET_HEADER = "X-Ops-Instantly-Secret"

# Payload names that differ from subscription names (notes §8.2, C4): delivered -> subscribed.
_KIND = {"link_clicked": "email_link_clicked", "auto_reply_received": "reply_received"}

# instantly.webhook_events.step and .variant are INTEGER (migration 0005): 32-bit signed. A value outside it,
# or no integer at all (2.7, NaN, Infinity, 1e400 which JSON parsers read as Infinity), is NULL there.
INTEGER_MIN, INTEGER_MAX = -(2**31), 2**31 - 1

# The columns of instantly.webhook_events written by the ingest, in order (migrations 0005 and 0007).
COLUMNS: tuple[str, ...] = (
    "event_key",
    "event_type",
    "event_kind",
    "event_at",
    "campaign_id",
    "campaign_name",
    "lead_email",
    "email_account",
    "email_id",
    "step",
    "variant",
    "reply_subject",
    "reply_text",
    "payload",
    "received_at",
    "source",
    "_loaded_at",
    "_run_id",
)


def event_kind(event_type: str) -> str:
    """The subscription name of a delivered event type; unknown names (custom labels) pass through."""
    return _KIND.get(event_type, event_type)


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The payload as compact JSON with sorted keys: one spelling per content (no newline inside)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def payload_json(payload: Mapping[str, Any]) -> str:
    """The payload as stored in the JSON column: `canonical_json`, with a non-finite number (NaN, Infinity,
    an overflowing `1e400`) as null, the one rule everywhere (tasks/mapping.py `json_text`), so the column
    always holds standard JSON. The event's id still hashes the payload as received (`event_id`)."""
    try:
        return json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str, allow_nan=False
        )
    except ValueError:  # a NaN or Infinity somewhere (the receiver's parser accepts them)
        return canonical_json(_finite(payload))


def event_id(payload: Mapping[str, Any]) -> str:
    """The content-hash id of a delivered event: 32 hex characters of sha256 over its canonical JSON."""
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:32]


def to_row(
    payload: Mapping[str, Any], *, received_at: datetime, source: str, loaded_at: datetime, run_id: str
) -> tuple[Any, ...]:
    """One instantly.webhook_events row (in `COLUMNS` order) from a payload; missing fields become NULL.

    Args:
        payload: the delivered JSON object, as received.
        received_at: when the receiver acknowledged it (or the delivery log recorded it).
        source: `receiver` (the spool) or `delivery_log` (recovered by the catch-up).
        loaded_at, run_id: the loading run.
    """
    event_type = _text(payload.get("event_type")) or "unknown"
    return (
        event_id(payload),
        event_type,
        event_kind(event_type),
        parse_timestamp(payload.get("timestamp")),
        _text(payload.get("campaign_id")),
        _text(payload.get("campaign_name")),
        normalise_email(payload.get("lead_email")),  # the push's rule: events meet the ledger's emails
        _text(payload.get("email_account")),
        _text(payload.get("email_id")),
        _int_or_none(payload.get("step")),
        _int_or_none(payload.get("variant")),
        _text(payload.get("reply_subject")),
        _text(payload.get("reply_text") or payload.get("reply_text_snippet")),
        payload_json(payload),
        received_at,
        source,
        loaded_at,
        run_id,
    )


def parse_timestamp(value: Any) -> datetime | None:
    """An ISO 8601 timestamp (`2026-11-20T10:00:00.000Z`) as an aware datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)


def _int_or_none(value: Any) -> int | None:
    """An INTEGER column's value: None when absent, not a number, not a whole number (2.7; `int` would make
    it 2), not finite or outside 32 bits."""
    if value is None or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return None  # is_integer is False for NaN and the infinities too
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if INTEGER_MIN <= number <= INTEGER_MAX else None


def _finite(value: Any) -> Any:
    """`value` with every non-finite float, at any depth, as None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
