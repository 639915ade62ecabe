"""The webhook delivery log (SPEC `/api/v2/webhook-events*`): every delivery attempt the dispatcher made."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ._router import Request, not_found, paginate, route


def _matching(sb: Any, q: dict[str, Any]) -> list[dict[str, Any]]:
    items = sorted(sb.state.webhook_events.values(), key=lambda e: e["id"])
    if q.get("success") is not None:
        items = [e for e in items if e["success"] is q["success"]]
    if q.get("from"):
        items = [e for e in items if e["timestamp_created_date"] >= q["from"]]  # SPEC: inclusive dates
    if q.get("to"):
        items = [e for e in items if e["timestamp_created_date"] <= q["to"]]
    if q.get("search"):  # SPEC: "exact webhook URL or lead email match"
        needle = q["search"]
        items = [e for e in items if needle in (e["webhook_url"], e.get("lead_email"))]
    return items


def _rates(events: list[dict[str, Any]]) -> dict[str, Any]:
    total = len(events)
    ok = sum(1 for e in events if e["success"])
    return {
        "total_events": total,
        "successful_events": ok,
        "failed_events": total - ok,
        "success_rate": round(100 * ok / total, 2) if total else 0,
        "failure_rate": round(100 * (total - ok) / total, 2) if total else 0,
    }


@route("GET", "/api/v2/webhook-events")
def list_webhook_events(sb: Any, req: Request) -> dict[str, Any]:
    q = req.query
    return paginate([dict(e) for e in _matching(sb, q)], q.get("starting_after"), q.get("limit"))


@route("GET", "/api/v2/webhook-events/summary")
def webhook_events_summary(sb: Any, req: Request) -> dict[str, Any]:
    return _rates(_matching(sb, req.query))


@route("GET", "/api/v2/webhook-events/summary-by-date")
def webhook_events_summary_by_date(sb: Any, req: Request) -> dict[str, Any]:
    by_date: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in _matching(sb, req.query):
        by_date[event["timestamp_created_date"]].append(event)
    items = []
    for day in sorted(by_date):
        rates = _rates(by_date[day])
        rates.pop("failure_rate")  # SPEC: the per-date items have no failure_rate
        items.append({"date": day, **rates})
    return {"items": items}


@route("GET", "/api/v2/webhook-events/{id}")
def get_webhook_event(sb: Any, req: Request) -> dict[str, Any]:
    event = sb.state.webhook_events.get(req.params["id"])
    if event is None:
        raise not_found("Webhook event not found")
    return dict(event)
