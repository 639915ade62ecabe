"""Looking emails up in a campaign (tasks/push_lookup.py) against the sandbox over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from instantly_client import InstantlyClient
from tasks.push_lookup import Lookups
from tests.tasks.push_helpers import make_campaign, request_count


def _add(sandbox: Any, campaign: str, emails: list[str]) -> dict[str, str]:
    resp = httpx.post(
        f"{sandbox.base_url}/leads/add",
        json={"campaign_id": campaign, "leads": [{"email": e} for e in emails]},
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    )
    assert resp.status_code == 200, resp.text
    return {emails[lead["index"]]: lead["id"] for lead in resp.json()["created_leads"]}


def test_a_chunk_whose_emails_are_all_found_costs_one_page_and_the_missing_ones_are_not_invented(
    sandbox: Any,
) -> None:
    campaign = make_campaign(sandbox, "Lookups")
    emails = [f"lead{i}@example.com" for i in range(250)]
    ids = _add(sandbox, campaign, emails)
    missing = [f"nobody{i}@example.com" for i in range(50)]
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        lookups = Lookups(client, campaign, workers=lambda: 1)
        before = request_count(sandbox, "POST /api/v2/leads/list")
        found = lookups.in_campaign(emails)  # 100 emails a lookup, each a full page of leads found
        served = request_count(sandbox, "POST /api/v2/leads/list") - before
        assert found == ids
        assert served == 3  # not 5: no second request after a page that found every email of its chunk
        before = request_count(sandbox, "POST /api/v2/leads/list")
        assert lookups.in_campaign(emails[:40] + missing) == {e: ids[e] for e in emails[:40]}
        assert request_count(sandbox, "POST /api/v2/leads/list") - before == 1
