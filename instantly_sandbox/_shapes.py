"""Build stored entities and shape them as the SPEC's response schemas (`additionalProperties: false`)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from ._events import Event
from ._state import State
from ._util import iso

LEAD_CORE = (
    "email",
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "phone",
    "website",
    "personalization",
)
PAYLOAD_COPIES = {  # SPEC Lead.payload examples carry camelCase copies of the core fields
    "first_name": "firstName",
    "last_name": "lastName",
    "company_name": "companyName",
    "job_title": "jobTitle",
    "website": "website",
    "phone": "phone",
    "personalization": "personalization",
}


class SharedEmpty(dict[str, Any]):
    """The one empty `{}` every new lead starts with as `status_summary` and `status_summary_subseq` (two
    dicts per lead less at a million leads). Nothing changes it in place (events replace the field), and any
    attempt raises TypeError, so the sharing can never leak a change from one lead to another. It encodes,
    compares and copies as `{}`."""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("a lead's shared empty dict: assign a new dict to the field instead")

    __setitem__ = __delitem__ = __ior__ = setdefault = update = pop = popitem = clear = _refuse


EMPTY = SharedEmpty()

# SPEC quirk: these are `type: [null, ...]` with an `enum` that lacks null, so null is invalid; omit instead.
OMIT_WHEN_NULL = {"not_sending_status", "event_type", "lt_interest_status"}


def public(entity: dict[str, Any]) -> dict[str, Any]:
    """Drop the sandbox's internal `_` keys (and nulls the SPEC's enums do not allow)."""
    return {
        k: v
        for k, v in entity.items()
        if not k.startswith("_") and (v is not None or k not in OMIT_WHEN_NULL)
    }


def company_domain(email: str | None, website: str | None) -> str:
    if email and "@" in email:
        return email.rsplit("@", 1)[1].lower()
    if website:
        host = website.split("//", 1)[-1].split("/", 1)[0]
        return host.removeprefix("www.").lower()
    return ""


def refresh_payload(
    lead: dict[str, Any], custom: dict[str, Any] | None = None, *, replace: bool = False
) -> None:
    """Copy the core fields into `payload` and merge `custom` in (or, `replace`, drop the old custom ones)."""
    payload = dict(lead.get("payload") or {})
    if replace:
        payload = {k: v for k, v in payload.items() if k in PAYLOAD_COPIES.values()}
    for field, copy_name in PAYLOAD_COPIES.items():
        if lead.get(field) is not None:
            payload[copy_name] = lead[field]
    if custom:
        payload.update(custom)
    lead["payload"] = payload


def lead_template(state: State, *, campaign_id: str | None, list_id: str | None, now: str) -> dict[str, Any]:
    """Every key of a new lead, in the order the API lists them, with the values shared by one request.

    :class:`LeadBuilder` copies it per lead (a dict copy, then a dozen assignments, instead of a 50-key
    literal); `payload` is replaced with a fresh dict in each copy, the two status summaries start as the
    shared read-only :data:`EMPTY`, and the internal `_firsts` set is made by the lead's first event.
    """
    return {
        "id": None,
        "timestamp_created": now,
        "timestamp_updated": now,
        "organization": state.workspace_id,
        "campaign": campaign_id,
        "list_id": list_id,
        "status": 1,
        **dict.fromkeys(LEAD_CORE),
        "email_open_count": 0,
        "email_reply_count": 0,
        "email_click_count": 0,
        "company_domain": "",
        "status_summary": EMPTY,  # replaced (never changed) by the first `sent` event
        "payload": None,  # fresh per lead
        "status_summary_subseq": EMPTY,
        "last_step_from": None,
        "last_step_id": None,
        "last_step_timestamp_executed": None,
        "email_opened_step": None,
        "email_opened_variant": None,
        "email_replied_step": None,
        "email_replied_variant": None,
        "email_clicked_step": None,
        "email_clicked_variant": None,
        "subsequence_id": None,
        "verification_status": 1,
        "pl_value_lead": None,
        "timestamp_added_subsequence": None,
        "timestamp_last_contact": None,
        "timestamp_last_open": None,
        "timestamp_last_reply": None,
        "timestamp_last_interest_change": None,
        "timestamp_last_click": None,
        "last_contacted_from": None,
        "uploaded_by_user": state.user_id,
        "upload_method": "api",
        "assigned_to": None,
        "is_website_visitor": False,
        "timestamp_last_touch": None,
        "esp_code": 999,
        "esg_code": 0,
        "_next_step": 0,
        "_stopped": False,
    }


_CORE_AFTER_EMAIL = LEAD_CORE[1:]
_COPIED_FIELDS = tuple(PAYLOAD_COPIES.items())


class LeadBuilder:
    """Builds the new leads of one request (one campaign or list, one creation time) from a template."""

    def __init__(self, state: State, *, campaign_id: str | None, list_id: str | None) -> None:
        self._template = lead_template(
            state, campaign_id=campaign_id, list_id=list_id, now=cast(str, iso(state.now()))
        )  # an int in, a str out

    def build(self, lead_id: str, fields: dict[str, Any], email: str | None) -> dict[str, Any]:
        """The stored lead for input `fields` (LEAD_INPUT keys), with `email` as given (already trimmed)."""
        lead = self._template.copy()
        lead["id"] = lead_id
        lead["email"] = email
        get = fields.get
        for key in _CORE_AFTER_EMAIL:
            value = get(key)
            if value is not None:
                lead[key] = value
        lead["company_domain"] = company_domain(email, get("website"))
        if lead_domain_is_google(email):
            lead["esp_code"] = 1
        value = get("pl_value_lead")
        if value is not None:
            lead["pl_value_lead"] = value
        value = get("assigned_to")
        if value is not None:
            lead["assigned_to"] = value
        value = get("lt_interest_status")
        if value is not None:
            lead["lt_interest_status"] = value
        # what refresh_payload(lead, custom) makes of an empty payload, inline
        payload = {copy_name: lead[field] for field, copy_name in _COPIED_FIELDS if lead[field] is not None}
        custom = get("custom_variables")
        if custom:
            payload.update(custom)
        lead["payload"] = payload
        return lead

    @staticmethod
    def fields_for_build_new(items: list[dict[str, Any]]) -> set[str] | None:
        """The keys `items` have, if :meth:`build_new` can build them; None if an item has a key that the
        template does not hold as-is (only `lt_interest_status`): then build them one by one."""
        present: set[str] = set().union(*items)
        return present if present <= _UPDATABLE else None

    def build_new(
        self, ids: list[str], items: list[dict[str, Any]], domains: list[str], present: set[str]
    ) -> list[dict[str, Any]]:
        """:meth:`build` for each of `items`, whose emails are set, trimmed, ASCII and have `domains`
        (lower-cased, after the `@`), and whose keys are `present` (:meth:`fields_for_build_new`).

        The same leads as :meth:`build`: an item's fields go in with one `update` (a None value leaves the
        template's None), and `company_domain` and `esp_code` come from the domain.
        """
        copied = [(field, copy_name) for field, copy_name in _COPIED_FIELDS if field in present]
        has_custom = "custom_variables" in present
        new_lead = self._template.copy
        leads = []
        for lead_id, item, domain in zip(ids, items, domains, strict=True):
            lead = new_lead()
            lead.update(item)
            lead["id"] = lead_id
            lead["company_domain"] = domain
            if domain in _GOOGLE_DOMAINS:
                lead["esp_code"] = 1
            payload = {}  # what refresh_payload makes of an empty payload (a loop: no comprehension frame)
            for field, copy_name in copied:
                value = item.get(field)
                if value is not None:
                    payload[copy_name] = value
            if has_custom:
                custom = lead.pop("custom_variables", None)
                if custom:
                    payload.update(custom)
            lead["payload"] = payload
            leads.append(lead)
        return leads


# An input item's keys that LeadBuilder.build_new can `update` a template copy with (custom_variables is
# taken out again; lt_interest_status is not in the template, so it needs build()).
_UPDATABLE = frozenset((*LEAD_CORE, "pl_value_lead", "assigned_to", "custom_variables"))
_GOOGLE_DOMAINS = frozenset(("gmail.com", "googlemail.com"))  # what lead_domain_is_google matches


def build_lead(
    state: State, fields: dict[str, Any], *, campaign_id: str | None, list_id: str | None
) -> dict[str, Any]:
    """One new lead from input `fields` (see :class:`LeadBuilder` for many)."""
    builder = LeadBuilder(state, campaign_id=campaign_id, list_id=list_id)
    return builder.build(state.new_id(), fields, fields.get("email"))


def lead_domain_is_google(email: str | None) -> bool:
    return email is not None and email.lower().endswith(("@gmail.com", "@googlemail.com"))


def raw_lead(lead: dict[str, Any]) -> dict[str, Any]:
    """`/_sandbox/leads` row: what tests need to check exactly-once pushes and derived counters."""
    return {
        "id": lead["id"],
        "email": lead.get("email"),
        "campaign": lead.get("campaign"),
        "list_id": lead.get("list_id"),
        "status": lead["status"],
        "payload": lead.get("payload"),
        "email_open_count": lead["email_open_count"],
        "email_reply_count": lead["email_reply_count"],
        "email_click_count": lead["email_click_count"],
        "lt_interest_status": lead.get("lt_interest_status"),
        "next_step": lead.get("_next_step"),
    }


def thread_id(ev: Event) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"thread/{ev.lead_id}/{ev.campaign_id}/{ev.step}"))


def email_record(state: State, ev: Event) -> dict[str, Any]:
    """GET /emails item, derived from a sent / replied / auto_reply event."""
    lead = state.leads.get(ev.lead_id or "") or {}
    data = ev.data or {}
    lead_email = lead.get("email") or data.get("lead_email") or ""
    received = ev.kind != "sent"
    text = data.get("text") if received else data.get("body", "")
    host = "mail." + lead_email.rsplit("@", 1)[-1] if received else "sandbox.instantly"
    return {
        "id": ev.id,
        "timestamp_created": iso(ev.ts),
        "timestamp_email": iso(ev.ts),
        "message_id": f"<{ev.id}@{host}>",
        "subject": data.get("subject", ""),
        "from_address_email": lead_email if received else data.get("eaccount"),
        "to_address_email_list": data.get("eaccount", "") if received else lead_email,
        "body": {"text": text or "", "html": f"<div>{text or ''}</div>"},
        "organization_id": state.workspace_id,
        "campaign_id": ev.campaign_id,
        "subsequence_id": None,
        "list_id": None,
        "lead": lead_email or None,
        "lead_id": ev.lead_id,
        "eaccount": data.get("eaccount", ""),
        "ue_type": 2 if received else 1,  # 1 Sent from campaign, 2 Received
        "step": None if ev.step is None else str(ev.step),
        "is_unread": 1 if received else 0,
        "is_auto_reply": 1 if ev.kind == "auto_reply" else 0,
        "i_status": lead.get("lt_interest_status") if received else None,
        "thread_id": thread_id(ev),
        "content_preview": (text or "")[:100],
    }


def job(
    state: State, kind: str, entity_id: str | None, entity_type: str, data: dict[str, Any]
) -> dict[str, Any]:
    now = iso(state.now())
    return {
        "id": state.ids.object_id(state.now()),
        "workspace_id": state.workspace_id,
        "user_id": state.user_id,
        "type": kind,
        "entity_id": entity_id,
        "entity_type": entity_type,
        "data": data,
        "progress": 100,
        "status": "success",  # the sandbox runs jobs synchronously
        "created_at": now,
        "updated_at": now,
    }
