"""Payload names, the content-hash id and the warehouse row (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webhooks.events import COLUMNS, event_id, event_kind, parse_timestamp, to_row

REPLY = {
    "timestamp": "2026-11-20T10:00:00.000Z",
    "event_type": "reply_received",
    "campaign_id": "019a0000-0000-7000-8000-000000000002",
    "lead_email": " Ava.Nguyen@Northwind.io ",
    "email_id": "019a0000-0000-7000-8000-0000000000aa",
    "reply_text": "Sounds good",
    "step": 1,
}
NOW = datetime(2026, 11, 20, 10, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delivered", "subscribed"),
    [
        ("link_clicked", "email_link_clicked"),
        ("email_link_clicked", "email_link_clicked"),
        ("auto_reply_received", "reply_received"),
        ("reply_received", "reply_received"),
        ("My custom label", "My custom label"),
    ],
)
def test_both_spellings_and_unknown_names_map_to_a_subscription_name(delivered, subscribed) -> None:
    assert event_kind(delivered) == subscribed


def test_the_id_is_the_content_so_key_order_does_not_matter_and_any_change_does() -> None:
    reordered = dict(reversed(list(REPLY.items())))
    assert event_id(REPLY) == event_id(reordered)
    assert event_id(REPLY) != event_id({**REPLY, "event_type": "email_opened"})
    assert event_id(REPLY) != event_id({**REPLY, "timestamp": "2026-11-20T10:00:00.001Z"})
    assert len(event_id(REPLY)) == 32


def test_a_row_normalises_the_email_and_parses_the_timestamp() -> None:
    row = dict(
        zip(
            COLUMNS, to_row(REPLY, received_at=NOW, source="receiver", loaded_at=NOW, run_id="r"), strict=True
        )
    )
    assert row["lead_email"] == "ava.nguyen@northwind.io"
    assert row["event_at"] == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert row["event_kind"] == "reply_received" and row["step"] == 1 and row["reply_text"] == "Sounds good"


def test_a_payload_missing_every_optional_field_or_with_odd_types_still_makes_a_row() -> None:
    odd = {"timestamp": "yesterday", "step": "two", "variant": True, "lead_email": 7, "campaign_id": {"x": 1}}
    row = dict(
        zip(COLUMNS, to_row(odd, received_at=NOW, source="receiver", loaded_at=NOW, run_id="r"), strict=True)
    )
    assert row["event_type"] == "unknown" and row["event_at"] is None
    assert row["step"] is None and row["variant"] is None and row["lead_email"] is None
    assert row["campaign_id"] is None
    assert parse_timestamp("2026-11-20T10:00:00") == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
