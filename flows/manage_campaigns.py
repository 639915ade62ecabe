"""Campaign flows: create, update, activate, pause, duplicate and delete an Instantly campaign.

Each flow takes flat parameters and an `InstantlyCredentials` block (`None`: the INSTANTLY_* environment).
`manage_campaigns` runs any of them from one deployment (`action` picks which).

Example:
    ```python
    from blocks import InstantlyCredentials
    from flows.manage_campaigns import pause_campaign

    pause_campaign("Q3 founders", credentials=InstantlyCredentials.load("production"))
    ```
"""

from __future__ import annotations

from typing import Literal

from prefect import flow
from pydantic.json_schema import SkipJsonSchema

from blocks import InstantlyCredentials, resolve_credentials
from ops_core.errors import OpsError
from ops_core.text import quoted
from tasks import campaigns as campaign_tasks
from tasks.campaign_spec import CampaignChanges, CampaignSpec
from tasks.campaigns import CampaignSummary, prelaunch_check, publish_check
from tasks.prelaunch import LaunchBlockedError

__all__ = [
    "activate_campaign",
    "create_campaign",
    "delete_campaign",
    "duplicate_campaign",
    "manage_campaigns",
    "pause_campaign",
    "update_campaign",
]


Credentials = InstantlyCredentials | SkipJsonSchema[None]


@flow(name="create-campaign", log_prints=True)
def create_campaign(spec: CampaignSpec, credentials: Credentials = None) -> CampaignSummary:
    """Create a campaign (as a Draft: it sends nothing until activated).

    Args:
        spec: The campaign: its name, sending schedule and email steps.
        credentials: The Instantly workspace. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
    """
    created = campaign_tasks.create_campaign(resolve_credentials(credentials), spec)
    print(f"created campaign {quoted(created.name)} ({created.id}), status {created.status_label}")
    return created


@flow(name="update-campaign", log_prints=True)
def update_campaign(
    campaign: str, changes: CampaignChanges, credentials: Credentials = None
) -> CampaignSummary:
    """Change a campaign's name, schedule, steps, daily limit or tracking flags.

    Args:
        campaign: The campaign's name or id.
        changes: The fields to change; the others stay as they are.
        credentials: The Instantly workspace. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
    """
    updated = campaign_tasks.update_campaign(resolve_credentials(credentials), campaign, changes)
    print(f"updated campaign {quoted(updated.name)} ({updated.id})")
    return updated


@flow(name="activate-campaign", log_prints=True)
def activate_campaign(campaign: str, credentials: Credentials = None, force: bool = False) -> CampaignSummary:
    """Start or resume sending, once the pre-launch check (`tasks/prelaunch.py`) finds nothing blocking.

    Args:
        campaign: The campaign's name or id.
        credentials: The Instantly workspace. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
        force: Activate even when the check finds blocking problems (they are still logged).

    Raises:
        LaunchBlockedError: the check found blocking problems and `force` is False; nothing was changed.
    """
    creds = resolve_credentials(credentials)
    check = prelaunch_check(creds, campaign)
    publish_check(check)
    if check.blocking and not force:
        raise LaunchBlockedError.from_check(check)
    if check.blocking:
        print(f"activating despite {len(check.blocking)} blocking problem(s) (force)")
    result = campaign_tasks.activate_campaign(creds, check.campaign_id)
    print(f"campaign {quoted(result.name)} ({result.id}) is {result.status_label}")
    return result


@flow(name="pause-campaign", log_prints=True)
def pause_campaign(campaign: str, credentials: Credentials = None) -> CampaignSummary:
    """Stop sending until activated again.

    Args:
        campaign: The campaign's name or id.
        credentials: The Instantly workspace. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
    """
    result = campaign_tasks.pause_campaign(resolve_credentials(credentials), campaign)
    print(f"campaign {quoted(result.name)} ({result.id}) is {result.status_label}")
    return result


@flow(name="duplicate-campaign", log_prints=True)
def duplicate_campaign(campaign: str, name: str = "", credentials: Credentials = None) -> CampaignSummary:
    """Copy a campaign (settings and steps; not its leads).

    Args:
        campaign: The campaign to copy, by name or id.
        name: The copy's name. Empty: the original's name with " (copy)".
        credentials: The Instantly workspace. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
    """
    copy = campaign_tasks.duplicate_campaign(resolve_credentials(credentials), campaign, name or None)
    print(f"copied {quoted(campaign)} to {quoted(copy.name)} ({copy.id})")
    return copy


@flow(name="delete-campaign", log_prints=True)
def delete_campaign(campaign: str, credentials: Credentials = None) -> CampaignSummary:
    """Delete a campaign (there is no undo).

    Args:
        campaign: The campaign's name or id.
        credentials: The Instantly workspace. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.
    """
    deleted = campaign_tasks.delete_campaign(resolve_credentials(credentials), campaign)
    print(f"deleted campaign {quoted(deleted.name)} ({deleted.id})")
    return deleted


@flow(name="manage-campaigns", log_prints=True)
def manage_campaigns(
    action: Literal["create", "update", "activate", "pause", "duplicate", "delete"],
    campaign: str = "",
    spec: CampaignSpec | SkipJsonSchema[None] = None,
    changes: CampaignChanges | SkipJsonSchema[None] = None,
    name: str = "",
    force: bool = False,
    credentials: Credentials = None,
) -> CampaignSummary:
    """Run one campaign action (one deployment for all of them); each action runs as its own subflow.

    Args:
        action: What to do.
        campaign: The campaign's name or id (every action but create).
        spec: The campaign to create (create).
        changes: The fields to change (update).
        name: The copy's name (duplicate; empty: the original's name with " (copy)").
        force: Activate despite blocking pre-launch problems (activate).
        credentials: The Instantly workspace. Empty: the block named by OPS_CREDENTIALS_BLOCK on the worker, else its INSTANTLY_API_KEY, else the block named default.

    Raises:
        OpsError: the action's input is missing.
    """
    if action == "create":
        if spec is None:
            raise OpsError("action create needs spec")
        return create_campaign(spec, credentials)
    if not campaign:
        raise OpsError(f"action {action} needs campaign (an id or name)")
    if action == "update":
        if changes is None:
            raise OpsError("action update needs changes")
        return update_campaign(campaign, changes, credentials)
    if action == "duplicate":
        return duplicate_campaign(campaign, name, credentials)
    if action == "activate":
        return activate_campaign(campaign, credentials, force=force)
    actions = {"pause": pause_campaign, "delete": delete_campaign}
    return actions[action](campaign, credentials)
