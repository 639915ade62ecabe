"""Status enums carry labels and label unknown codes as None."""

import pytest

from instantly_client import CampaignStatus, InterestStatus, LeadStatus
from instantly_client.models.enums import int_code


@pytest.mark.parametrize(
    ("enum", "code", "label"),
    [
        (CampaignStatus, 0, "Draft"),
        (CampaignStatus, 1, "Active"),
        (CampaignStatus, 2, "Paused"),
        (CampaignStatus, 3, "Completed"),
        (CampaignStatus, 4, "Running Subsequences"),
        (CampaignStatus, -99, "Account Suspended"),
        (CampaignStatus, -1, "Accounts Unhealthy"),
        (CampaignStatus, -2, "Bounce Protect"),
        (LeadStatus, 1, "Active"),
        (LeadStatus, 2, "Paused"),
        (LeadStatus, 3, "Completed"),
        (LeadStatus, -1, "Bounced"),
        (LeadStatus, -2, "Unsubscribed"),
        (LeadStatus, -3, "Skipped"),
        (InterestStatus, 0, "Out of Office"),
        (InterestStatus, 1, "Interested"),
        (InterestStatus, 2, "Meeting Booked"),
        (InterestStatus, 3, "Meeting Completed"),
        (InterestStatus, 4, "Won"),
        (InterestStatus, -1, "Not Interested"),
        (InterestStatus, -2, "Wrong Person"),
        (InterestStatus, -3, "Lost"),
        (InterestStatus, -4, "No Show"),
    ],
)
def test_every_code_has_its_label(enum, code, label):
    assert enum(code).label == label
    assert enum.label_for(code) == label
    assert enum.label_for(float(code)) == label


@pytest.mark.parametrize("value", [None, 99, 1.5, "x", True, [], "1"])
def test_label_for_is_tolerant_of_unknown_values(value):
    expected = "Interested" if value == "1" else None
    assert InterestStatus.label_for(value) == expected


def test_enum_members_cover_exactly_the_labels():
    for enum in (CampaignStatus, LeadStatus, InterestStatus):
        assert {int(m) for m in enum} == set(enum._labels)


@pytest.mark.parametrize(
    ("value", "code"),
    [(3, 3), (3.0, 3), ("3", 3), (-1, -1), (2.5, None), (None, None), (True, None), ("x", None), ([], None)],
)
def test_int_code_reads_whole_numbers_only(value, code):
    assert int_code(value) == code
    assert LeadStatus.label_for(value) == (None if code is None else LeadStatus._labels.get(code))
