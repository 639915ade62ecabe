"""Campaign specs (pure) and campaign tasks against the sandbox over real HTTP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from blocks import InstantlyCredentials
from ops_core.errors import OpsError
from tasks import campaigns as campaign_tasks
from tasks.campaign_spec import (
    CampaignChanges,
    CampaignSpec,
    ScheduleSpec,
    check_timezone,
    create_body,
    load_campaign_file,
    parse_days,
    patch_body,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "campaign.yaml"
WEEKDAYS = {"0": False, "1": True, "2": True, "3": True, "4": True, "5": True, "6": False}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["mon", "tue", "wed", "thu", "fri"], WEEKDAYS),
        ("mon-fri", WEEKDAYS),
        ("1-5", WEEKDAYS),
        (["1", "2", "3", "4", "5"], WEEKDAYS),
        ({"1": True, "2": True, "3": True, "4": True, "5": True, "6": False}, WEEKDAYS),
        ("sun", {**{k: False for k in WEEKDAYS}, "0": True}),
        ("Saturday, Sunday", {**{k: False for k in WEEKDAYS}, "0": True, "6": True}),
        ("fri-mon", {"0": True, "1": True, "2": False, "3": False, "4": False, "5": True, "6": True}),
        ({0: True}, {**{k: False for k in WEEKDAYS}, "0": True}),
    ],
)
def test_days_are_normalised_to_the_api_digit_keys_with_zero_as_sunday(given: Any, expected: dict) -> None:
    assert parse_days(given) == expected


@pytest.mark.parametrize("given", [[], "", ["funday"], {"mon": "yes"}, ["7"]])
def test_bad_days_are_one_line_errors(given: Any) -> None:
    with pytest.raises(OpsError) as exc:
        parse_days(given)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize(
    ("zone", "nearest"),
    [("America/New_York", "America/Detroit"), ("Europe/London", "Europe/Isle_of_Man")],
)
def test_timezone_outside_the_api_list_names_the_nearest_valid_one(zone: str, nearest: str) -> None:
    with pytest.raises(OpsError) as exc:
        check_timezone(zone)
    assert (
        str(exc.value) == f"Timezone {zone!r} is not in Instantly's list; use {nearest!r} (same UTC offset)"
    )


def test_timezones_in_the_api_list_pass_and_unknown_names_say_so() -> None:
    assert check_timezone("America/Chicago") == "America/Chicago"
    with pytest.raises(OpsError, match="not a known timezone"):
        check_timezone("Mars/Olympus")


def test_example_file_becomes_a_valid_create_body() -> None:
    spec = load_campaign_file(EXAMPLE)
    body = create_body(spec)  # type: ignore[arg-type]
    schedule = body["campaign_schedule"]["schedules"][0]
    assert schedule["timezone"] == "America/Detroit"
    assert schedule["days"] == WEEKDAYS
    assert schedule["timing"] == {"from": "09:00", "to": "17:00"}
    steps = body["sequences"][0]["steps"]
    assert [len(s["variants"]) for s in steps] == [2, 1, 1]
    assert steps[0]["delay"] == 3 and steps[0]["delay_unit"] == "days"
    assert "<br/>" in steps[0]["variants"][0]["body"] and "\n" not in steps[0]["variants"][0]["body"]
    assert body["daily_limit"] == 50 and body["stop_on_reply"] is True and body["open_tracking"] is True
    assert body["stop_on_auto_reply"] is True  # from `options`


def test_unquoted_yaml_times_read_as_base_60_numbers_are_turned_back(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("name: x\nschedule:\n  timezone: America/Chicago\n  from: 08:30\n  to: 16:00\n")
    body = create_body(load_campaign_file(path))  # type: ignore[arg-type]
    assert body["campaign_schedule"]["schedules"][0]["timing"] == {"from": "08:30", "to": "16:00"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: [unclosed\n", "is not valid YAML at line"),
        ("- just\n- a list\n", "expected a mapping"),
        ("schedule: {timezone: America/Chicago}\n", "name: Field required"),
        (
            "name: x\n",
            "a campaign needs a sending schedule, at least its timezone. (e.g. schedule: {timezone:",
        ),
        ("name: x\nschedule: {timezone: America/Chicago}\ndaly_limit: 3\n", "daly_limit: Extra inputs"),
        ("name: x\nschedule: {timezone: America/Chicago}\nsequence: [{subject: s}]\n", "subject and a body"),
    ],
)
def test_bad_campaign_files_are_one_line_errors_naming_the_problem(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(OpsError) as exc:
        load_campaign_file(path)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)


def test_schedule_checks_run_before_any_request() -> None:
    spec = CampaignSpec(
        name="x", schedule=ScheduleSpec(timezone="America/Chicago", **{"from": "17:00"}, to="09:00")
    )
    with pytest.raises(OpsError, match="must be before"):
        create_body(spec)
    with pytest.raises(OpsError, match="Invalid campaign: bogus_field"):
        create_body(
            CampaignSpec(
                name="x", schedule=ScheduleSpec(timezone="America/Chicago"), options={"bogus_field": 1}
            )
        )


def test_a_partial_schedule_change_keeps_the_rest_of_the_current_schedule() -> None:
    current = {
        "schedules": [
            {
                "name": "Main",
                "timing": {"from": "08:00", "to": "12:00"},
                "days": {"1": True},
                "timezone": "America/Chicago",
            }
        ],
        "start_date": "2026-09-01",
    }
    body = patch_body(CampaignChanges(schedule=ScheduleSpec(timezone="America/Detroit")), current)
    assert body["campaign_schedule"] == {
        "schedules": [
            {
                "name": "Main",
                "timing": {"from": "08:00", "to": "12:00"},
                "days": {"1": True},
                "timezone": "America/Detroit",
            }
        ],
        "start_date": "2026-09-01",
    }
    assert patch_body(CampaignChanges(daily_limit=9)) == {"daily_limit": 9}
    with pytest.raises(OpsError, match="Nothing to update"):
        patch_body(CampaignChanges())


# -- tasks against the sandbox -------------------------------------------------------------------------------


@pytest.fixture
def creds(sandbox: Any) -> InstantlyCredentials:
    return InstantlyCredentials(api_key="sandbox-key", base_url=sandbox.base_url)


def test_tasks_create_check_and_change_a_campaign_in_the_sandbox(creds: InstantlyCredentials) -> None:
    spec = load_campaign_file(EXAMPLE)
    created = campaign_tasks.create_campaign.fn(creds, spec)
    assert created.status_label == "Draft" and created.steps == 3 and created.timezone == "America/Detroit"

    check = campaign_tasks.check_campaign.fn(creds, "Q3 founders outreach")
    assert (check.id, check.leads, check.contacted, check.replies) == (created.id, 0, 0, 0)

    changes = CampaignChanges(daily_limit=80, schedule=ScheduleSpec(days="mon,wed"))
    updated = campaign_tasks.update_campaign.fn(creds, created.id, changes)
    assert updated.daily_limit == 80
    fetched = campaign_tasks.fetch_campaign.fn(creds, created.id)
    schedule = fetched.campaign_schedule["schedules"][0]
    assert schedule["days"] == {
        "0": False,
        "1": True,
        "2": False,
        "3": True,
        "4": False,
        "5": False,
        "6": False,
    }
    assert schedule["timezone"] == "America/Detroit"  # kept

    assert campaign_tasks.activate_campaign.fn(creds, created.id).status_label == "Active"
    assert campaign_tasks.pause_campaign.fn(creds, created.id).status_label == "Paused"
    names = [c.name for c in campaign_tasks.list_campaigns.fn(creds)]
    assert names == ["Q3 founders outreach"]


def test_pause_and_activate_tasks_send_nothing_when_the_campaign_is_already_there(
    creds: InstantlyCredentials, sandbox: Any
) -> None:
    created = campaign_tasks.create_campaign.fn(creds, load_campaign_file(EXAMPLE))
    assert campaign_tasks.pause_campaign.fn(creds, created.id).status_label == "Paused"
    assert campaign_tasks.pause_campaign.fn(creds, created.id).status_label == "Paused"
    assert campaign_tasks.activate_campaign.fn(creds, created.id).status_label == "Active"
    assert campaign_tasks.activate_campaign.fn(creds, created.id).status_label == "Active"
    sent = sandbox.stats["per_path"]
    assert (
        sent["POST /api/v2/campaigns/{id}/pause"] == 1 and sent["POST /api/v2/campaigns/{id}/activate"] == 1
    )


def test_duplicate_and_rename_refuse_a_name_another_campaign_has(creds: InstantlyCredentials) -> None:
    spec = load_campaign_file(EXAMPLE)
    original = campaign_tasks.create_campaign.fn(creds, spec)
    other = campaign_tasks.create_campaign.fn(creds, spec.model_copy(update={"name": "Other"}))

    for name in ("Q3 founders outreach", "Other"):
        with pytest.raises(OpsError, match=f"A campaign named '{name}' already exists"):
            campaign_tasks.duplicate_campaign.fn(creds, original.id, name)
    # Without a name the API calls the copy "<name> (copy)": a second such copy is refused too.
    copy = campaign_tasks.duplicate_campaign.fn(creds, original.id)
    assert copy.name == "Q3 founders outreach (copy)"
    with pytest.raises(OpsError, match=r"'Q3 founders outreach \(copy\)' already exists"):
        campaign_tasks.duplicate_campaign.fn(creds, original.id)

    with pytest.raises(OpsError, match="A campaign named 'Other' already exists"):
        campaign_tasks.update_campaign.fn(creds, original.id, CampaignChanges(name="Other"))
    # Keeping its own name, or taking a free one, is no clash.
    assert campaign_tasks.update_campaign.fn(creds, other.id, CampaignChanges(name="Other")).name == "Other"
    assert campaign_tasks.update_campaign.fn(creds, other.id, CampaignChanges(name="Q4")).name == "Q4"

    names = sorted(c.name for c in campaign_tasks.list_campaigns.fn(creds))
    assert names == ["Q3 founders outreach", "Q3 founders outreach (copy)", "Q4"]


def test_a_campaign_without_a_name_takes_no_name() -> None:
    """The API may list a campaign without a `name` (the model's name is optional): no crash, no clash."""
    from types import SimpleNamespace

    from instantly_client.models import Campaign

    listed = [Campaign(id="c-1", name=None), Campaign(id="c-2", name="Q3  founders ")]
    client: Any = SimpleNamespace(campaigns=SimpleNamespace(list=lambda **_: listed))
    campaign_tasks.refuse_taken_name(client, "Fresh", hint="")
    with pytest.raises(OpsError, match=r"already exists \(id c-2\); 'Q3 Founders' differs"):
        campaign_tasks.refuse_taken_name(client, "Q3 Founders", hint="")
