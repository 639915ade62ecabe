"""What the commands print about a campaign (tasks/campaign_summary.py): pure summaries, and the check read
from the sandbox over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from instantly_client import InstantlyClient, NotFoundError
from instantly_client.models import Campaign
from tasks.campaign_summary import already, read_campaign_check, summarize
from tests.tasks.push_helpers import CAMPAIGN_BODY, make_campaign

SCHEDULE = {"schedules": [{"name": "w", "timing": {"from": "09:00", "to": "17:00"}, "days": {"1": True},
                           "timezone": "Europe/Oslo"}]}  # fmt: skip
STEPS = [{"steps": [{"type": "email", "delay": 0, "variants": [{"subject": "a", "body": "b"}]}] * 2}]


@pytest.mark.parametrize(
    ("status", "label"),
    [(0, "Draft"), (1, "Active"), (2, "Paused"), (-99, "Account Suspended"), (42, "Unknown"), (None, None)],
)
def test_a_summary_names_the_status_in_words(status: int | None, label: str | None) -> None:
    summary = summarize(Campaign(id="c1", name="Q3", status=status))
    assert (summary.id, summary.name, summary.status, summary.status_label) == ("c1", "Q3", status, label)


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (2, "pause", True),
        (1, "activate", True),
        (1, "pause", False),
        (0, "pause", False),
        (2, "activate", False),
        (0, "activate", False),
        (4, "activate", False),  # Running Subsequences: activate's request decides
        (None, "pause", False),  # unknown: send the request
    ],
)
def test_a_campaign_already_paused_or_active_needs_no_request(
    status: int | None, action: Any, expected: bool
) -> None:
    assert already(status, action) is expected


def test_a_summary_counts_the_first_sequences_steps_and_reads_the_timezone() -> None:
    campaign = Campaign(id="c1", name="Q3", daily_limit=50, campaign_schedule=SCHEDULE, sequences=STEPS)
    summary = summarize(campaign)
    assert (summary.steps, summary.timezone, summary.daily_limit) == (2, "Europe/Oslo", 50)
    bare = summarize(Campaign(id="c2"))
    assert (bare.name, bare.steps, bare.timezone) == ("", 0, None)


def test_the_check_reads_a_campaign_by_name_with_zero_counts_before_it_sends(sandbox: Any) -> None:
    cid = make_campaign(sandbox, "Q3 founders")
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        check = read_campaign_check(client, "Q3 founders")
        assert (check.id, check.name, check.status_label) == (cid, "Q3 founders", "Draft")
        assert (check.leads, check.contacted, check.replies) == (0, 0, 0)
        assert check.counts_text() == "no analytics yet: Instantly counts its leads once it sends"
        with pytest.raises(NotFoundError):
            read_campaign_check(client, "Q3 fonders")


def test_the_check_counts_a_campaign_once_it_has_sent(sandbox: Any) -> None:
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        step = {"type": "email", "delay": 2, "variants": [{"subject": "Hi", "body": "Hello"}]}
        body = {"name": "Sending", **CAMPAIGN_BODY, "sequences": [{"steps": [step]}]}
        cid = str(client.campaigns.create(body).id)
        client.leads.add(campaign_id=cid, leads=[{"email": f"lead{i}@example.com"} for i in range(30)])
        client.campaigns.activate(cid)
        httpx.post(f"{sandbox.url}/_sandbox/advance", json={"days": 10}).raise_for_status()
        check = read_campaign_check(client, "Sending")
    assert check.analytics and check.leads == 30 and check.contacted > 0
    assert check.counts_text() == f"leads 30, contacted {check.contacted}, replies {check.replies}"
