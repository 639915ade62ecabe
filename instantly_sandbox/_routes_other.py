"""Analytics, webhooks, accounts, emails (inbox), block-list and current-workspace routes."""

from __future__ import annotations

from typing import Any

from . import _analytics
from ._router import Request, not_found, paginate, route
from ._shapes import email_record, public
from ._util import iso, parse_when

EVENT_TYPE_LABELS = {  # GET /webhooks/event-types; ids are the subscription enum of SPEC CreateWebhook
    "all_events": "All Events",
    "email_sent": "Email Sent",
    "email_opened": "Email Opened",
    "email_link_clicked": "Email Link Clicked",
    "reply_received": "Reply Received",
    "email_bounced": "Email Bounced",
    "lead_unsubscribed": "Lead Unsubscribed",
    "campaign_completed": "Campaign Completed",
    "account_error": "Account Error",
    "lead_neutral": "Lead Neutral",
    "lead_interested": "Lead Interested",
    "lead_not_interested": "Lead Not Interested",
    "lead_meeting_booked": "Lead Meeting Booked",
    "lead_meeting_completed": "Lead Meeting Completed",
    "lead_closed": "Lead Closed",
    "lead_out_of_office": "Lead Out Of Office",
    "lead_wrong_person": "Lead Wrong Person",
    "lead_no_show": "Lead No Show",
    "supersearch_enrichment_completed": "SuperSearch Enrichment Completed",
}


def _ids(query: dict[str, Any]) -> list[str] | None:
    ids = list(query.get("ids") or [])
    if query.get("id"):
        ids.insert(0, query["id"])
    return ids or None


# -- analytics --------------------------------------------------------------------------------------------
@route("GET", "/api/v2/campaigns/analytics")
def analytics(sb: Any, req: Request) -> list[dict[str, Any]]:
    return _analytics.campaign_rows(sb.state, _ids(req.query), req.query)


@route("GET", "/api/v2/campaigns/analytics/overview")
def analytics_overview(sb: Any, req: Request) -> dict[str, Any]:
    return _analytics.overview(sb.state, _ids(req.query), req.query)


@route("GET", "/api/v2/campaigns/analytics/daily")
def analytics_daily(sb: Any, req: Request) -> list[dict[str, Any]]:
    return _analytics.daily(sb.state, req.query.get("campaign_id"), req.query)


@route("GET", "/api/v2/campaigns/analytics/steps")
def analytics_steps(sb: Any, req: Request) -> list[dict[str, Any]]:
    return _analytics.steps(sb.state, req.query.get("campaign_id"), req.query)


# -- webhooks ---------------------------------------------------------------------------------------------
def _hook(sb: Any, hook_id: str) -> dict[str, Any]:
    hook: dict[str, Any] | None = sb.state.webhooks.get(hook_id)
    if hook is None:
        raise not_found("Webhook not found")
    return hook


@route("GET", "/api/v2/webhooks")
def list_webhooks(sb: Any, req: Request) -> dict[str, Any]:
    q = req.query
    items = [
        public(h)
        for h in sb.state.webhooks.values()
        if (not q.get("campaign") or h.get("campaign") == q["campaign"])
        and (not q.get("event_type") or h.get("event_type") == q["event_type"])
    ]
    return paginate(items, q.get("starting_after"), q.get("limit"))


@route("POST", "/api/v2/webhooks")
def create_webhook(sb: Any, req: Request) -> dict[str, Any]:
    state = sb.state
    hook = {
        "id": state.new_id(),
        "organization": state.workspace_id,
        "campaign": None,
        "name": None,
        "event_type": None,
        "custom_interest_value": None,
        "headers": None,
        **req.body,
        "timestamp_created": iso(state.now()),
        "status": 1,
        "timestamp_error": None,
    }
    state.webhooks[hook["id"]] = hook
    return public(hook)


@route("GET", "/api/v2/webhooks/event-types")
def event_types(sb: Any, req: Request) -> dict[str, Any]:
    return {"event_types": [{"id": k, "label": v, "type": "standard"} for k, v in EVENT_TYPE_LABELS.items()]}


@route("GET", "/api/v2/webhooks/{id}")
def get_webhook(sb: Any, req: Request) -> dict[str, Any]:
    return public(_hook(sb, req.params["id"]))


@route("PATCH", "/api/v2/webhooks/{id}")
def patch_webhook(sb: Any, req: Request) -> dict[str, Any]:
    hook = _hook(sb, req.params["id"])
    hook.update(req.body)
    return public(hook)


@route("DELETE", "/api/v2/webhooks/{id}")
def delete_webhook(sb: Any, req: Request) -> dict[str, Any]:
    return public(sb.state.webhooks.pop(_hook(sb, req.params["id"])["id"]))


@route("POST", "/api/v2/webhooks/{id}/test", locked=False)
def test_webhook(sb: Any, req: Request) -> dict[str, Any]:
    with sb.state.lock:
        hook = dict(_hook(sb, req.params["id"]))
    result: dict[str, Any] = sb.dispatcher.test(hook)  # a real POST, outside the state lock
    return result


@route("POST", "/api/v2/webhooks/{id}/resume")
def resume_webhook(sb: Any, req: Request) -> dict[str, Any]:
    hook = _hook(sb, req.params["id"])
    hook["status"], hook["timestamp_error"] = 1, None
    return public(hook)


# -- accounts, emails, block list -------------------------------------------------------------------------
def _account_cursor(account: dict[str, Any]) -> str:
    return f"{account['timestamp_created']}&{account['email']}"  # SPEC: `timestamp_created&email`


@route("GET", "/api/v2/accounts")
def list_accounts(sb: Any, req: Request) -> dict[str, Any]:
    q = req.query
    items = sorted((dict(a) for a in sb.state.accounts.values()), key=_account_cursor)
    if q.get("search"):
        items = [a for a in items if q["search"].lower() in a["email"]]
    if q.get("status") is not None:
        items = [a for a in items if a["status"] == q["status"]]
    return paginate(items, q.get("starting_after"), q.get("limit"), key=_account_cursor)


@route("GET", "/api/v2/emails")
def list_emails(sb: Any, req: Request) -> dict[str, Any]:
    q, state = req.query, sb.state
    kinds = {"received": ("replied", "auto_reply"), "sent": ("sent",), "manual": ()}.get(
        q.get("email_type") or "", ("sent", "replied", "auto_reply")
    )
    events = state.events_by_campaign.get(q["campaign_id"], []) if q.get("campaign_id") else state.events
    low = parse_when(q["min_timestamp_created"]) if q.get("min_timestamp_created") else None
    high = parse_when(q["max_timestamp_created"]) if q.get("max_timestamp_created") else None
    items = []
    for ev in events:
        if ev.kind not in kinds or (low is not None and ev.ts < low) or (high is not None and ev.ts > high):
            continue
        rec = email_record(state, ev)
        if q.get("lead") and (rec["lead"] or "").lower() != q["lead"].lower():
            continue
        if q.get("eaccount") and rec["eaccount"] != q["eaccount"]:
            continue
        if q.get("search") and q["search"].lower() not in f"{rec['subject']} {rec['lead']}".lower():
            continue
        if q.get("is_unread") is not None and bool(rec["is_unread"]) != q["is_unread"]:
            continue
        items.append(rec)
    items.sort(key=lambda r: r["id"], reverse=q.get("sort_order") == "desc")
    if q.get("sort_order") == "desc" and q.get("starting_after"):
        items = [r for r in items if r["id"] < q["starting_after"]]
        return paginate(items, None, q.get("limit"))
    return paginate(items, q.get("starting_after"), q.get("limit"))


@route("GET", "/api/v2/block-lists-entries")
def list_block_entries(sb: Any, req: Request) -> dict[str, Any]:
    q = req.query
    items = [dict(e) for e in sb.state.blocklist.values()]
    if q.get("domains_only"):
        items = [e for e in items if e["is_domain"]]
    if q.get("search"):
        items = [e for e in items if q["search"].lower() in e["bl_value"]]
    return paginate(items, q.get("starting_after"), q.get("limit"))


@route("POST", "/api/v2/block-lists-entries")
def create_block_entry(sb: Any, req: Request) -> dict[str, Any]:
    return dict(sb.state.add_block_entry(req.body["bl_value"]))


# -- workspace --------------------------------------------------------------------------------------------
@route("GET", "/api/v2/workspaces/current")
def current_workspace(sb: Any, req: Request) -> dict[str, Any]:
    """SPEC getWorkspace: the workspace of the API key; every sandbox key acts on the one workspace."""
    state = sb.state
    created = iso(state.now())
    return {
        "id": state.workspace_id,
        "name": "Sandbox workspace",
        "owner": state.user_id,
        "timestamp_created": created,
        "timestamp_updated": created,
        "plan_id": "pid_hg_v1",
    }
