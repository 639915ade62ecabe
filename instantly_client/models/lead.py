"""Leads: the read model, the bulk-add write model and its result, and the PATCH model."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, field_validator
from typing_extensions import TypedDict

from ._base import ReadModel, WriteModel
from .enums import InterestStatus, LeadStatus

__all__ = [
    "BulkAddResult",
    "BulkAddSummary",
    "CreatedLead",
    "CreatedLeadRef",
    "CustomValue",
    "Lead",
    "LeadIn",
    "LeadPatch",
]

CustomValue = str | int | float | bool | None
"""A custom variable value: the API rejects objects and arrays (SPEC ``/leads/add`` custom_variables)."""


def check_custom_variables(value: Any) -> Any:
    """Reject non-scalar custom variable values with a message naming the key."""
    if value is None:
        return value
    if not isinstance(value, dict):
        raise ValueError(f"custom_variables must be an object of key -> value, not {type(value).__name__}")
    for key, item in value.items():
        if not isinstance(key, str):
            raise ValueError(f"custom_variables keys must be strings, got {key!r}")
        if item is not None and not isinstance(item, str | int | float | bool):
            raise ValueError(
                f"custom_variables[{key!r}] is a {type(item).__name__}; values must be a string, number, "
                "boolean or null (the API rejects objects and arrays)"
            )
    return value


class Lead(ReadModel):
    """A lead as returned by the API (SPEC ``components.schemas.Lead``)."""

    id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    company_domain: str | None = None
    job_title: str | None = None
    phone: str | None = None
    website: str | None = None
    personalization: str | None = None
    organization: str | None = None
    campaign: str | None = None
    list_id: str | None = None
    status: int | None = None
    lt_interest_status: int | None = None
    verification_status: int | None = None
    enrichment_status: int | None = None
    esp_code: int | None = None
    esg_code: int | None = None
    pl_value_lead: str | None = None
    assigned_to: str | None = None
    uploaded_by_user: str | None = None
    upload_method: str | None = None
    is_website_visitor: bool | None = None
    payload: dict[str, Any] | None = None
    email_open_count: int | None = None
    email_reply_count: int | None = None
    email_click_count: int | None = None
    email_opened_step: int | None = None
    email_opened_variant: int | None = None
    email_replied_step: int | None = None
    email_replied_variant: int | None = None
    email_clicked_step: int | None = None
    email_clicked_variant: int | None = None
    status_summary: dict[str, Any] | None = None
    status_summary_subseq: dict[str, Any] | None = None
    subsequence_id: str | None = None
    last_step_from: str | None = None
    last_step_id: str | None = None
    last_step_timestamp_executed: str | None = None
    last_contacted_from: str | None = None
    timestamp_created: str | None = None
    timestamp_updated: str | None = None
    timestamp_last_contact: str | None = None
    timestamp_last_open: str | None = None
    timestamp_last_reply: str | None = None
    timestamp_last_click: str | None = None
    timestamp_last_interest_change: str | None = None
    timestamp_last_touch: str | None = None
    timestamp_added_subsequence: str | None = None

    @property
    def status_label(self) -> str | None:
        return LeadStatus.label_for(self.status)

    @property
    def interest_label(self) -> str | None:
        return InterestStatus.label_for(self.lt_interest_status)


class _LeadFields(WriteModel):
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    job_title: str | None = None
    phone: str | None = None
    website: str | None = None
    personalization: str | None = None
    lt_interest_status: int | None = None
    pl_value_lead: str | None = None
    assigned_to: str | None = None
    custom_variables: dict[str, CustomValue] | None = None

    @field_validator("custom_variables", mode="before")
    @classmethod
    def _scalar_custom_variables(cls, value: Any) -> Any:
        return check_custom_variables(value)


class LeadIn(_LeadFields):
    """One lead for ``POST /leads/add``: exactly the fields the SPEC's lead item accepts.

    Put anything else under ``custom_variables`` (scalar values only).
    """

    email: str | None = None


class LeadPatch(_LeadFields):
    """Fields for ``PATCH /leads/{id}`` (email, campaign and list cannot be changed)."""


class CreatedLead(ReadModel):
    """One created lead in a bulk-add result; ``index`` is its position in the request's ``leads``."""

    index: int | None = None
    id: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None


class CreatedLeadRef(TypedDict, total=False):
    """Which lead a bulk add created for one item of the request: ``index`` (its position in the request's
    ``leads``) and ``id`` (the new lead's id), from SPEC ``POST /api/v2/leads/add`` ``created_leads[]``.

    A plain dict: ``index`` is validated as an int and ``id`` as a string (either may be null or absent).
    The item's other fields (``email``, ``first_name``, ``last_name``, ``phone``: what the request sent)
    are skipped unread, as is any key the API adds later; :class:`CreatedLead` has them all. Building 1,000
    of these per answer costs about a third of 1,000 models.
    """

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]

    index: int | None
    id: str | None


class _BulkAddCounts(ReadModel):
    """The counters of a ``POST /leads/add`` answer (there is no ``created_count``; notes C1)."""

    status: str | None = None
    total_sent: int | None = None
    leads_uploaded: int | None = None
    in_blocklist: int | None = None
    blocklist_used: str | None = None
    duplicated_leads: int | None = None
    skipped_count: int | None = None
    invalid_email_count: int | None = None
    incomplete_count: int | None = None
    duplicate_email_count: int | None = None
    remaining_in_plan: int | None = None


class BulkAddResult(_BulkAddCounts):
    """The summary returned by ``POST /leads/add`` (there is no ``created_count``; notes C1)."""

    created_leads: list[CreatedLead] = Field(default_factory=list)


class BulkAddSummary(_BulkAddCounts):
    """The answer of ``POST /leads/add`` (SPEC ``POST /api/v2/leads/add``) on the bulk path
    (:meth:`~instantly_client.resources.leads.Leads.add_encoded`): the same counters as
    :class:`BulkAddResult`, unknown top-level fields kept, and ``created_leads`` as
    :class:`CreatedLeadRef` dicts (``lead["index"]``, ``lead["id"]``) instead of models.
    """

    # Only keys go through pydantic-core's string cache: an answer's values (lead ids, emails, names) are
    # new in every answer, and looking each up in the cache first cost about a quarter of the parse.
    model_config = ConfigDict(extra="allow", populate_by_name=True, cache_strings="keys")

    created_leads: list[CreatedLeadRef] = Field(default_factory=list)
