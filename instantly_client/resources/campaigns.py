"""``client.campaigns``: SPEC ``/api/v2/campaigns*``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from .._pagination import Page
from ..errors import AmbiguousNameError, NotFoundError, ValidationError
from ..models.campaign import Campaign, CampaignIn, CampaignPatch
from ._base import Resource, path_id, to_body

__all__ = ["Campaigns"]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class Campaigns(Resource):
    """Campaigns: list, read, create, change, start and stop."""

    def pages(
        self,
        *,
        search: str | None = None,
        status: int | None = None,
        exclude_status: int | None = None,
        tag_ids: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Iterator[Page[Campaign]]:
        """Pages of ``GET /campaigns`` (cursor in the query).

        Args:
            search: match on campaign name.
            status: only this :class:`~instantly_client.CampaignStatus` code.
            exclude_status: leave out this status code.
            tag_ids: comma-separated tag ids.
            limit: page size, 1-100.
            starting_after: resume after this cursor.
        """
        filters = {"search": search, "status": status, "exclude_status": exclude_status, "tag_ids": tag_ids}
        return self._pages(
            "GET",
            "/campaigns",
            Campaign,
            cursor_in="query",
            filters=filters,
            limit=limit,
            starting_after=starting_after,
        )

    def list(
        self,
        *,
        search: str | None = None,
        status: int | None = None,
        exclude_status: int | None = None,
        tag_ids: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
    ) -> Iterator[Campaign]:
        """Every campaign matching the filters (fetches pages lazily); arguments as in :meth:`pages`."""
        return self._items(
            self.pages(
                search=search,
                status=status,
                exclude_status=exclude_status,
                tag_ids=tag_ids,
                limit=limit,
                starting_after=starting_after,
            )
        )

    def get(self, campaign_id: str) -> Campaign:
        """``GET /campaigns/{id}``."""
        return Campaign.model_validate(self._request("GET", f"/campaigns/{path_id(campaign_id)}"))

    def create(self, campaign: CampaignIn | Mapping[str, Any]) -> Campaign:
        """``POST /campaigns``: creates a Draft (status 0); call :meth:`activate` to start sending."""
        body = to_body(CampaignIn, campaign, what="campaign")
        return Campaign.model_validate(self._request("POST", "/campaigns", json=body))

    def update(self, campaign_id: str, changes: CampaignPatch | Mapping[str, Any]) -> Campaign:
        """``PATCH /campaigns/{id}``. Note ``email_list`` replaces the sender list."""
        body = to_body(CampaignPatch, changes, what="campaign changes")
        if not body:
            raise ValidationError("campaign changes are empty: PATCH needs at least one field")
        return Campaign.model_validate(
            self._request("PATCH", f"/campaigns/{path_id(campaign_id)}", json=body)
        )

    def delete(self, campaign_id: str) -> Campaign:
        """``DELETE /campaigns/{id}`` (no body). Returns the deleted campaign."""
        return Campaign.model_validate(self._request("DELETE", f"/campaigns/{path_id(campaign_id)}"))

    def activate(self, campaign_id: str) -> Campaign:
        """``POST /campaigns/{id}/activate`` (no body): start or resume sending."""
        return Campaign.model_validate(self._request("POST", f"/campaigns/{path_id(campaign_id)}/activate"))

    def pause(self, campaign_id: str) -> Campaign:
        """``POST /campaigns/{id}/pause`` (no body)."""
        return Campaign.model_validate(self._request("POST", f"/campaigns/{path_id(campaign_id)}/pause"))

    def duplicate(self, campaign_id: str, name: str | None = None) -> Campaign:
        """``POST /campaigns/{id}/duplicate``; without ``name`` the API names it "<name> (copy)"."""
        body = {"name": name} if name is not None else None
        return Campaign.model_validate(
            self._request("POST", f"/campaigns/{path_id(campaign_id)}/duplicate", json=body)
        )

    def find(self, id_or_name: str) -> Campaign:
        """The campaign with this id, or else with exactly this name.

        Raises:
            NotFoundError: no campaign has this id or name (``near_names``: what the name search found).
            AmbiguousNameError: several campaigns have this name.
        """
        if _is_uuid(id_or_name):
            try:
                return self.get(id_or_name)
            except NotFoundError as exc:
                raise NotFoundError(
                    f"campaign {id_or_name!r} not found",
                    status_code=exc.status_code,
                    server_message=exc.server_message,
                ) from exc
        listed = list(self.list(search=id_or_name))
        matches = [c for c in listed if c.name == id_or_name]
        if not matches:
            # Names match exactly; what the (case-insensitive) search found instead travels with the error.
            # The search matches substrings, so a misspelt name ('Q3 founder outreach') finds nothing: then
            # the names of the first page of campaigns travel instead, for a "did you mean".
            first = None if listed else next(self.pages(limit=100), None)
            near = listed or (first.items if first else [])
            raise NotFoundError(
                f"no campaign named {id_or_name!r}",
                hint="check the name, or pass the campaign id",
                near_names=tuple(c.name for c in near if c.name),
            )
        if len(matches) > 1:
            ids = ", ".join(str(c.id) for c in matches)
            raise AmbiguousNameError(f"{len(matches)} campaigns are named {id_or_name!r} (ids: {ids})")
        return matches[0]
