"""The campaign flows, run through Prefect against the sandbox, with credentials from a saved block."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blocks import InstantlyCredentials
from flows.manage_campaigns import (
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
def block(sandbox: Any, prefect_harness: None) -> InstantlyCredentials:
    InstantlyCredentials(api_key="sandbox-key", base_url=sandbox.base_url).save(
        "flows-sandbox", overwrite=True
    )
    return InstantlyCredentials.load("flows-sandbox")


def test_campaign_flows_change_the_sandbox_state(sandbox: Any, block: InstantlyCredentials) -> None:
    spec = load_campaign_file(EXAMPLE)
    assert isinstance(spec, CampaignSpec)
    created = create_campaign(spec, credentials=block)
    with InstantlyClient(api_key="sandbox-key", base_url=sandbox.base_url) as client:
        assert client.campaigns.get(created.id).status == 0

        changes = CampaignChanges(name="Renamed", stop_on_reply=False, email_list=[SENDER])
        update_campaign(created.id, changes, credentials=block)
        campaign = client.campaigns.get(created.id)
        assert (campaign.name, campaign.stop_on_reply) == ("Renamed", False)

        assert activate_campaign("Renamed", credentials=block).status == 1
        assert pause_campaign(created.id, credentials=block).status == 2
        assert client.campaigns.get(created.id).status == 2

        copy = duplicate_campaign(created.id, credentials=block)
        assert client.campaigns.get(copy.id).name == "Renamed (copy)"

        delete_campaign(copy.id, credentials=block)
        with pytest.raises(NotFoundError):
            client.campaigns.get(copy.id)


@pytest.mark.slow  # about 8 s: four flow runs (the flows themselves are tested, fast, just above)
def test_manage_campaigns_dispatches_each_action(sandbox: Any, block: InstantlyCredentials) -> None:
    spec = load_campaign_file(EXAMPLE)
    spec = spec.model_copy(update={"email_list": [SENDER]})
    created = manage_campaigns("create", spec=spec, credentials=block)
    result = manage_campaigns("activate", created.id, credentials=block)
    assert result.status_label == "Active"
    result = manage_campaigns("update", created.id, changes=CampaignChanges(daily_limit=7), credentials=block)
    assert result.daily_limit == 7
    manage_campaigns("delete", created.id, credentials=block)
    with InstantlyClient(api_key="sandbox-key", base_url=sandbox.base_url) as client:
        assert list(client.campaigns.list()) == []
