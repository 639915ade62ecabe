"""Subscriptions: the shared secret in a Prefect `Secret` block, and idempotent `POST/PATCH /webhooks`.

Instantly signs nothing (notes §8.3): each subscription carries our secret in a custom header
(SPEC CreateWebhook.headers) and the receiver compares it. The secret lives only in the block and in
Instantly's subscription; it is never printed, logged or passed as a parameter.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

from instantly_client import InstantlyClient, Webhook
from webhooks.events import SECRET_HEADER

SECRET_BYTES = 32  # 256 bits, URL-safe base64 (43 characters): fits any HTTP header


@dataclass
class Subscribed:
    """What `subscribe` did for one event type: `created`, `reused` (already right) or `updated`."""

    action: str
    webhook_id: str
    event_type: str
    duplicates: list[str] = field(default_factory=list)


def plain_http_warning(url: str) -> str | None:
    """A one-line warning for a receiver URL in plain http off loopback, else None (pure).

    SPEC CreateWebhook.target_hook_url accepts `^https?://`, while Instantly's guide asks for an HTTPS endpoint
    (notes §8, BLOG-WH): warned, not refused. Loopback (127.0.0.0/8, ::1, localhost) is local testing.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "http":
        return None
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:  # a host name
        pass
    return (
        f"warning: {url} is plain http: the shared secret and every event would travel unencrypted, and "
        "Instantly's docs ask for https (put a TLS proxy in front: docs/webhooks.md)"
    )


def load_secret(block_name: str) -> str | None:
    """The secret in the Prefect Secret block `block_name`, or None when there is no such block."""
    from prefect.blocks.system import Secret

    try:
        # Prefect's async_dispatch: called outside an event loop, `load` returns the block itself.
        block = cast("Secret[Any]", Secret.load(block_name))
    except ValueError:
        return None
    value = block.get()
    return value if isinstance(value, str) and value else None


def ensure_secret(block_name: str) -> tuple[str, bool]:
    """The secret of `block_name`, generating and saving one when the block does not exist.

    Returns:
        (secret, created): created is True when this call generated it.
    """
    from prefect.blocks.system import Secret

    existing = load_secret(block_name)
    if existing:
        return existing, False
    value = secrets.token_urlsafe(SECRET_BYTES)
    Secret(value=value).save(block_name, overwrite=True)
    return value, True


def subscribe(
    client: InstantlyClient,
    *,
    url: str,
    events: list[str],
    campaign_id: str | None,
    name: str,
    secret: str,
) -> Iterator[Subscribed]:
    """Make sure one subscription per event type sends to `url` with the secret header; idempotent.

    An existing subscription with the same URL, event type and campaign is reused as is, or updated (PATCH)
    when its secret header or name differs or it was disabled (then resumed). Only a missing one is created.
    """
    hooks = list(client.webhooks.list())
    for event_type in dict.fromkeys(events):  # each once, in order
        same = [h for h in hooks if _same_target(h, url, event_type, campaign_id)]
        if not same:
            created = client.webhooks.create(
                {
                    "target_hook_url": url,
                    "event_type": event_type,
                    "campaign": campaign_id,
                    "name": name,
                    "headers": {SECRET_HEADER: secret},
                }
            )
            yield Subscribed("created", str(created.id), event_type)
            continue
        hook, others = same[0], [str(h.id) for h in same[1:]]
        changes: dict[str, object] = {}
        if (hook.headers or {}).get(SECRET_HEADER) != secret:
            changes["headers"] = {**(hook.headers or {}), SECRET_HEADER: secret}
        if hook.name != name:
            changes["name"] = name
        if changes:
            client.webhooks.update(str(hook.id), changes)
        if hook.status == -1:
            client.webhooks.resume(str(hook.id))
        action = "updated" if changes or hook.status == -1 else "reused"
        yield Subscribed(action, str(hook.id), event_type, others)


def _same_target(hook: Webhook, url: str, event_type: str, campaign_id: str | None) -> bool:
    return hook.target_hook_url == url and hook.event_type == event_type and hook.campaign == campaign_id
