"""The campaign flows, run through Prefect against the sandbox, with credentials from a saved block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blocks import InstantlyCredentials
from flows.manage_campaigns import (
    CampaignRef,
    CampaignRequest,
    DuplicateCampaignParams,
    UpdateCampaignParams,
    activate_campaign,
    create_campaign,
    delete_campaign,
    duplicate_campaign,
    manage_campaigns,
    pause_campaign,
    update_campaign,
)
from instantly_client import InstantlyClient, NotFoundError
from tasks.campaign_spec import CampaignChanges, CampaignSpec, load_campaign_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "campaign.yaml"


SENDER = "ava@outreach-sandbox.io"  # a sandbox account: the pre-launch check wants one attached


@pytest.fixture
def block(sandbox: Any, prefect_harness: None) -> str:
    InstantlyCredentials(api_key="sandbox-key", base_url=sandbox.base_url).save(
        "flows-sandbox", overwrite=True
    )
    return "flows-sandbox"


def test_campaign_flows_change_the_sandbox_state(sandbox: Any, block: str) -> None:
    spec = load_campaign_file(EXAMPLE)
    assert isinstance(spec, CampaignSpec)
    created = create_campaign(spec, credentials_block=block)
    with InstantlyClient(api_key="sandbox-key", base_url=sandbox.base_url) as client:
        assert client.campaigns.get(created.id).status == 0

        changes = CampaignChanges(name="Renamed", stop_on_reply=False, email_list=[SENDER])
        update_campaign(UpdateCampaignParams(campaign=created.id, changes=changes), credentials_block=block)
        campaign = client.campaigns.get(created.id)
        assert (campaign.name, campaign.stop_on_reply) == ("Renamed", False)

        assert activate_campaign(CampaignRef(campaign="Renamed"), credentials_block=block).status == 1
        assert pause_campaign(CampaignRef(campaign=created.id), credentials_block=block).status == 2
        assert client.campaigns.get(created.id).status == 2

        copy = duplicate_campaign(DuplicateCampaignParams(campaign=created.id), credentials_block=block)
        assert client.campaigns.get(copy.id).name == "Renamed (copy)"

        delete_campaign(CampaignRef(campaign=copy.id), credentials_block=block)
        with pytest.raises(NotFoundError):
            client.campaigns.get(copy.id)


def test_manage_campaigns_dispatches_each_action(sandbox: Any, block: str) -> None:
    spec = load_campaign_file(EXAMPLE)
    spec = spec.model_copy(update={"email_list": [SENDER]})
    created = manage_campaigns(CampaignRequest(action="create", spec=spec), credentials_block=block)
    result = manage_campaigns(
        CampaignRequest(action="activate", campaign=created.id), credentials_block=block
    )
    assert result.status_label == "Active"
    result = manage_campaigns(
        CampaignRequest(action="update", campaign=created.id, changes=CampaignChanges(daily_limit=7)),
        credentials_block=block,
    )
    assert result.daily_limit == 7
    manage_campaigns(CampaignRequest(action="delete", campaign=created.id), credentials_block=block)
    with InstantlyClient(api_key="sandbox-key", base_url=sandbox.base_url) as client:
        assert list(client.campaigns.list()) == []
