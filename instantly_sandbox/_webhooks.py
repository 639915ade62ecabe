"""Webhook delivery: matching events are POSTed as JSON from a background thread (httpx).

Quirks reproduced (DOC-WH, SK-WH): the payload says `link_clicked` to `email_link_clicked` subscribers;
`auto_reply_received` reaches only `all_events` subscribers; no signature, only the subscription's `headers`.
A delivery is tried 3 times with short backoff; when all attempts fail the webhook is disabled (`status -1`,
`timestamp_error`) until `POST /webhooks/{id}/resume`. Every attempt is logged as a SPEC `WebhookEvent`
(`GET /webhook-events`): the attempts of one delivery share a `retry_group_id`.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import httpx

from ._events import SUBSCRIPTION_FOR_PAYLOAD, Event, payload_event_type
from ._state import State
from ._util import iso, utc_date

RETRY_DELAYS = (0.05, 0.2)  # seconds between the 3 attempts
RESERVED = {"timestamp", "event_type", "workspace", "campaign_id", "campaign_name"}


def matches(hook: dict[str, Any], ev: Event, event_type: str) -> bool:
    if hook.get("status") == -1:
        return False
    if hook.get("campaign") and hook["campaign"] != ev.campaign_id:
        return False
    wanted = hook.get("event_type")
    if wanted == "all_events":
        return True
    return (
        SUBSCRIPTION_FOR_PAYLOAD.get(event_type, event_type) == wanted and event_type != "auto_reply_received"
    )


def build_payload(
    state: State, ev: Event, event_type: str, lead: dict[str, Any] | None, campaign: dict[str, Any] | None
) -> dict[str, Any]:
    lead = lead or {}
    data = ev.data or {}
    payload: dict[str, Any] = {
        "timestamp": iso(ev.ts),
        "event_type": event_type,
        "workspace": state.workspace_id,
        "campaign_id": ev.campaign_id,
        "campaign_name": (campaign or {}).get("name"),
    }
    if ev.lead_id:
        sent_id, subject, body = (lead.get("_sent") or {}).get(str(ev.step), [None, None, None])
        payload.update(
            {
                "lead_email": lead.get("email"),
                "email_account": data.get("eaccount") or lead.get("last_contacted_from"),
                "step": None if ev.step is None else ev.step + 1,  # DOC-WH: step and variant start at 1
                "variant": None if ev.variant is None else ev.variant + 1,
                "is_first": ev.is_first,
                "email_id": sent_id,
                "email_subject": subject,
                "email_text": body,
                "email_html": f"<div>{body}</div>" if body is not None else None,
            }
        )
        if ev.kind in ("replied", "auto_reply"):
            text = data.get("text") or ""
            payload.update(
                {
                    "email_id": ev.id,  # = reply_to_uuid for POST /emails/reply
                    "unibox_url": f"https://app.instantly.ai/app/unibox?thread_search={lead.get('email')}",
                    "reply_text_snippet": text[:100],
                    "reply_subject": data.get("subject"),
                    "reply_text": text,
                    "reply_html": f"<div>{text}</div>",
                }
            )
        for key, value in (lead.get("payload") or {}).items():
            if key not in RESERVED:
                payload.setdefault(key, value)  # the lead's custom variables ride along
    return payload


class Dispatcher:
    def __init__(self, state: State, stats: dict[str, Any]) -> None:
        self.state, self.stats = state, stats
        self._queue: queue.Queue[tuple[str, dict[str, Any]] | None] = queue.Queue()
        self._client = httpx.Client(timeout=5.0)
        self._thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self._thread.start()
        state.listeners.append(self.on_event)

    def on_event(self, ev: Event, lead: dict[str, Any] | None, campaign: dict[str, Any] | None) -> None:
        if not self.state.webhooks:
            return
        event_type = payload_event_type(ev)
        if event_type is None:
            return
        hooks = [h for h in self.state.webhooks.values() if matches(h, ev, event_type)]
        if hooks:
            payload = build_payload(self.state, ev, event_type, lead, campaign)
            for hook in hooks:
                self._queue.put((hook["id"], payload))

    def _post(self, hook: dict[str, Any], payload: dict[str, Any]) -> httpx.Response:
        headers = {"Content-Type": "application/json", **(hook.get("headers") or {})}
        return self._client.post(hook["target_hook_url"], json=payload, headers=headers)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            finally:
                self._queue.task_done()

    def _deliver(self, hook_id: str, payload: dict[str, Any]) -> None:
        with self.state.lock:
            hook = dict(self.state.webhooks.get(hook_id) or {})
        if not hook or hook.get("status") == -1:
            return
        with self.state.lock:
            group = self.state.new_id()
        for attempt in range(len(RETRY_DELAYS) + 1):
            self.stats["webhook_attempts"] += 1
            started = time.perf_counter()
            status: int | None = None
            error: str | None = None
            try:
                status = self._post(hook, payload).status_code
            except httpx.HTTPError as exc:
                error = str(exc) or type(exc).__name__
            ok = status is not None and 200 <= status < 300
            will_retry = not ok and attempt < len(RETRY_DELAYS)
            self._log(
                hook,
                payload,
                group=group,
                attempt=attempt,
                ok=ok,
                will_retry=will_retry,
                status=status,
                error=error if error or ok else f"HTTP {status}",
                ms=(time.perf_counter() - started) * 1000,
            )
            if ok:
                self.stats["webhooks_delivered"] += 1
                return
            if will_retry:
                time.sleep(RETRY_DELAYS[attempt])
        self.stats["webhooks_failed"] += 1
        with self.state.lock:
            live = self.state.webhooks.get(hook_id)
            if live is not None:
                live["status"], live["timestamp_error"] = -1, iso(self.state.now())

    def _log(
        self,
        hook: dict[str, Any],
        payload: dict[str, Any],
        *,
        group: str,
        attempt: int,
        ok: bool,
        will_retry: bool,
        status: int | None,
        error: str | None,
        ms: float,
    ) -> None:
        """Record one attempt as a SPEC `WebhookEvent` (shape: components/schemas/WebhookEvent)."""
        with self.state.lock:
            now = self.state.now()
            record = {
                "id": self.state.new_id(),
                "timestamp_created": iso(now),
                "timestamp_created_date": utc_date(now),
                "organization_id": self.state.workspace_id,
                "payload": payload,
                "success": ok,
                "retry_count": attempt,
                "will_retry": will_retry,
                "webhook_url": hook["target_hook_url"],
                "status_code": status,
                "error_message": None if ok else error,
                "timestamp_next_retry": iso(now + int(RETRY_DELAYS[attempt] * 1000)) if will_retry else None,
                "retry_group_id": group,
                "retry_successful": ok if attempt else None,
                "lead_email": payload.get("lead_email"),
                "response_time_ms": round(ms, 1),
            }
            self.state.webhook_events[record["id"]] = record

    def test(self, hook: dict[str, Any]) -> dict[str, Any]:
        payload = {
            "timestamp": iso(self.state.now()),
            "event_type": "email_sent"
            if hook.get("event_type") in (None, "all_events")
            else hook["event_type"],
            "workspace": self.state.workspace_id,
            "campaign_id": hook.get("campaign"),
            "campaign_name": "Webhook test",
            "lead_email": "test.lead@example.com",
            "is_test": True,
        }
        started = time.perf_counter()
        try:
            resp = self._post(hook, payload)
        except httpx.HTTPError as exc:
            ms = round((time.perf_counter() - started) * 1000)
            return {
                "success": False,
                "message": "Webhook test failed",
                "response_time_ms": ms,
                "status_code": 0,
                "error": str(exc) or type(exc).__name__,
            }
        ms = round((time.perf_counter() - started) * 1000)
        ok = resp.is_success
        return {
            "success": ok,
            "message": "Webhook test successful" if ok else "Webhook test failed",
            "response_time_ms": ms,
            "status_code": resp.status_code,
            "error": "" if ok else f"HTTP {resp.status_code}",
        }

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=2)
        self._client.close()
