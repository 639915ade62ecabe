"""Lead routes: bulk add, create, list (POST, cursor in the body), get/patch/delete, bulk delete,
interest status, move (+ background job)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from itertools import chain, repeat
from typing import Any

from ._bulk_add import screen_all_new
from ._engagement import enqueue_fresh_leads, enqueue_new_lead
from ._router import ApiError, Request, Response, bad_request, not_found, route
from ._routes_campaigns import get_campaign
from ._shapes import LEAD_CORE, LeadBuilder, build_lead, job, public, refresh_payload
from ._util import iso

EMAIL_RE = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
STATUS_FILTERS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "FILTER_VAL_COMPLETED": lambda ld: ld["status"] == 3,
    "FILTER_VAL_UNSUBSCRIBED": lambda ld: ld["status"] == -2,
    "FILTER_VAL_ACTIVE": lambda ld: ld["status"] == 1,
    "FILTER_VAL_BOUNCED": lambda ld: ld["status"] == -1,
    "FILTER_VAL_SKIPPED": lambda ld: ld["status"] == -3,
    "FILTER_VAL_CONTACTED": lambda ld: ld["timestamp_last_contact"] is not None,
    "FILTER_VAL_NOT_CONTACTED": lambda ld: ld["timestamp_last_contact"] is None,
    "FILTER_VAL_RISKY": lambda ld: ld.get("verification_status") == -2,
    "FILTER_VAL_INVALID": lambda ld: ld.get("verification_status") == -1,
    "FILTER_VAL_VALID": lambda ld: ld.get("verification_status") == 1,
    "FILTER_VAL_IN_SUBSEQUENCE": lambda ld: ld.get("subsequence_id") is not None,
    "FILTER_VAL_OPENED_NO_REPLY": lambda ld: ld["email_open_count"] > 0 and ld["email_reply_count"] == 0,
    "FILTER_VAL_COMPLETED_NO_REPLY": lambda ld: ld["status"] == 3 and ld["email_reply_count"] == 0,
    "FILTER_VAL_NO_OPENS": lambda ld: ld["email_open_count"] == 0,
    "FILTER_VAL_REPLIED": lambda ld: ld["email_reply_count"] > 0,
    "FILTER_VAL_LINK_CLICKED": lambda ld: ld["email_click_count"] > 0,
}
INTEREST_FILTERS = {
    "FILTER_LEAD_INTERESTED": 1,
    "FILTER_LEAD_NOT_INTERESTED": -1,
    "FILTER_LEAD_MEETING_BOOKED": 2,
    "FILTER_LEAD_MEETING_COMPLETED": 3,
    "FILTER_LEAD_CLOSED": 4,
    "FILTER_LEAD_OUT_OF_OFFICE": 0,
    "FILTER_LEAD_WRONG_PERSON": -2,
    "FILTER_LEAD_LOST": -3,
    "FILTER_LEAD_NO_SHOW": -4,
    "FILTER_LEAD_CUSTOM_LABEL_POSITIVE": None,  # no custom labels in the sandbox: matches nothing
    "FILTER_LEAD_CUSTOM_LABEL_NEGATIVE": None,
}


def get_lead(sb: Any, lead_id: str) -> dict[str, Any]:
    lead: dict[str, Any] | None = sb.state.leads.get(lead_id)
    if lead is None:
        raise not_found("Lead not found")
    return lead


def _lead_matches(lead: dict[str, Any], f: dict[str, Any]) -> bool:
    if f.get("in_campaign") is not None and (lead.get("campaign") is not None) != f["in_campaign"]:
        return False
    if f.get("in_list") is not None and (lead.get("list_id") is not None) != f["in_list"]:
        return False
    if f.get("_ids") is not None and lead["id"] not in f["_ids"]:
        return False
    if f.get("_excluded") and lead["id"] in f["_excluded"]:
        return False
    if f.get("_contacts") is not None and (lead.get("email") or "").lower() not in f["_contacts"]:
        return False
    if f.get("search"):
        needle = f["search"].lower()
        if not any(needle in (lead.get(k) or "").lower() for k in ("email", "first_name", "last_name")):
            return False
    if (
        f.get("is_website_visitor") is not None
        and bool(lead.get("is_website_visitor")) != f["is_website_visitor"]
    ):
        return False
    name = f.get("filter")
    if name in STATUS_FILTERS and not STATUS_FILTERS[name](lead):
        return False
    if name in INTEREST_FILTERS:
        wanted = INTEREST_FILTERS[name]
        return wanted is not None and lead.get("lt_interest_status") == wanted
    return True


def select(
    sb: Any, body: dict[str, Any], starting_after: str | None = None
) -> tuple[list[str], dict[str, Any]]:
    """Candidate lead ids (ascending) after the cursor, and the prepared filter."""
    state = sb.state
    name = body.get("filter")
    if name is not None and name not in STATUS_FILTERS and name not in INTEREST_FILTERS:
        # SPEC lists the values only as x-enumDescriptions; SKL-ERR: closed enums fail with 400
        raise bad_request("body/filter must be equal to one of the allowed values")
    f = dict(body)
    f["_ids"] = set(body["ids"]) if body.get("ids") is not None else None
    f["_excluded"] = set(body.get("excluded_ids") or ())
    f["_contacts"] = {c.lower() for c in body["contacts"]} if body.get("contacts") is not None else None
    if f["_contacts"] is not None:
        # Through the email index: a contacts lookup in a campaign of a million leads must not scan it.
        # _lead_matches does not check the campaign or list (the index below does), so filter here.
        ids = sorted({i for c in f["_contacts"] for i in state.ids_with_email(c) if i in state.leads})
        for key, field in (("campaign", "campaign"), ("list_id", "list_id")):
            if body.get(key):
                ids = [i for i in ids if state.leads[i].get(field) == body[key]]
    elif f["_ids"] is not None and body.get("campaign"):
        # Through the id set: a few ids in a campaign of a million leads must not scan it.
        ids = sorted(
            i for i in f["_ids"] if i in state.leads and state.leads[i].get("campaign") == body["campaign"]
        )
    elif body.get("campaign"):
        ids = state.by_campaign.get(body["campaign"], [])
    elif body.get("list_id"):
        ids = state.by_list.get(body["list_id"], [])
    elif f["_ids"] is not None:
        ids = sorted(i for i in f["_ids"] if i in state.leads)
    else:
        ids = state.lead_order
    start = bisect.bisect_right(ids, starting_after) if starting_after else 0
    return ids[start:] if start else ids, f


@route("POST", "/api/v2/leads/add")
def add_leads(sb: Any, req: Request) -> dict[str, Any]:
    state, body = sb.state, req.body
    campaign_id, list_id = body.get("campaign_id"), body.get("list_id")
    if bool(campaign_id) == bool(list_id):
        raise bad_request("You must provide a campaign_id or a list_id, but not both")
    campaign = get_campaign(sb, campaign_id) if campaign_id else None
    counts = dict.fromkeys(
        (
            "in_blocklist",
            "duplicated_leads",
            "skipped_count",
            "invalid_email_count",
            "incomplete_count",
            "duplicate_email_count",
        ),
        0,
    )
    builder = LeadBuilder(state, campaign_id=campaign_id, list_id=list_id)
    items = body["leads"]
    screened = screen_all_new(state, items)
    present = None if screened is None else builder.fields_for_build_new(items)
    if screened is not None and present is not None:  # every lead is new and valid: whole-request passes
        emails, keys, domains = screened
        ids = state.ids.uuid7_many(state.now(), len(items))
        leads = builder.build_new(ids, items, domains, present)
        state.index_new_leads(ids, leads, keys, campaign_id=campaign_id, list_id=list_id)
        # the leads' values, taken from the items (the same values: see build_new)
        columns = (map(dict.get, items, repeat(name)) for name in ("first_name", "last_name", "phone"))
        rows = zip(ids, emails, *columns, range(len(items)), strict=True)
    else:
        accepted = _accept(state, items, counts, campaign_id=campaign_id, list_id=list_id, flags=body)
        ids = state.ids.uuid7_many(state.now(), len(accepted))
        leads = [
            builder.build(lead_id, item, email or None)
            for lead_id, (_, item, email) in zip(ids, accepted, strict=True)
        ]
        state.index_leads(leads)
        items = [item for _, item, _ in accepted]
        rows = zip(
            ids,
            *([lead[name] for lead in leads] for name in ("email", "first_name", "last_name", "phone")),
            [index for index, _, _ in accepted],
            strict=True,
        )
    if campaign is not None:
        enqueue_fresh_leads(campaign, ids)
        customs = list(filter(None, map(dict.get, items, repeat("custom_variables"))))
        if customs:  # the campaign learns each custom variable name, in order of appearance
            learned = dict.fromkeys(chain.from_iterable(customs), True)
            campaign.setdefault("custom_variables", {}).update(learned)
    created = [
        {
            "id": lead_id,
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "index": index,
        }
        for lead_id, email, first, last, phone, index in rows
    ]
    state.plan_remaining = max(0, state.plan_remaining - len(created))
    return {
        "status": "success",
        "total_sent": len(body["leads"]),
        "leads_uploaded": len(created),
        **counts,
        "blocklist_used": body.get("blocklist_id") or state.blocklist_id,
        "remaining_in_plan": state.plan_remaining if campaign_id else None,
        "created_leads": created,
    }


def _accept(
    state: Any,
    items: list[dict[str, Any]],
    counts: dict[str, int],
    *,
    campaign_id: str | None,
    list_id: str | None,
    flags: dict[str, Any],
) -> list[tuple[int, dict[str, Any], str]]:
    """The leads of a bulk add that are created, checked lead by lead: (index in the request, item, trimmed
    email). Each lead refused is counted in `counts`. (:func:`screen_all_new` recognises, in a few passes,
    the requests where this accepts every lead.)"""
    skip_ws = bool(flags.get("skip_if_in_workspace"))  # SPEC: overrides the other skip_if flags
    skip_campaign = not skip_ws and bool(flags.get("skip_if_in_campaign"))
    skip_list = not skip_ws and bool(flags.get("skip_if_in_list"))
    seen: set[str] = set()
    blocked = state.blocked_values()
    by_email = state.by_email
    accepted: list[tuple[int, dict[str, Any], str]] = []
    for index, item in enumerate(items):
        email = (item.get("email") or "").strip()
        if not email and not campaign_id and not (item.get("first_name") or item.get("last_name")):
            counts["incomplete_count"] += 1  # only calculated for lists
            continue
        if (campaign_id and not email) or (email and not EMAIL_RE.match(email)):
            counts["invalid_email_count"] += 1  # invalid format or missing email
            continue
        key = email.lower()
        if key:
            if key in seen:
                counts["duplicate_email_count"] += 1
                continue
            seen.add(key)
            if state.is_blocked(key, blocked):
                counts["in_blocklist"] += 1
                continue
            # Leads accepted earlier in this request have another email (`seen`), so checking the state
            # before any of them is indexed gives the same answers as checking it lead by lead.
            existing = state.leads_with_email(key) if by_email.get(key) else ()
            if any(
                (campaign_id and e.get("campaign") == campaign_id)
                or (list_id and e.get("list_id") == list_id)
                for e in existing
            ):
                counts["duplicated_leads"] += 1
                continue
            if (
                (skip_ws and existing)
                or (skip_campaign and any(e.get("campaign") for e in existing))
                or (skip_list and any(e.get("list_id") for e in existing))
            ):
                counts["skipped_count"] += 1
                continue
        accepted.append((index, item, email))
    return accepted


@route("POST", "/api/v2/leads")
def create_lead(sb: Any, req: Request) -> dict[str, Any]:
    body = req.body or {}
    campaign_id, list_id = body.get("campaign"), body.get("list_id")  # `campaign` here, not `campaign_id`
    email = (body.get("email") or "").strip()
    if campaign_id and list_id:
        raise bad_request("Provide a campaign or a list_id, not both")
    if campaign_id and not email:
        raise bad_request("body must have required property 'email' when campaign is set")
    if not (email or body.get("first_name") or body.get("last_name")):
        raise bad_request("Lead must have at least one of email, first_name or last_name")
    fields = {k: body[k] for k in LEAD_INPUT if k in body}
    if not campaign_id and not list_id:  # a workspace lead in neither a campaign nor a list
        lead = build_lead(sb.state, fields, campaign_id=None, list_id=None)
        sb.state.index_lead(lead)
        return public(lead)
    flags = {
        k: body[k] for k in ("skip_if_in_workspace", "skip_if_in_campaign", "skip_if_in_list") if k in body
    }
    target = {"campaign_id": campaign_id} if campaign_id else {"list_id": list_id}
    result = add_leads(
        sb,
        Request("POST", req.path, req.template, {}, {}, {**target, **flags, "leads": [fields]}, req.headers),
    )
    if not result["created_leads"]:
        raise bad_request("Lead was not created: invalid, blocklisted, duplicated or skipped")
    return public(sb.state.leads[result["created_leads"][0]["id"]])


CAMPAIGN_ONLY = {"campaign", "distinct_contacts", "limit", "starting_after"}
LEAD_INPUT = (*LEAD_CORE, "lt_interest_status", "pl_value_lead", "assigned_to", "custom_variables")


@route("POST", "/api/v2/leads/list")
def list_leads(sb: Any, req: Request) -> dict[str, Any]:
    body = req.body or {}
    limit = body.get("limit") or 100
    if body.get("distinct_contacts") and body.get("campaign") and not set(body) - CAMPAIGN_ONLY:
        # A campaign's email order without other filters: the kept index, not a sort per page.
        keys, first_ids = sb.state.campaign_email_order(body["campaign"])
        start = bisect.bisect_right(keys, (body.get("starting_after") or "").lower())
        page = [sb.state.leads[i] for i in first_ids[start : start + limit]]
        out: dict[str, Any] = {"items": [public(x) for x in page]}
        if len(page) == limit:
            out["next_starting_after"] = page[-1]["email"]
        return out
    if body.get("distinct_contacts"):
        ids, f = select(sb, body)
        by_email: dict[str, dict[str, Any]] = {}
        for lead_id in ids:
            lead = sb.state.leads[lead_id]
            key = (lead.get("email") or "").lower()
            if key and key not in by_email and _lead_matches(lead, f):
                by_email[key] = lead
        keys = sorted(by_email)
        start = bisect.bisect_right(keys, (body.get("starting_after") or "").lower())  # keys are lower-cased
        page = [by_email[k] for k in keys[start : start + limit]]
        out = {"items": [public(x) for x in page]}
        if len(page) == limit:
            out["next_starting_after"] = page[-1]["email"]  # SPEC: the cursor is the email here
        return out
    ids, f = select(sb, body, body.get("starting_after"))
    items = []
    for lead_id in ids:
        lead = sb.state.leads[lead_id]
        if _lead_matches(lead, f):
            items.append(public(lead))
            if len(items) == limit:
                break
    out = {"items": items}
    if len(items) == limit:
        out["next_starting_after"] = items[-1]["id"]  # even if nothing follows (SK-CONV quirk)
    return out


@route("GET", "/api/v2/leads/{id}")
def get_one(sb: Any, req: Request) -> dict[str, Any]:
    return public(get_lead(sb, req.params["id"]))


@route("PATCH", "/api/v2/leads/{id}")
def patch_lead(sb: Any, req: Request) -> dict[str, Any]:
    lead = get_lead(sb, req.params["id"])
    body = dict(req.body)
    custom = body.pop("custom_variables", None)
    interest_given = "lt_interest_status" in body
    interest = body.pop("lt_interest_status", None)
    lead.update(body)
    replace = custom is not None and sb.faults.knobs.get("patch_custom_variables") == "replace"
    refresh_payload(lead, custom, replace=replace)
    lead["timestamp_updated"] = iso(sb.state.now())
    if interest_given and interest != lead.get("lt_interest_status"):
        sb.state.append_event(
            sb.state.now(), "interest", lead["id"], lead.get("campaign"), data={"value": interest}
        )
    return public(lead)


@route("DELETE", "/api/v2/leads/{id}")
def delete_lead(sb: Any, req: Request) -> dict[str, Any]:
    lead = get_lead(sb, req.params["id"])
    sb.state.delete_lead(lead["id"])
    return public(lead)


@route("DELETE", "/api/v2/leads")
def bulk_delete(sb: Any, req: Request) -> dict[str, Any]:
    body = req.body
    scope = {"campaign": body.get("campaign_id")} if body.get("campaign_id") else {"list_id": body["list_id"]}
    if body.get("ids") is not None:
        scope["ids"] = body["ids"]
    ids, f = select(sb, scope)
    doomed = [
        i
        for i in ids
        if _lead_matches(sb.state.leads[i], f)
        and (body.get("status") is None or sb.state.leads[i]["status"] == body["status"])
    ]
    doomed = doomed[: body.get("limit") or len(doomed)]
    for lead_id in doomed:
        sb.state.delete_lead(lead_id)
    return {"count": len(doomed)}


@route("POST", "/api/v2/leads/update-interest-status", status=202)
def update_interest(sb: Any, req: Request) -> dict[str, Any]:
    body = req.body
    leads = [
        ld
        for ld in sb.state.leads_with_email(body["lead_email"])
        if (not body.get("campaign_id") or ld.get("campaign") == body["campaign_id"])
        and (not body.get("list_id") or ld.get("list_id") == body["list_id"])
    ]
    if not leads:
        raise ApiError(400, "Invalid lead email", {"error": "Invalid lead email"})  # SPEC: 400 is `{error}`
    for lead in leads:
        sb.state.append_event(
            sb.state.now(),
            "interest",
            lead["id"],
            lead.get("campaign"),
            data={"value": body["interest_value"]},
        )
    return {"message": "Lead interest status update background job submitted"}


@route("POST", "/api/v2/leads/move")
def move_leads(sb: Any, req: Request) -> dict[str, Any]:
    state, body = sb.state, req.body or {}
    to_campaign, to_list = body.get("to_campaign_id"), body.get("to_list_id")
    if bool(to_campaign) == bool(to_list):
        raise bad_request("Provide exactly one of to_campaign_id or to_list_id")
    if body.get("ids") and not (body.get("campaign") or body.get("list_id")):
        raise bad_request("When using ids you must also provide the source campaign or list_id")
    dest = get_campaign(sb, to_campaign) if to_campaign else None
    ids, f = select(sb, body)
    chosen = [state.leads[i] for i in ids if _lead_matches(state.leads[i], f)][: body.get("limit") or None]
    moved = []
    for lead in chosen:
        email = (lead.get("email") or "").lower()
        if (
            body.get("check_duplicates")
            and email
            and any(
                (to_campaign and e.get("campaign") == to_campaign)
                or (to_list and e.get("list_id") == to_list)
                for e in state.leads_with_email(email)
            )
        ):
            continue
        if body.get("copy_leads"):
            target = build_lead(state, lead, campaign_id=to_campaign, list_id=to_list)
            target["payload"] = dict(lead.get("payload") or {})
        else:
            state.unindex_lead(lead)
            target = lead
            target.update({"campaign": to_campaign, "list_id": to_list, "status": 1})
        if body.get("reset_interest_status"):
            target.pop("lt_interest_status", None)
        state.index_lead(target)
        if dest is not None:
            enqueue_new_lead(dest, target)
        moved.append(target.get("email"))
    record = job(
        state,
        "move-leads",
        to_campaign or to_list,
        "campaign" if to_campaign else "list",
        {"moved_leads": len(moved), "moved_lead_emails": [m for m in moved if m][:10_000]},
    )
    state.jobs[record["id"]] = record
    return record


@route("GET", "/api/v2/background-jobs/{id}")
def get_job(sb: Any, req: Request) -> dict[str, Any] | Response:
    record: dict[str, Any] | None = sb.state.jobs.get(req.params["id"])
    if record is None:
        raise not_found("Background job not found")
    return record
