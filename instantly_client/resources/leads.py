"""``client.leads``: SPEC ``/api/v2/leads*``.

Parameter-name trap (notes §2): bulk add and update-interest-status take ``campaign_id``, but
``/leads/list`` and ``/leads/move`` (source) take ``campaign``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pydantic

from .._pagination import Page
from ..errors import InstantlyError, ValidationError
from ..models.job import BackgroundJob
from ..models.lead import BulkAddResult, BulkAddSummary, Lead, LeadIn, LeadPatch
from ._base import Resource, path_id, to_body

__all__ = ["MAX_LEADS_PER_ADD", "Leads"]

MAX_LEADS_PER_ADD = 1000  # SPEC POST /leads/add leads maxItems


def _reject_campaign_id(filters: Mapping[str, Any], endpoint: str) -> None:
    if "campaign_id" in filters:
        raise ValidationError(f"{endpoint} filters by `campaign`, not `campaign_id`")


class Leads(Resource):
    """Leads: bulk add (the push), list (the pull), and per-lead changes."""

    def add(
        self,
        *,
        leads: Sequence[LeadIn | Mapping[str, Any]],
        campaign_id: str | None = None,
        list_id: str | None = None,
        skip_if_in_campaign: bool | None = None,
        skip_if_in_workspace: bool | None = None,
        skip_if_in_list: bool | None = None,
        blocklist_id: str | None = None,
        verify_leads_on_import: bool | None = None,
        assigned_to: str | None = None,
    ) -> BulkAddResult:
        """``POST /leads/add``: add 1-1000 leads to a campaign or a list.

        Not retried once it may have reached the server (no idempotency key): on doubt it raises
        :class:`~instantly_client.OutcomeUnknownError`. Use ``skip_if_in_campaign=True`` (or
        ``skip_if_in_workspace``) so a deliberate resend cannot duplicate, and map results back with
        ``created_leads[].index``.

        Args:
            leads: :class:`LeadIn` objects or dicts with the same fields.
            campaign_id: target campaign (exactly one of ``campaign_id`` / ``list_id``).
            list_id: target lead list.
            skip_if_in_campaign: skip leads already in ANY campaign.
            skip_if_in_workspace: skip leads anywhere in the workspace (overrides the other skip flags).
            skip_if_in_list: skip leads already in ANY list.
            blocklist_id: blocklist to check (default: the workspace's).
            verify_leads_on_import: start a verification job (its id is not returned).
            assigned_to: owner user id for all imported leads.

        Raises:
            ValidationError: before sending, if the batch size or target is wrong or a lead is invalid.
        """
        if (campaign_id is None) == (list_id is None):
            raise ValidationError("leads.add needs exactly one of campaign_id or list_id")
        if isinstance(leads, str | bytes | Mapping):
            raise ValidationError("leads must be a sequence of LeadIn or dicts")
        if not 1 <= len(leads) <= MAX_LEADS_PER_ADD:
            raise ValidationError(
                f"leads.add takes 1 to {MAX_LEADS_PER_ADD} leads per call, got {len(leads)}"
            )
        items = [to_body(LeadIn, lead, what=f"lead at index {i}") for i, lead in enumerate(leads)]
        # A campaign lead without an email is not rejected here: the API skips it and counts it in
        # invalid_email_count, so one bad row does not sink the batch.
        body: dict[str, Any] = {"leads": items}
        options = {
            "campaign_id": campaign_id,
            "list_id": list_id,
            "skip_if_in_campaign": skip_if_in_campaign,
            "skip_if_in_workspace": skip_if_in_workspace,
            "skip_if_in_list": skip_if_in_list,
            "blocklist_id": blocklist_id,
            "verify_leads_on_import": verify_leads_on_import,
            "assigned_to": assigned_to,
        }
        body.update({k: v for k, v in options.items() if v is not None})
        return BulkAddResult.model_validate(self._request("POST", "/leads/add", json=body))

    def add_encoded(
        self,
        *,
        leads: Sequence[str],
        campaign_id: str,
        skip_if_in_campaign: bool | None = None,
        skip_if_in_workspace: bool | None = None,
    ) -> BulkAddSummary:
        """``POST /leads/add`` with leads already encoded as JSON objects (the push's bulk path).

        Same request and outcome rules as :meth:`add`, but the leads are not re-validated here: each item
        must be the JSON text of a valid SPEC lead item (the caller validated and encoded them in bulk).
        The answer (SPEC ``POST /api/v2/leads/add``) comes back as a :class:`BulkAddSummary`: the counters
        of :class:`BulkAddResult`, with ``created_leads`` as validated ``{"index": 0, "id": "..."}`` dicts
        (each created lead's position in ``leads`` and its new id; the fields the request sent are not read
        back), a third of the CPU of 1,000 models per answer.

        Args:
            leads: 1-1000 JSON object texts, e.g. ``'{"email":"a@b.co","first_name":"Ann"}'``.
            campaign_id: target campaign.
            skip_if_in_campaign: skip leads already in ANY campaign.
            skip_if_in_workspace: skip leads anywhere in the workspace (overrides the other skip flags).

        Raises:
            ValidationError: before sending, if the batch size or campaign id is wrong.
        """
        if not campaign_id:
            raise ValidationError("leads.add_encoded needs a campaign_id")
        if isinstance(leads, str | bytes) or not 1 <= len(leads) <= MAX_LEADS_PER_ADD:
            raise ValidationError(f"leads.add_encoded takes 1 to {MAX_LEADS_PER_ADD} encoded leads per call")
        options = {
            "campaign_id": campaign_id,
            "skip_if_in_campaign": skip_if_in_campaign,
            "skip_if_in_workspace": skip_if_in_workspace,
        }
        tail = json.dumps({k: v for k, v in options.items() if v is not None}, separators=(",", ":"))
        # Only the encoded bytes stay alive while the request is in flight, not the text as well (200 KB each).
        body = "".join(('{"leads":[', ",".join(leads), "],", tail[1:])).encode("utf-8")
        # Parsed and validated in one step by pydantic-core, straight into the dicts of BulkAddSummary.
        answer = self._request("POST", "/leads/add", content=body, raw=True)
        if not answer:
            return BulkAddSummary()
        try:
            return BulkAddSummary.model_validate_json(answer)
        except pydantic.ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                raise InstantlyError(
                    "HTTP 200 response is not JSON", status_code=200, method="POST", path="/leads/add"
                ) from exc
            raise

    def pages(
        self,
        *,
        campaign: str | None = None,
        list_id: str | None = None,
        ids: Sequence[str] | None = None,
        contacts: Sequence[str] | None = None,
        filter: str | None = None,
        search: str | None = None,
        in_campaign: bool | None = None,
        in_list: bool | None = None,
        excluded_ids: Sequence[str] | None = None,
        distinct_contacts: bool | None = None,
        limit: int = 100,
        starting_after: str | None = None,
        **more_filters: Any,
    ) -> Iterator[Page[Lead]]:
        """Pages of ``POST /leads/list`` (filters, ``limit`` and cursor all in the JSON body).

        Args:
            campaign: campaign id (named ``campaign`` here, not ``campaign_id``).
            list_id: lead list id.
            ids: only these lead ids.
            contacts: only these emails.
            filter: a ``FILTER_VAL_*`` / ``FILTER_LEAD_*`` value.
            search: first name, last name or email.
            in_campaign: only leads in some campaign (or not).
            in_list: only leads in some list (or not).
            excluded_ids: leave out these lead ids.
            distinct_contacts: one row per contact; the cursor becomes an email.
            limit: page size, 1-100.
            starting_after: resume after this cursor (a page's ``next_starting_after``).
            **more_filters: any other body field of ``/leads/list`` (e.g. ``queries``, ``esg_code``).
        """
        _reject_campaign_id(more_filters, "leads.list")
        filters: dict[str, Any] = {
            "campaign": campaign,
            "list_id": list_id,
            "ids": list(ids) if ids is not None else None,
            "contacts": list(contacts) if contacts is not None else None,
            "filter": filter,
            "search": search,
            "in_campaign": in_campaign,
            "in_list": in_list,
            "excluded_ids": list(excluded_ids) if excluded_ids is not None else None,
            "distinct_contacts": distinct_contacts,
            **more_filters,
        }
        return self._pages(
            "POST",
            "/leads/list",
            Lead,
            cursor_in="body",
            filters=filters,
            limit=limit,
            starting_after=starting_after,
        )

    def list(self, **filters: Any) -> Iterator[Lead]:
        """Every lead matching the filters; takes the same keyword arguments as :meth:`pages`."""
        return self._items(self.pages(**filters))

    def get(self, lead_id: str) -> Lead:
        """``GET /leads/{id}``."""
        return Lead.model_validate(self._request("GET", f"/leads/{path_id(lead_id)}"))

    def update(self, lead_id: str, changes: LeadPatch | Mapping[str, Any]) -> Lead:
        """``PATCH /leads/{id}``: change lead fields (not email, campaign or list)."""
        body = to_body(LeadPatch, changes, what="lead changes")
        if not body:
            raise ValidationError("lead changes are empty: PATCH needs at least one field")
        return Lead.model_validate(self._request("PATCH", f"/leads/{path_id(lead_id)}", json=body))

    def delete(self, lead_id: str) -> Lead:
        """``DELETE /leads/{id}`` (no body). Returns the deleted lead."""
        return Lead.model_validate(self._request("DELETE", f"/leads/{path_id(lead_id)}"))

    def update_interest_status(
        self,
        *,
        lead_email: str,
        interest_value: int | None,
        campaign_id: str | None = None,
        list_id: str | None = None,
        ai_interest_value: int | None = None,
        disable_auto_interest: bool | None = None,
    ) -> dict[str, Any]:
        """``POST /leads/update-interest-status``: accepted (202) and applied later.

        Args:
            lead_email: the lead's email.
            interest_value: an :class:`~instantly_client.InterestStatus` code; ``None`` resets to "Lead".
            campaign_id: limit to the lead in this campaign.
            list_id: limit to the lead in this list.
            ai_interest_value: AI interest value to store.
            disable_auto_interest: stop automatic interest updates for the lead.

        Returns:
            The response body (``{"message": ...}``).
        """
        body: dict[str, Any] = {"lead_email": lead_email, "interest_value": interest_value}
        optional = {
            "campaign_id": campaign_id,
            "list_id": list_id,
            "ai_interest_value": ai_interest_value,
            "disable_auto_interest": disable_auto_interest,
        }
        body.update({k: v for k, v in optional.items() if v is not None})
        result = self._request("POST", "/leads/update-interest-status", json=body)
        return result if isinstance(result, dict) else {}

    def move(
        self,
        *,
        to_campaign_id: str | None = None,
        to_list_id: str | None = None,
        campaign: str | None = None,
        list_id: str | None = None,
        ids: Sequence[str] | None = None,
        copy_leads: bool | None = None,
        check_duplicates: bool | None = None,
        **more: Any,
    ) -> BackgroundJob:
        """``POST /leads/move``: move (or copy) leads; returns the job to poll with ``client.jobs.wait``.

        Args:
            to_campaign_id: destination campaign (exactly one of ``to_campaign_id`` / ``to_list_id``).
            to_list_id: destination list.
            campaign: source campaign (named ``campaign``, like ``/leads/list``).
            list_id: source list.
            ids: only these lead ids (then a source ``campaign`` or ``list_id`` is required).
            copy_leads: copy instead of move.
            check_duplicates: skip leads already in the destination.
            **more: any other body field of ``/leads/move`` (e.g. ``filter``, ``search``, ``limit``).
        """
        _reject_campaign_id(more, "leads.move")
        if (to_campaign_id is None) == (to_list_id is None):
            raise ValidationError("leads.move needs exactly one of to_campaign_id or to_list_id")
        if ids is not None and campaign is None and list_id is None:
            raise ValidationError("leads.move with ids also needs the source campaign or list_id")
        fields: dict[str, Any] = {
            "to_campaign_id": to_campaign_id,
            "to_list_id": to_list_id,
            "campaign": campaign,
            "list_id": list_id,
            "ids": list(ids) if ids is not None else None,
            "copy_leads": copy_leads,
            "check_duplicates": check_duplicates,
            **more,
        }
        body = {k: v for k, v in fields.items() if v is not None}
        return BackgroundJob.model_validate(self._request("POST", "/leads/move", json=body))
