"""The webhook receiver over real HTTP into a real DuckDB file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ops_instantly.webhooks import SECRET_HEADER, WebhookReceiver, event_key, event_kind
from warehouse.db import Warehouse

REPLY = {
    "timestamp": "2026-11-20T10:00:00.000Z",
    "event_type": "reply_received",
    "workspace": "019a0000-0000-7000-8000-000000000001",
    "campaign_id": "019a0000-0000-7000-8000-000000000002",
    "campaign_name": "Q3 founders",
    "lead_email": "Ava.Nguyen@Northwind.io",
    "email_id": "019a0000-0000-7000-8000-0000000000aa",
    "reply_subject": "Re: quick question",
    "reply_text": "Sounds good, let's talk Tuesday.",
    "step": 1,
    "variant": 1,
}


@pytest.fixture
def receiver(warehouse_path: Path):
    with WebhookReceiver(Warehouse(warehouse_path), secret="s3cret") as server:
        yield server


def _rows(path: Path) -> list[tuple]:
    with Warehouse(path).connect(read_only=True) as con:
        return con.execute(
            "SELECT event_type, event_kind, lead_email, reply_text, step FROM instantly.webhook_events"
        ).fetchall()


def test_a_delivery_with_the_secret_is_stored_once_even_when_delivered_twice(receiver, warehouse_path):
    for _ in range(2):
        response = httpx.post(receiver.url, json=REPLY, headers={SECRET_HEADER: "s3cret"})
        assert response.status_code == 200
    assert _rows(warehouse_path) == [
        ("reply_received", "reply_received", "ava.nguyen@northwind.io", "Sounds good, let's talk Tuesday.", 1)
    ]
    assert receiver.received == 2 and receiver.stored == 1


@pytest.mark.parametrize("headers", [{}, {SECRET_HEADER: "wrong"}])
def test_a_delivery_without_the_right_secret_is_refused_and_not_stored(receiver, warehouse_path, headers):
    response = httpx.post(receiver.url, json=REPLY, headers=headers)
    assert response.status_code == 401
    assert receiver.stored == 0


def test_a_body_that_is_not_json_is_refused(receiver):
    response = httpx.post(receiver.url, content=b"not json", headers={SECRET_HEADER: "s3cret"})
    assert response.status_code == 400


def test_payload_names_map_to_subscription_names() -> None:
    assert event_kind("link_clicked") == "email_link_clicked"
    assert event_kind("auto_reply_received") == "reply_received"
    assert event_kind("My custom label") == "My custom label"


def test_event_key_separates_events_of_one_lead_and_matches_redeliveries() -> None:
    opened = {**REPLY, "event_type": "email_opened"}
    assert event_key(REPLY) == event_key(dict(REPLY))
    assert event_key(REPLY) != event_key(opened)
