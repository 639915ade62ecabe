"""The pre-launch check: pure rules on tables, then `campaigns check` and activation against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from instantly_client import Account, Campaign, InstantlyClient
from tasks.prelaunch import check_campaign_launch, render_check, schedule_in_words, sequence_tokens
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from tests.instantly_sandbox.helpers import schedule

SENDER = "ava@outreach-sandbox.io"  # a sandbox account (daily limit 50)
WEEKDAYS = {"0": False, "1": True, "2": True, "3": True, "4": True, "5": True, "6": False}


def _sequence(*steps: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"steps": [{"type": "email", "delay": 2, "variants": [{"subject": s, "body": b} for s, b in v]}
                       for v in steps]}]  # fmt: skip


def test_sequence_tokens_finds_variables_spintax_and_broken_tokens() -> None:
    used, unresolved = sequence_tokens(
        _sequence(
            [("Hi {{firstName}}", "{{ icebreaker }} {{RANDOM | Cheers | Best}}"), ("{{companyName}}", "x")],
            [("", "Still there, {{firstName}}? {{first name}} {{lastName}")],
        )
    )
    assert used == {
        "firstName": ["step 1 A subject", "step 2 A body"],
        "icebreaker": ["step 1 A body"],
        "companyName": ["step 1 B subject"],
    }
    assert unresolved == [
        "step 2 A body: {{first name}}",
        "step 2 A body: '{{lastName' (unbalanced braces)",
    ]


@pytest.mark.parametrize(
    ("days", "timing", "expected"),
    [
        (WEEKDAYS, ("08:00", "18:00"), "Mon-Fri, 08:00-18:00 America/Detroit (UTC-05:00 now)"),
        ({str(d): True for d in range(7)}, ("00:00", "23:59"), "every day, 00:00-23:59 America/Detroit"),
        ({"1": True, "3": True, "5": True}, ("09:00", "12:00"), "Mon, Wed, Fri, 09:00-12:00 America/Detroit"),
        ({}, ("09:00", "12:00"), "no sending days, 09:00-12:00 America/Detroit"),
    ],
)
def test_schedule_in_words(days: dict[str, bool], timing: tuple[str, str], expected: str) -> None:
    sched = {
        "schedules": [
            {"timing": {"from": timing[0], "to": timing[1]}, "days": days, "timezone": "America/Detroit"}
        ]
    }
    [line] = schedule_in_words(sched, now=datetime(2026, 1, 15, tzinfo=UTC))
    assert line.startswith(expected)


def _campaign(**extra: Any) -> Campaign:
    body = {
        "id": "c1",
        "name": "Q3",
        "status": 0,
        "daily_limit": 100,
        "campaign_schedule": {"schedules": [{"timing": {"from": "08:00", "to": "18:00"}, "days": WEEKDAYS,
                                             "timezone": "America/Detroit"}]},
        "sequences": _sequence([("Hi {{firstName}}", "{{icebreaker}}")]),
        "email_list": [SENDER],
    }  # fmt: skip
    return Campaign.model_validate({**body, **extra})


ACCOUNTS = [Account(email=SENDER, status=1, daily_limit=50)]


def test_a_variable_some_leads_lack_blocks_the_launch() -> None:
    leads = [
        {"email": "a@x.co", "first_name": "Ann", "payload": {"icebreaker": "Loved your talk"}},
        {"email": "b@x.co", "first_name": "Bob", "payload": {"icebreaker": ""}},
        {"email": "c@x.co", "first_name": None, "payload": {"firstName": "Cy"}},
    ]
    check = check_campaign_launch(_campaign(), leads, ACCOUNTS)
    assert [(v.name, v.source, v.missing) for v in check.variables] == [
        ("firstName", "lead field first_name", 0),  # Cy's value comes from the payload copy
        ("icebreaker", "custom variable", 2),
    ]
    assert [p.message for p in check.blocking] == [
        "{{icebreaker}} is empty for 2 of 3 leads (used in step 1 A body)"
    ]
    assert check.daily_capacity == 50
    text = "\n".join(render_check(check))
    assert f"  {SENDER} (active, 50 a day)" in text
    assert "Mon-Fri, 08:00-18:00 America/Detroit" in text


def test_no_account_no_day_and_an_unknown_account_block_and_a_long_queue_warns() -> None:
    campaign = _campaign(email_list=[], sequences=_sequence([("Hi", "Hello")]))
    sched = campaign.campaign_schedule["schedules"][0]
    sched["days"] = {}
    check = check_campaign_launch(campaign, [], ACCOUNTS)
    assert [p.message for p in check.blocking] == [
        "the schedule has no sending day",
        "no sending account is attached (email_list is empty): Instantly sends from attached accounts only",
    ]
    assert [p.message for p in check.problems if p.level == "warning"] == ["the campaign has no leads yet"]

    campaign = _campaign(email_list=[SENDER, "ghost@x.co"], sequences=_sequence([("Hi", "Hello")]))
    check = check_campaign_launch(campaign, [{"email": f"l{i}@x.co"} for i in range(400)], ACCOUNTS)
    assert [p.message for p in check.blocking] == ["sending account ghost@x.co is not in this workspace"]
    assert [p.message for p in check.problems if p.level == "warning"] == [
        "400 leads to contact at 50 emails a day: first emails alone take 8 sending days (follow-ups share "
        "the same limit)"
    ]


# -- against the sandbox ------------------------------------------------------------------------------------


@pytest.fixture
def env(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("INSTANTLY_API_KEY", "sandbox-key")
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    return sandbox


def test_check_finds_the_leads_missing_a_variable_and_activation_refuses_without_force(
    env: Any, prefect_harness: None, capsys: pytest.CaptureFixture[str]
) -> None:
    with InstantlyClient(api_key="sandbox-key", base_url=env.base_url) as client:
        campaign = client.campaigns.create(
            {
                "name": "Icebreakers",
                "campaign_schedule": schedule(days=WEEKDAYS),
                "sequences": _sequence([("Hi {{firstName}}", "{{icebreaker}}<br/>How is {{companyName}}?")]),
                "email_list": [SENDER],
                "daily_limit": 30,
            }
        )
        leads = [
            {"email": f"p{i}@x{i}.co", "first_name": f"P{i}", "company_name": "Acme",
             **({"custom_variables": {"icebreaker": f"Saw post {i}"}} if i % 10 >= 3 else {})}
            for i in range(20)
        ]  # fmt: skip
        client.leads.add(campaign_id=campaign.id, leads=leads)

        checked = run_cli(capsys, "campaigns", "check", "Icebreakers")
        assert checked.code == 1
        assert "{{icebreaker}} (custom variable, missing on 6 of 20 leads) in step 1 A body" in checked.out
        assert "{{firstName}} (lead field first_name, missing on 0 of 20 leads)" in checked.out
        assert "BLOCKING: {{icebreaker}} is empty for 6 of 20 leads" in checked.out
        assert f"{SENDER} (active, 50 a day)" in checked.out
        assert "daily limit: campaign 30; emails a day it can send: 30" in checked.out
        assert "1 problem(s) block the launch of 'Icebreakers'" in checked.err

        refused = run_cli(capsys, "campaigns", "activate", "Icebreakers")
        assert_one_line_error(
            refused, "Not activated", "{{icebreaker}} is empty for 6 of 20 leads", "--force"
        )
        assert client.campaigns.get(campaign.id).status == 0  # still a Draft

        forced = run_cli(capsys, "campaigns", "activate", "Icebreakers", "--force")
        assert forced.code == 0, forced.err
        assert client.campaigns.get(campaign.id).status == 1

        # Once every lead has its icebreaker, the check passes.
        client.campaigns.pause(campaign.id)
        for lead in client.leads.list(campaign=campaign.id):
            if not (lead.payload or {}).get("icebreaker"):
                client.leads.update(lead.id, {"custom_variables": {"icebreaker": "Hello"}})
        fixed = run_cli(capsys, "campaigns", "check", campaign.id)
        assert fixed.code == 0, fixed.out + fixed.err
        assert "missing on 0 of 20 leads" in fixed.out and "ok: nothing blocks the launch" in fixed.out
