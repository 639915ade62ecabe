"""Campaign tasks: create, change, start, stop, copy, delete and check campaigns through the client.

Each task takes the workspace's `InstantlyCredentials` block and opens its own client (clients of one
workspace share the process's rate limiter). The spec-to-body logic is pure: `tasks/campaign_spec.py`; what
the commands print about a campaign, read without Prefect, is `tasks/campaign_summary.py`.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from blocks import InstantlyCredentials
from instantly_client import InstantlyClient
from instantly_client.models import Campaign
from ops_core.errors import OpsError
from ops_core.interface import option
from ops_core.text import quoted
from tasks.campaign_spec import CampaignChanges, CampaignSpec, create_body, patch_body
from tasks.campaign_summary import (
    CampaignCheck,
    CampaignSummary,
    already,
    find_campaign,
    read_campaign_check,
    summarize,
)
from tasks.prelaunch import LaunchCheck, read_launch_check, render_check

__all__ = [
    "CampaignCheck",
    "CampaignSummary",
    "activate_campaign",
    "check_campaign",
    "create_campaign",
    "delete_campaign",
    "duplicate_campaign",
    "fetch_campaign",
    "list_campaigns",
    "pause_campaign",
    "prelaunch_check",
    "publish_check",
    "refuse_taken_name",
    "summarize",
    "update_campaign",
]


# Write tasks are not retried here: the client retries what is safe (writes only on 429), and a write whose
# outcome is unknown must be reconciled by reading back, not resent (docs/ARCHITECTURE.md).
_TASK: dict[str, Any] = {"cache_policy": NO_CACHE, "retries": 0}


@task(name="list-campaigns", **_TASK)
def list_campaigns(
    credentials: InstantlyCredentials, search: str | None = None, status: int | None = None
) -> list[CampaignSummary]:
    """Every campaign of the workspace (optionally filtered by name search or status code)."""
    with credentials.get_client() as client:
        return [summarize(c) for c in client.campaigns.list(search=search, status=status)]


@task(name="fetch-campaign", **_TASK)
def fetch_campaign(credentials: InstantlyCredentials, id_or_name: str) -> Campaign:
    """The campaign with this id or exact name (NotFoundError / AmbiguousNameError otherwise)."""
    with credentials.get_client() as client:
        return find_campaign(client, id_or_name)


@task(name="check-campaign", **_TASK)
def check_campaign(credentials: InstantlyCredentials, id_or_name: str) -> CampaignCheck:
    """Confirm a campaign exists and read its counts (leads, contacted, replies): `read_campaign_check`."""
    with credentials.get_client() as client:
        return read_campaign_check(client, id_or_name)


@task(name="create-campaign", **_TASK)
def create_campaign(credentials: InstantlyCredentials, spec: CampaignSpec) -> CampaignSummary:
    """Create a campaign from a spec; the API makes it a Draft (nothing is sent until it is activated).

    Raises:
        OpsError: a campaign with this name already exists (a second one would make the name ambiguous for
            every command that takes a campaign name).
    """
    body = create_body(spec)  # checked before any request: timezone, days, times, steps
    with credentials.get_client() as client:
        refuse_taken_name(
            client,
            spec.name,
            hint=f"use `ops-instantly campaigns update {quoted(spec.name)} --file FILE` to change it, "
            "or give the new campaign another name",
        )
        return summarize(client.campaigns.create(body))


def refuse_taken_name(client: InstantlyClient, name: str, *, hint: str, renaming: str | None = None) -> None:
    """Refuse a name another campaign already has: Instantly allows it, but then every command that takes the
    campaign's name fails with "2 campaigns are named ..." (`campaigns.find`). Also a name that differs from
    one only in case or spaces (`Q3 Founders` beside `Q3 founders `): the two look the same in lists and
    reports, and the commands would take only the one typed exactly.

    Args:
        renaming: the id of the campaign being renamed (it may change the case or spacing of its own name).

    Raises:
        OpsError: a campaign with this name, or one differing only in case or spaces, exists.
    """
    key = _look_alike(name)
    # SPEC GET /campaigns `search`: "Search by campaign name" (the sandbox: a case-insensitive substring)
    listed = client.campaigns.list(search=" ".join(name.split()))
    # A campaign without a name (the API may list one: `name` is optional) takes no name.
    found = [
        (c.name, c)
        for c in listed
        if c.name is not None and _look_alike(c.name) == key and str(c.id) != renaming
    ]
    exact = [c for taken, c in found if taken == name]
    if exact:
        raise OpsError(f"A campaign named {quoted(name)} already exists (id {exact[0].id}).", hint=hint)
    if found:
        taken, other = found[0]
        raise OpsError(
            f"A campaign named {quoted(taken)} already exists (id {other.id}); "
            f"{quoted(name)} differs from it only in case or spaces.",
            hint="give it a name that differs in more than case or spaces, or use that campaign",
        )


def _look_alike(name: str) -> str:
    """`name` as it reads in a list: case folded, runs of whitespace as one space, none at the ends (pure)."""
    return " ".join(name.split()).casefold()


@task(name="update-campaign", **_TASK)
def update_campaign(
    credentials: InstantlyCredentials, id_or_name: str, changes: CampaignChanges
) -> CampaignSummary:
    """Change a campaign's fields; schedule changes are merged into its current schedule.

    Raises:
        OpsError: a rename to a name another campaign has (`refuse_taken_name`); nothing is changed.
    """
    with credentials.get_client() as client:
        campaign = find_campaign(client, id_or_name)
        body = patch_body(changes, campaign.campaign_schedule)
        if changes.name and changes.name != campaign.name:
            refuse_taken_name(
                client,
                changes.name,
                hint="choose another name, or rename or delete that one first",
                renaming=str(campaign.id),
            )
        return summarize(client.campaigns.update(str(campaign.id), body))


@task(name="activate-campaign", **_TASK)
def activate_campaign(credentials: InstantlyCredentials, id_or_name: str) -> CampaignSummary:
    """Start (or resume) sending; an Active campaign is returned as it is, with no request."""
    with credentials.get_client() as client:
        campaign = find_campaign(client, id_or_name)
        if already(campaign.status, "activate"):
            return summarize(campaign)
        return summarize(client.campaigns.activate(str(campaign.id)))


@task(name="pause-campaign", **_TASK)
def pause_campaign(credentials: InstantlyCredentials, id_or_name: str) -> CampaignSummary:
    """Stop sending until activated again; a Paused campaign is returned as it is, with no request."""
    with credentials.get_client() as client:
        campaign = find_campaign(client, id_or_name)
        if already(campaign.status, "pause"):
            return summarize(campaign)
        return summarize(client.campaigns.pause(str(campaign.id)))


@task(name="duplicate-campaign", **_TASK)
def duplicate_campaign(
    credentials: InstantlyCredentials, id_or_name: str, name: str | None = None
) -> CampaignSummary:
    """Copy a campaign (the API names the copy "<name> (copy)" unless `name` is given).

    Raises:
        OpsError: a campaign already has the copy's name (`refuse_taken_name`); nothing is copied.
    """
    with credentials.get_client() as client:
        campaign = find_campaign(client, id_or_name)
        refuse_taken_name(
            client,
            name or f"{campaign.name} (copy)",  # SPEC POST /campaigns/{id}/duplicate: default "NAME (copy)"
            hint=f"give the copy another name with {option('name')}",
        )
        return summarize(client.campaigns.duplicate(str(campaign.id), name=name))


@task(name="delete-campaign", **_TASK)
def delete_campaign(credentials: InstantlyCredentials, id_or_name: str) -> CampaignSummary:
    """Delete a campaign. Returns what it was."""
    with credentials.get_client() as client:
        campaign = find_campaign(client, id_or_name)
        deleted = client.campaigns.delete(str(campaign.id))
    # The API returns the deleted campaign; fall back to what we read if its body is sparse.
    return summarize(deleted if deleted.id else campaign)


@task(name="prelaunch-check", **_TASK)
def prelaunch_check(credentials: InstantlyCredentials, id_or_name: str) -> LaunchCheck:
    """Run the pre-launch check against the API (`tasks.prelaunch.read_launch_check`).

    Raises:
        NotFoundError / AmbiguousNameError: no such campaign.
    """
    with credentials.get_client() as client:
        return read_launch_check(client, id_or_name)


@task(name="publish-prelaunch-check", **_TASK)
def publish_check(check: LaunchCheck) -> None:
    """Log the check and publish it as the `prelaunch-check` markdown artifact."""
    from prefect import get_run_logger
    from prefect.artifacts import create_markdown_artifact

    lines = render_check(check)
    logger = get_run_logger()
    for line in lines:  # INFO: a blocked launch is reported once, by the flow's one-line error
        logger.info(line)
    body = "\n".join(f"    {line}" for line in lines)  # an indented block: shown as written, nothing rendered
    create_markdown_artifact(
        key="prelaunch-check",
        markdown=f"# Pre-launch check\n\n{body}\n",
        description=f"Pre-launch check of campaign {check.campaign_id}",
    )
