"""A webhook receiver: Instantly's deliveries land in `instantly.webhook_events`, deduplicated.

Instantly signs nothing (docs/instantly-api-notes.md §8.3): a subscription carries custom headers, and the
receiver checks one of them against a shared secret. Each delivery is written before it is acknowledged; when
the warehouse is busy the receiver answers 503 so Instantly retries, and nothing is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from warehouse.db import Warehouse, WarehouseLockedError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Ops-Instantly-Secret"
MAX_BODY = 5 * 1024 * 1024

# Payload names differ from subscription names (notes §8.2): map what is delivered to what one subscribes to.
_KIND = {"link_clicked": "email_link_clicked", "auto_reply_received": "reply_received"}


def event_kind(event_type: str) -> str:
    """The subscription name for a delivered event type (unknown strings, e.g. custom labels, pass through)."""
    return _KIND.get(event_type, event_type)


def event_key(payload: Mapping[str, Any]) -> str:
    """Dedupe key: Instantly may deliver twice and sends no event id."""
    ident = payload.get("email_id") or payload.get("lead_email") or ""
    raw = f"{payload.get('event_type', '')}|{ident}|{payload.get('timestamp', '')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def to_row(payload: Mapping[str, Any], received_at: datetime) -> list[Any]:
    """One instantly.webhook_events row from a delivered payload (tolerant of missing fields)."""
    event_type = str(payload.get("event_type") or "unknown")
    return [
        event_key(payload),
        event_type,
        event_kind(event_type),
        payload.get("timestamp"),
        payload.get("campaign_id"),
        payload.get("campaign_name"),
        (payload.get("lead_email") or "").strip().lower() or None,
        payload.get("email_account"),
        payload.get("email_id"),
        _int_or_none(payload.get("step")),
        _int_or_none(payload.get("variant")),
        payload.get("reply_subject"),
        payload.get("reply_text") or payload.get("reply_text_snippet"),
        json.dumps(payload, default=str),
        received_at,
    ]


def store_events(warehouse: Warehouse, payloads: list[Mapping[str, Any]]) -> int:
    """Insert deliveries, ignoring ones already stored. Returns how many were new."""
    now = datetime.now(UTC)
    with warehouse.connect() as con:
        before = con.execute("SELECT count(*) FROM instantly.webhook_events").fetchone()[0]
        con.executemany(
            "INSERT INTO instantly.webhook_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            [to_row(p, now) for p in payloads],
        )
        after = con.execute("SELECT count(*) FROM instantly.webhook_events").fetchone()[0]
    return int(after - before)


class WebhookReceiver:
    """An HTTP server that stores Instantly webhook deliveries in the warehouse.

    Args:
        warehouse: where deliveries are stored.
        secret: value the subscription sends in the `X-Ops-Instantly-Secret` header; None accepts any sender.
        host, port: where to listen (port 0 picks a free port).
    """

    def __init__(self, warehouse: Warehouse, *, secret: str | None, host: str = "127.0.0.1", port: int = 0):
        self.warehouse = warehouse
        self._secret = secret
        self.received = 0
        self.stored = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                status, message = receiver.handle(self.headers, self._body())
                body = json.dumps({"message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(min(length, MAX_BODY + 1))

            def log_message(self, format: str, *args: Any) -> None:  # keep headers (secrets) out of logs
                log.debug("webhook %s", self.path)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/instantly/webhook"

    def handle(self, headers: Mapping[str, str], body: bytes) -> tuple[int, str]:
        """Check, parse and store one delivery; returns (HTTP status, message)."""
        if self._secret is not None and not hmac.compare_digest(
            (headers.get(SECRET_HEADER) or "").encode(), self._secret.encode()
        ):
            return 401, "missing or wrong secret header"
        if len(body) > MAX_BODY:
            return 413, "payload too large"
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, "body is not JSON"
        if not isinstance(payload, dict):
            return 400, "body is not a JSON object"
        self.received += 1
        try:
            self.stored += store_events(self.warehouse, [payload])
        except WarehouseLockedError:
            return 503, "warehouse busy, retry later"  # Instantly retries failed deliveries
        return 200, "ok"

    def start(self) -> WebhookReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="webhook-receiver", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
