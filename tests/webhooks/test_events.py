"""Payload names, the content-hash id and the warehouse row (pure)."""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime

import pytest

from webhooks.events import (
    COLUMNS,
    canonical_json,
    event_id,
    event_kind,
    parse_timestamp,
    payload_json,
    to_row,
)

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


@pytest.mark.parametrize(
    ("body", "step", "variant"),
    [
        ('{"step": 99999999999999, "variant": 2}', None, 2),
        ('{"step": 3000000000}', None, None),
        ('{"step": 2147483648, "variant": -2147483649}', None, None),
        ('{"step": 2147483647, "variant": -2147483648}', 2147483647, -2147483648),
        ('{"step": 1e400}', None, None),  # Python reads it as Infinity
        ('{"variant": -1e300}', None, None),
        ('{"step": NaN, "variant": -Infinity}', None, None),
        ('{"step": "99999999999999999999", "variant": "3"}', None, 3),
        ('{"step": 2.0, "variant": 1e3}', 2, 1000),
        ('{"step": 2.7, "variant": -0.5}', None, None),  # not a step number: int() would say 2 and 0
    ],
)
def test_a_number_its_integer_column_cannot_hold_is_null_and_the_payload_keeps_it(
    body, step, variant
) -> None:
    payload = json.loads(body)  # as the receiver parses a delivery
    row = dict(
        zip(
            COLUMNS,
            to_row(payload, received_at=NOW, source="receiver", loaded_at=NOW, run_id="r"),
            strict=True,
        )
    )
    assert (row["step"], row["variant"]) == (step, variant)
    assert json.loads(row["payload"], parse_constant=_refuse) == {  # standard JSON: NaN, Infinity are null
        k: v if not isinstance(v, float) or math.isfinite(v) else None for k, v in payload.items()
    }


def test_the_stored_payload_is_standard_json_at_any_depth_and_the_id_hashes_what_was_received() -> None:
    payload = json.loads('{"a": [1, NaN, {"b": Infinity}], "c": -1e999, "d": 1.5}')
    assert payload_json(payload) == '{"a":[1,null,{"b":null}],"c":null,"d":1.5}'
    # The id of an event with NaN is what it was before payload_json existed: a re-delivery stays one event.
    assert event_id(payload) == hashlib.sha256(canonical_json(payload).encode()).hexdigest()[:32]
    assert "NaN" in canonical_json(payload)
    assert payload_json(REPLY) == canonical_json(REPLY)


def _refuse(constant: str) -> None:
    raise AssertionError(f"non-standard JSON constant {constant} in the stored payload")
