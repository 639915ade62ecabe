"""CampaignIn: schedule rules from the spec (HH:MM timing, "0".."6" days, closed timezone enum)."""

import pytest
from pydantic import ValidationError

from instantly_client import Campaign, CampaignIn, CampaignStatus


def schedule(**overrides):
    value = {
        "name": "Weekdays",
        "timing": {"from": "09:00", "to": "17:00"},
        "days": {"1": True, "2": True, "3": True, "4": True, "5": True},
        "timezone": "America/Detroit",
    }
    value.update(overrides)
    return value


def campaign(**schedule_overrides):
    return {"name": "Q3", "campaign_schedule": {"schedules": [schedule(**schedule_overrides)]}}


def test_campaign_in_serialises_timing_from_by_its_api_name():
    body = CampaignIn.model_validate(campaign()).to_body()
    assert body["campaign_schedule"]["schedules"][0]["timing"] == {"from": "09:00", "to": "17:00"}
    assert body["name"] == "Q3"


def test_integer_day_keys_become_digit_strings():
    body = CampaignIn.model_validate(campaign(days={1: True, 0: False})).to_body()
    assert body["campaign_schedule"]["schedules"][0]["days"] == {"1": True, "0": False}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"days": {"mon": True}}, "days keys"),
        ({"days": {}}, "non-empty"),
        ({"timing": {"from": "9:00", "to": "17:00"}}, "pattern"),
        ({"timing": {"from": "09:00", "to": "24:00"}}, "pattern"),
        ({"timezone": "America/New_York"}, "'America/Detroit'"),
        ({"timezone": "Europe/London"}, "'Europe/Isle_of_Man'"),
    ],
)
def test_schedule_rules_are_enforced_before_sending(overrides, message):
    with pytest.raises(ValidationError, match=message):
        CampaignIn.model_validate(campaign(**overrides))


def test_campaign_in_requires_name_and_schedule_and_forbids_extras():
    with pytest.raises(ValidationError):
        CampaignIn.model_validate({"name": "x"})
    with pytest.raises(ValidationError, match="colour"):
        CampaignIn.model_validate({**campaign(), "colour": "red"})
    with pytest.raises(ValidationError):
        CampaignIn.model_validate({"name": "x", "campaign_schedule": {"schedules": []}})


def test_sequences_validate_steps_and_variants():
    value = campaign()
    value["sequences"] = [
        {"steps": [{"type": "email", "delay": 2, "variants": [{"subject": "Hi", "body": "Yo"}]}]}
    ]
    body = CampaignIn.model_validate(value).to_body()
    assert body["sequences"][0]["steps"][0]["variants"] == [{"subject": "Hi", "body": "Yo"}]
    value["sequences"][0]["steps"][0]["type"] = "sms"
    with pytest.raises(ValidationError):
        CampaignIn.model_validate(value)


def test_campaign_read_model_labels_status_and_tolerates_new_codes():
    assert Campaign(status=4).status_label == "Running Subsequences"
    assert Campaign(status=77).status_label is None
    assert CampaignStatus.ACCOUNT_SUSPENDED == -99
