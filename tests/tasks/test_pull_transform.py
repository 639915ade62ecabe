"""API records to warehouse rows: labels, derived status, hashes, odd or missing fields, and the merge."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from instantly_client import Lead
from tasks.pull import warn_unknown_fields
from tasks.pull_transform import (
    SyncDataError,
    daily_row,
    email_row,
    frame,
    interest_label,
    lead_row,
    parse_timestamp,
    step_row,
)
from warehouse.db import Warehouse
from warehouse.merge import merge_frame

LEAD = {
    "id": "L1",
    "campaign": "c1",
    "email": " Ann@Example.com",
    "status": 1,
    "lt_interest_status": 2,
    "email_open_count": 3,
    "email_reply_count": 1,
    "email_click_count": 0,
    "timestamp_last_contact": "2026-03-01T10:00:00.000Z",
    "timestamp_last_reply": "2026-03-02T11:30:00.500Z",
    "payload": {"tier": "gold", "rank": 3},
}


def test_lead_row_adds_labels_the_normalised_email_and_the_email_status():
    row = lead_row(LEAD)
    assert row["campaign_id"] == "c1"
    assert row["email_normalized"] == "ann@example.com"
    assert (row["status"], row["status_label"]) == (1, "Active")
    assert (row["lt_interest_status"], row["interest_status_label"]) == (2, "Meeting Booked")
    assert row["email_status"] == "replied"
    assert row["timestamp_last_reply"] == datetime(2026, 3, 2, 11, 30, 0, 500000, tzinfo=UTC)
    assert row["custom_variables"] == '{"rank": 3, "tier": "gold"}'


def test_lead_row_tolerates_missing_counts_and_timestamps():
    row = lead_row({"id": "L2"})
    assert (row["email_open_count"], row["email_reply_count"], row["email_click_count"]) == (0, 0, 0)
    assert row["timestamp_last_contact"] is None
    assert row["email_status"] == "not_contacted"
    assert row["interest_status_label"] == "Lead"


@pytest.mark.parametrize("record", [{}, {"id": None}, {"id": ""}])
def test_a_record_without_its_key_is_a_one_line_error(record):
    with pytest.raises(SyncDataError) as info:
        lead_row(record)
    assert "\n" not in str(info.value)
    assert "without `id`" in str(info.value)


def test_the_hash_changes_only_when_the_data_changes():
    assert lead_row(LEAD)["_hash"] == lead_row(dict(LEAD))["_hash"]
    assert lead_row(LEAD)["_hash"] != lead_row({**LEAD, "email_open_count": 4})["_hash"]


def test_daily_row_is_stamped_with_its_campaign():
    row = daily_row({"date": "2026-03-01", "sent": 5, "opened": None}, "c9")
    assert (row["campaign_id"], row["date"], row["sent"], row["opened"]) == ("c9", date(2026, 3, 1), 5, 0)


def test_step_row_numbers_steps_and_variants_from_one_and_keeps_the_counts():
    row = step_row({"step": "0", "variant": "1", "sent": 40, "unique_replies": 3, "won": None}, "c1")
    assert (row["campaign_id"], row["step"], row["variant"], row["variant_label"]) == ("c1", 1, 2, "B")
    assert (row["sent"], row["unique_replies"], row["won"], row["clicks"]) == (40, 3, 0, 0)


def test_step_row_keeps_an_undetermined_step_as_zero_and_refuses_a_bad_one():
    row = step_row({"step": None, "variant": None, "sent": 2}, "c1")
    assert (row["step"], row["variant"], row["variant_label"]) == (0, 0, None)
    with pytest.raises(SyncDataError, match="bad variant 'x'"):
        step_row({"step": "1", "variant": "x"}, "c1")


def test_email_row_takes_the_reply_text_from_the_body():
    row = email_row(
        {"id": "E1", "lead": "Ann@x.co", "body": {"text": "hi", "html": "<p>hi</p>"}, "ue_type": 2}
    )
    assert (row["body_text"], row["body_html"], row["lead_email_normalized"]) == (
        "hi",
        "<p>hi</p>",
        "ann@x.co",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "Lead"), (1, "Interested"), (-4, "No Show"), (4242, "Custom (4242)")],
)
def test_interest_label(value, expected):
    assert interest_label(value) == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", 5])
def test_bad_timestamps_become_null(value):
    assert parse_timestamp(value) is None


def test_unknown_fields_are_logged_once_as_a_warning(caplog):
    records = [{**LEAD, "brand_new": 1}, {**LEAD, "brand_new": 2, "another": True}]
    with caplog.at_level(logging.WARNING):
        extra = warn_unknown_fields("lead", records, Lead)
    assert extra == {"another", "brand_new"}
    assert len(caplog.records) == 1
    assert "another, brand_new" in caplog.records[0].getMessage()


def test_merge_inserts_new_keys_rewrites_changed_rows_and_leaves_the_rest(warehouse_path):
    with Warehouse(warehouse_path).connect() as con:
        first = merge_frame(
            con, "instantly.leads", frame("leads", [lead_row(LEAD), lead_row({"id": "L2"})]), ["id"], "r1"
        )
        again = [lead_row({**LEAD, "email_open_count": 9}), lead_row({"id": "L2"}), lead_row({"id": "L3"})]
        second = merge_frame(con, "instantly.leads", frame("leads", again), ["id"], "r2")
        rows = con.execute("SELECT id, email_open_count, _run_id FROM instantly.leads ORDER BY id").fetchall()
    assert first.as_dict() == {"inserted": 2, "updated": 0, "unchanged": 0}
    assert second.as_dict() == {"inserted": 1, "updated": 1, "unchanged": 1}
    assert rows == [("L1", 9, "r2"), ("L2", 0, "r1"), ("L3", 0, "r2")]


def test_frame_keeps_the_last_copy_of_a_duplicated_key():
    df = frame("leads", [lead_row({"id": "L1", "email": "a@x"}), lead_row({"id": "L1", "email": "b@x"})])
    assert df["email"].to_list() == ["b@x"]
