"""Webhook events overlaid on the engagement views between syncs, and reconciled by the next sync."""

from __future__ import annotations

from datetime import UTC, datetime

from tasks.webhook_events import Delivered, insert_events
from tests.warehouse.test_engagement_views import con  # noqa: F401 - the warehouse fixture of the view tests
from warehouse import ledger
from warehouse.ledger import LedgerEntry, LedgerScope

AT = datetime(2026, 3, 6, 10, tzinfo=UTC)


def _deliver(con, *payloads: dict) -> int:  # noqa: F811
    return insert_events(con, [Delivered(p, AT, "receiver") for p in payloads], "run-w")


def _event(event_type: str, campaign: str, email: str, ts: str = "2026-03-06T09:00:00.000Z") -> dict:
    return {"event_type": event_type, "campaign_id": campaign, "lead_email": email, "timestamp": ts}


def _row(con, person: int) -> tuple:  # noqa: F811
    return con.execute(
        "SELECT instantly_email_status, instantly_status, instantly_reply_count, instantly_open_count,"
        " instantly_click_count, instantly_interest_status, instantly_campaigns"
        " FROM ops.people_engagement WHERE id = ?",
        [person],
    ).fetchone()


def test_a_reply_click_and_interest_change_show_before_any_sync(con) -> None:  # noqa: F811
    before = _row(con, 2)
    assert before[:6] == ("clicked", "Active", 0, 1, 1, "Lead")
    new = _deliver(
        con,
        _event("reply_received", "c2", "bob@b.co"),
        _event("link_clicked", "c2", "bob@b.co", "2026-03-06T08:00:00.000Z"),
        _event("lead_meeting_booked", "c2", "bob@b.co"),
        _event("reply_received", "c2", "bob@b.co"),  # the same delivery again: stored once
    )
    assert new == 3
    assert _row(con, 2)[:6] == ("replied", "Active", 1, 1, 2, "Meeting Booked")


def test_bounce_and_unsubscribe_are_terminal_and_neutral_resets_interest(con) -> None:  # noqa: F811
    _deliver(con, _event("lead_unsubscribed", "c1", "ann@a.co"), _event("lead_neutral", "c1", "ann@a.co"))
    email_status, status, *_, interest, _campaigns = _row(con, 1)
    assert (email_status, status) == ("unsubscribed", "Unsubscribed")
    assert interest == "Not Interested"  # her c2 lead's status now ranks highest (plain Lead is lowest)
    by_campaign = con.execute(
        "SELECT instantly_interest_status FROM ops.people_engagement_by_campaign"
        " WHERE id = 1 AND instantly_campaign_id = 'c1'"
    ).fetchone()
    assert by_campaign == ("Lead",)


def test_a_pushed_lead_no_sync_has_pulled_shows_its_webhook_events(con) -> None:  # noqa: F811
    entry = LedgerEntry("3", "cat@c.co", "L-cat-2", "h", "done", "created", "b")
    ledger.write(con, LedgerScope("ws", "c2", "people", "p"), ledger.entries_of([entry]))
    assert _row(con, 3)[0] == "not_contacted"
    _deliver(con, _event("email_sent", "c2", "cat@c.co"), _event("reply_received", "c2", "cat@c.co"))
    assert _row(con, 3) == ("replied", None, 1, 0, 0, None, ["Beta"])


def test_the_next_sync_reconciles_instead_of_counting_twice(con) -> None:  # noqa: F811
    _deliver(
        con,
        _event("email_opened", "c2", "bob@b.co"),
        _event("email_opened", "c2", "bob@b.co", "2026-02-01T00:00:00.000Z"),
    )
    assert _row(con, 2)[3] == 3  # 1 pulled + 2 newer than a lead never seen opening (no timestamp_last_open)
    # The sync pulls the lead: Instantly now counts both opens and reports the newest.
    con.execute(
        "UPDATE instantly.leads SET email_open_count = 3, timestamp_last_open = '2026-03-06T09:00:00Z'"
        " WHERE id = 'L-bob'"
    )
    assert _row(con, 2)[3] == 3


def test_interest_events_delivered_out_of_order_resolve_by_their_timestamp(con) -> None:  # noqa: F811
    _deliver(con, _event("lead_meeting_completed", "c2", "bob@b.co", "2026-03-07T10:00:00.000Z"))
    _deliver(con, _event("lead_interested", "c2", "bob@b.co", "2026-03-06T10:00:00.000Z"))  # older, later
    assert _row(con, 2)[5] == "Meeting Completed"
