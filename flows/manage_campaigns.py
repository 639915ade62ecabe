"""Campaign flows: create, update, activate, pause, duplicate and delete an Instantly campaign.

Each flow takes a pydantic parameter model and the name of an `InstantlyCredentials` block (`None`: the
INSTANTLY_* environment). `manage_campaigns` runs any of them from one deployment (`action` picks which).

Example:
    ```python
    from flows.manage_campaigns import CampaignRef, pause_campaign

    pause_campaign(CampaignRef(campaign="Q3 founders"), credentials_block="production")
    ```
"""

from __future__ import annotations

from typing import Literal

from prefect import flow
from pydantic import BaseModel, ConfigDict, Field

from blocks import resolve_credentials
from ops_instantly.errors import OpsError
from tasks import campaigns as campaign_tasks
from tasks.campaign_spec import CampaignChanges, CampaignSpec
from tasks.campaigns import CampaignSummary
from tasks.prelaunch import LaunchBlockedError, prelaunch_check, publish_check

__all__ = [
    "CampaignRef",
    "CampaignRequest",
    "DuplicateCampaignParams",
    "UpdateCampaignParams",
    "activate_campaign",
    "create_campaign",
    "delete_campaign",
    "duplicate_campaign",
    "manage_campaigns",
    "pause_campaign",
    "update_campaign",
]


class CampaignRef(BaseModel):
    """Which campaign: its id, or its exact name."""

    model_config = ConfigDict(extra="forbid")

    campaign: str = Field(..., min_length=1, description="Campaign id or exact name.")


class UpdateCampaignParams(CampaignRef):
    """A campaign and the fields to change."""

    changes: CampaignChanges = Field(..., description="Fields to change; unset fields stay as they are.")


class DuplicateCampaignParams(CampaignRef):
    """A campaign to copy, and the copy's name."""

    name: str | None = Field(None, description='Name of the copy (default: "<name> (copy)").')


class CampaignRequest(BaseModel):
    """One campaign action, for the `manage_campaigns` deployment."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["create", "update", "activate", "pause", "duplicate", "delete"]
    campaign: str | None = Field(None, description="Campaign id or name (every action but create).")
    spec: CampaignSpec | None = Field(None, description="The campaign to create (action create).")
    changes: CampaignChanges | None = Field(None, description="Fields to change (action update).")
    name: str | None = Field(None, description="Name of the copy (action duplicate).")
    force: bool = Field(False, description="Activate despite blocking pre-launch problems (action activate).")


@flow(name="create-campaign", log_prints=True)
def create_campaign(spec: CampaignSpec, credentials_block: str | None = None) -> CampaignSummary:
    """Create a campaign (as a Draft: it sends nothing until activated)."""
    credentials = resolve_credentials(credentials_block)
    created = campaign_tasks.create_campaign(credentials, spec)
    print(f"created campaign {created.name!r} ({created.id}), status {created.status_label}")
    return created


@flow(name="update-campaign", log_prints=True)
def update_campaign(params: UpdateCampaignParams, credentials_block: str | None = None) -> CampaignSummary:
    """Change a campaign's name, schedule, steps, daily limit or tracking flags."""
    credentials = resolve_credentials(credentials_block)
    updated = campaign_tasks.update_campaign(credentials, params.campaign, params.changes)
    print(f"updated campaign {updated.name!r} ({updated.id})")
    return updated


@flow(name="activate-campaign", log_prints=True)
def activate_campaign(
    params: CampaignRef, credentials_block: str | None = None, force: bool = False
) -> CampaignSummary:
    """Start or resume sending, once the pre-launch check (`tasks/prelaunch.py`) finds nothing blocking.

    Args:
        params: the campaign.
        credentials_block: an `InstantlyCredentials` block name (None: the environment).
        force: activate even when the check finds blocking problems (they are still logged).

    Raises:
        LaunchBlockedError: the check found blocking problems and `force` is False; nothing was changed.
    """
    credentials = resolve_credentials(credentials_block)
    check = prelaunch_check(credentials, params.campaign)
    publish_check(check)
    if check.blocking and not force:
        raise LaunchBlockedError.from_check(check)
    if check.blocking:
        print(f"activating despite {len(check.blocking)} blocking problem(s) (force)")
    result = campaign_tasks.activate_campaign(credentials, check.campaign_id)
    print(f"campaign {result.name!r} ({result.id}) is {result.status_label}")
    return result


@flow(name="pause-campaign", log_prints=True)
def pause_campaign(params: CampaignRef, credentials_block: str | None = None) -> CampaignSummary:
    """Stop sending until activated again."""
    credentials = resolve_credentials(credentials_block)
    result = campaign_tasks.pause_campaign(credentials, params.campaign)
    print(f"campaign {result.name!r} ({result.id}) is {result.status_label}")
    return result


@flow(name="duplicate-campaign", log_prints=True)
def duplicate_campaign(
    params: DuplicateCampaignParams, credentials_block: str | None = None
) -> CampaignSummary:
    """Copy a campaign (settings and steps; not its leads)."""
    credentials = resolve_credentials(credentials_block)
    copy = campaign_tasks.duplicate_campaign(credentials, params.campaign, params.name)
    print(f"copied {params.campaign!r} to {copy.name!r} ({copy.id})")
    return copy


@flow(name="delete-campaign", log_prints=True)
def delete_campaign(params: CampaignRef, credentials_block: str | None = None) -> CampaignSummary:
    """Delete a campaign (there is no undo)."""
    credentials = resolve_credentials(credentials_block)
    deleted = campaign_tasks.delete_campaign(credentials, params.campaign)
    print(f"deleted campaign {deleted.name!r} ({deleted.id})")
    return deleted


@flow(name="manage-campaigns", log_prints=True)
def manage_campaigns(request: CampaignRequest, credentials_block: str | None = None) -> CampaignSummary:
    """Run one campaign action (one deployment for all of them); each action runs as its own subflow."""
    if request.action == "create":
        if request.spec is None:
            raise OpsError("action create needs spec")
        return create_campaign(request.spec, credentials_block)
    if not request.campaign:
        raise OpsError(f"action {request.action} needs campaign (an id or name)")
    if request.action == "update":
        if request.changes is None:
            raise OpsError("action update needs changes")
        return update_campaign(
            UpdateCampaignParams(campaign=request.campaign, changes=request.changes), credentials_block
        )
    if request.action == "duplicate":
        return duplicate_campaign(
            DuplicateCampaignParams(campaign=request.campaign, name=request.name), credentials_block
        )
    ref = CampaignRef(campaign=request.campaign)
    if request.action == "activate":
        return activate_campaign(ref, credentials_block, force=request.force)
    actions = {"pause": pause_campaign, "delete": delete_campaign}
    return actions[request.action](ref, credentials_block)
