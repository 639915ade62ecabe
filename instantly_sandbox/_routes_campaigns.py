"""Campaign routes: list, create, get, patch, delete, activate, pause, duplicate."""

from __future__ import annotations

import copy
from typing import Any

from ._engagement import sim, simulate
from ._router import ApiError, Request, not_found, paginate, route
from ._shapes import public
from ._util import iso

CAMPAIGN_DEFAULTS: dict[str, Any] = {
    "pl_value": None,
    "is_evergreen": False,
    "sequences": [],
    "email_gap": 10,
    "random_wait_max": 10,
    "text_only": False,
    "first_email_text_only": False,
    "email_list": [],
    "daily_limit": None,
    "stop_on_reply": True,
    "email_tag_list": [],
    "link_tracking": True,
    "open_tracking": True,
    "stop_on_auto_reply": False,
    "daily_max_leads": None,
    "prioritize_new_leads": False,
    "match_lead_esp": False,
    "not_sending_status": None,
    "stop_for_company": False,
    "core_variables": {},
    "custom_variables": {},
    "insert_unsubscribe_header": False,
    "allow_risky_contacts": False,
    "disable_bounce_protect": False,
    "cc_list": [],
    "bcc_list": [],
}


def get_campaign(sb: Any, campaign_id: str) -> dict[str, Any]:
    campaign: dict[str, Any] | None = sb.state.campaigns.get(campaign_id)
    if campaign is None:
        raise not_found("Campaign not found")
    return campaign


def touch(sb: Any, campaign: dict[str, Any]) -> dict[str, Any]:
    campaign["timestamp_updated"] = iso(sb.state.now())
    return public(campaign)


@route("GET", "/api/v2/campaigns")
def list_campaigns(sb: Any, req: Request) -> dict[str, Any]:
    q = req.query
    items = [public(c) for c in sb.state.campaigns.values()]
    if q.get("search"):
        items = [c for c in items if q["search"].lower() in c["name"].lower()]
    if q.get("status") is not None:
        items = [c for c in items if c["status"] == q["status"]]
    if q.get("exclude_status") is not None:
        items = [c for c in items if c["status"] != q["exclude_status"]]
    return paginate(items, q.get("starting_after"), q.get("limit"))


@route("POST", "/api/v2/campaigns")
def create_campaign(sb: Any, req: Request) -> dict[str, Any]:
    state = sb.state
    now = iso(state.now())
    campaign = {
        "id": state.new_id(),
        "name": req.body["name"],
        "status": 0,  # SK-CAMP: created as Draft; never sends until activated
        "campaign_schedule": req.body["campaign_schedule"],
        "timestamp_created": now,
        "timestamp_updated": now,
        **copy.deepcopy(CAMPAIGN_DEFAULTS),
        **req.body,
        "organization": state.workspace_id,
        "owned_by": req.body.get("owned_by") or state.user_id,
    }
    state.campaigns[campaign["id"]] = campaign
    sim(campaign)
    return public(campaign)


@route("GET", "/api/v2/campaigns/{id}")
def get_one(sb: Any, req: Request) -> dict[str, Any]:
    return public(get_campaign(sb, req.params["id"]))


@route("PATCH", "/api/v2/campaigns/{id}")
def patch_campaign(sb: Any, req: Request) -> dict[str, Any]:
    campaign = get_campaign(sb, req.params["id"])
    campaign.update(req.body)  # SK-CAMP: `email_list` replaces the sender list
    return touch(sb, campaign)


@route("DELETE", "/api/v2/campaigns/{id}")
def delete_campaign(sb: Any, req: Request) -> dict[str, Any]:
    state = sb.state
    campaign = get_campaign(sb, req.params["id"])
    for lead_id in list(state.by_campaign.get(campaign["id"], [])):
        state.delete_lead(lead_id)
    state.by_campaign.pop(campaign["id"], None)
    del state.campaigns[campaign["id"]]
    return public(campaign)


@route("POST", "/api/v2/campaigns/{id}/activate")
def activate(sb: Any, req: Request) -> dict[str, Any]:
    campaign = get_campaign(sb, req.params["id"])
    simulate(sb.state, sb.state.now())  # catch up first, so sending starts from now
    campaign["status"] = 1
    campaign["not_sending_status"] = None
    return touch(sb, campaign)


@route("POST", "/api/v2/campaigns/{id}/pause")
def pause(sb: Any, req: Request) -> dict[str, Any]:
    campaign = get_campaign(sb, req.params["id"])
    simulate(sb.state, sb.state.now())
    campaign["status"] = 2
    return touch(sb, campaign)


@route("POST", "/api/v2/campaigns/{id}/duplicate")
def duplicate(sb: Any, req: Request) -> dict[str, Any]:
    state = sb.state
    source = get_campaign(sb, req.params["id"])
    name = (req.body or {}).get("name") or f"{source['name']} (copy)"
    if not name.strip():
        raise ApiError(400, "New campaign name is required", {"message": "New campaign name is required"})
    now = iso(state.now())
    clone = copy.deepcopy(public(source))
    clone.update(
        {"id": state.new_id(), "name": name, "status": 0, "timestamp_created": now, "timestamp_updated": now}
    )
    state.campaigns[clone["id"]] = clone
    sim(clone)
    return public(clone)
