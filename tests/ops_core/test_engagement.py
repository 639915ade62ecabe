"""Engagement rules: a lead's email status and the "most advanced" of several statuses."""

from __future__ import annotations

import pytest

from ops_core.engagement import (
    EMAIL_STATUSES,
    email_status,
    interest_status_rank,
    most_advanced_email_status,
    most_advanced_interest_status,
    most_advanced_lead_status,
)

T = "2026-03-01T10:00:00.000Z"


@pytest.mark.parametrize(
    ("lead", "expected"),
    [
        ({}, "not_contacted"),
        ({"status": 1, "email_open_count": 0}, "not_contacted"),
        ({"status": 1, "timestamp_last_contact": T}, "sent"),
        ({"status": 1, "timestamp_last_contact": T, "email_open_count": 2}, "opened"),
        ({"timestamp_last_open": T}, "opened"),
        ({"email_open_count": 3, "email_click_count": 1}, "clicked"),
        ({"email_open_count": 3, "email_click_count": 1, "email_reply_count": 1}, "replied"),
        ({"timestamp_last_reply": T}, "replied"),
        ({"status": 3, "timestamp_last_contact": T}, "sent"),  # completed without engagement
        ({"status": -1, "email_reply_count": 1}, "bounced"),
        ({"status": -2, "email_reply_count": 1}, "unsubscribed"),
        ({"status": -3}, "not_contacted"),  # skipped
        ({"email_open_count": None, "email_reply_count": None}, "not_contacted"),
    ],
)
def test_email_status_is_the_most_advanced_the_lead_data_supports(lead, expected):
    assert email_status(lead) == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "not_contacted"),
        ([None], "not_contacted"),
        (["sent", "opened"], "opened"),
        (["replied", "clicked", "sent"], "replied"),
        (["replied", "bounced"], "bounced"),
        (["unsubscribed", "replied", "bounced"], "unsubscribed"),
        (["bogus", "sent"], "sent"),
    ],
)
def test_most_advanced_email_status_follows_the_documented_order(statuses, expected):
    assert most_advanced_email_status(statuses) == expected


def test_email_statuses_are_the_seven_the_issue_names_in_rank_order():
    assert EMAIL_STATUSES == (
        "not_contacted",
        "sent",
        "opened",
        "clicked",
        "replied",
        "bounced",
        "unsubscribed",
    )


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [([], None), ([None], None), ([1, 3], 3), ([3, -3], -3), ([-1, -2, 1], -2), ([2, 1], 2)],
)
def test_most_advanced_lead_status(statuses, expected):
    assert most_advanced_lead_status(statuses) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([None, 0], 0),  # out of office beats a plain lead
        ([1, -1], 1),  # interested beats not interested
        ([2, 4], 4),  # won beats meeting booked
        ([None, 12345], 12345),  # a custom label beats a plain lead
        ([12345, 0], 0),
    ],
)
def test_most_advanced_interest_status_follows_the_funnel(values, expected):
    assert most_advanced_interest_status(values) == expected


def test_interest_rank_of_none_is_lowest():
    assert interest_status_rank(None) < interest_status_rank(987) < interest_status_rank(0)
