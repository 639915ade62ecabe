"""The engagement views on a real warehouse (a DuckDB file and a DuckLake): ledger links, email fallback, aggregation rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ops_core.engagement import ENGAGEMENT_COLUMNS
from tasks.pull_transform import campaign_row, frame, lead_row
from warehouse import ledger
from warehouse.db import Warehouse
from warehouse.ledger import LedgerEntry, LedgerScope
from warehouse.merge import merge_frame
from warehouse.views import create_engagement_views

T1 = "2026-03-01T10:00:00.000Z"
T2 = "2026-03-05T10:00:00.000Z"


def _lead(lead_id, campaign, email, **fields):
    return lead_row({"id": lead_id, "campaign": campaign, "email": email, **fields})


@pytest.fixture
def con(warehouse: Warehouse):
    with warehouse.connect() as con:
        con.execute("BEGIN TRANSACTION")  # the tests read and write in it; one DuckLake commit less
        con.execute(
            "CREATE TABLE ops.people (id INTEGER, email VARCHAR, name VARCHAR, instantly_status VARCHAR,"
            " _row_key VARCHAR, _loaded_at TIMESTAMPTZ, _run_id VARCHAR)"
        )
        con.execute(
            "INSERT INTO ops.people VALUES"
            " (1, 'ann@a.co', 'Ann', 'stale', '1', now(), 'p'),"
            " (2, 'Bob@B.co\u200b\u00a0', 'Bob', NULL, '2', now(), 'p'),"  # pasted: zero-width and no-break spaces
            " (3, 'cat@c.co', 'Cat', NULL, '3', now(), 'p'),"
            " (4, NULL, 'Dan', NULL, '4', now(), 'p')"
        )
        con.execute(
            "INSERT INTO ops.source_tables (table_name, source, key_column, email_column, row_count, extracted_at, run_id) VALUES ('people', 'people.csv', 'id', 'email', 4, now(), 'p')"
        )
        pushed = [
            ("c1", "1", "ann@a.co", "L-ann-1"),
            ("c2", "1", "ann@a.co", "L-ann-2"),
            ("c1", "3", "cat@c.co", None),  # a push that failed: no lead id
        ]
        for campaign, key, email, lead in pushed:
            entry = LedgerEntry(key, email, lead, "h", "done", "created", "b")
            ledger.write(con, LedgerScope("ws", campaign, "people", "p"), ledger.entries_of([entry]))
        campaigns = [campaign_row({"id": "c1", "name": "Alpha"}), campaign_row({"id": "c2", "name": "Beta"})]
        merge_frame(con, "instantly.campaigns", frame("campaigns", campaigns), ["id"], "r")
        leads = [
            _lead("L-ann-1", "c1", "ann@a.co", status=1, email_open_count=2, email_reply_count=1,
                  timestamp_last_contact=T1, lt_interest_status=1),
            _lead("L-ann-2", "c2", "ann@a.co", status=-1, email_open_count=1, timestamp_last_contact=T2,
                  lt_interest_status=-1),
            # Added in Instantly by hand (not in the ledger): linked by normalised email.
            _lead("L-bob", "c2", "BOB@b.co", status=1, email_click_count=1, email_open_count=1,
                  timestamp_last_contact=T1),
        ]  # fmt: skip
        merge_frame(con, "instantly.leads", frame("leads", leads), ["id"], "r")
        assert create_engagement_views(con) == ["ops.people_engagement"]
        yield con


def test_engagement_view_has_every_source_row_with_its_engagement(con):
    rows = con.execute(
        "SELECT id, name, instantly_email_status, instantly_status, instantly_reply_count,"
        " instantly_open_count, instantly_click_count, instantly_interest_status, instantly_lead_id,"
        " instantly_campaigns, instantly_last_contacted FROM ops.people_engagement ORDER BY id"
    ).fetchall()
    assert rows == [
        # counts summed, latest timestamp, most advanced statuses (bounced outranks replied)
        (1, "Ann", "bounced", "Bounced", 1, 3, 0, "Interested", "L-ann-2", ["Alpha", "Beta"],
         datetime(2026, 3, 5, 10, tzinfo=UTC)),
        (2, "Bob", "clicked", "Active", 0, 1, 1, "Lead", "L-bob", ["Beta"],
         datetime(2026, 3, 1, 10, tzinfo=UTC)),
        (3, "Cat", "not_contacted", None, 0, 0, 0, None, None, [], None),
        (4, "Dan", "not_contacted", None, 0, 0, 0, None, None, [], None),
    ]  # fmt: skip


def test_engagement_view_keeps_every_source_column_and_replaces_stale_engagement_columns(con):
    columns = [d[0] for d in con.execute("SELECT * FROM ops.people_engagement LIMIT 0").description]
    assert columns[:3] == ["id", "email", "name"]
    assert columns.count("instantly_status") == 1  # the source's stale copy is replaced, not duplicated
    assert set(ENGAGEMENT_COLUMNS) <= set(columns)
    assert "_row_key" in columns


def test_a_source_column_named_like_ours_in_another_case_never_shadows_the_views_own(con):
    # A table extracted before the extract refused such columns. Was: `instantly_reply_count` read the source's
    # 'stale' text and the real count was `instantly_reply_count_1`; the write-back wrote the source's.
    con.execute("ALTER TABLE ops.people ADD COLUMN \"Instantly_Reply_Count\" VARCHAR DEFAULT 'theirs'")
    con.execute("ALTER TABLE ops.people ADD COLUMN \"INSTANTLY_LINK\" VARCHAR DEFAULT 'theirs'")
    create_engagement_views(con)
    for view in ("people_engagement", "people_engagement_by_campaign"):
        columns = [d[0] for d in con.execute(f"SELECT * FROM ops.{view} LIMIT 0").description]
        assert not [
            c for c in columns if c.endswith("_1") or c in ("Instantly_Reply_Count", "INSTANTLY_LINK")
        ]
    rows = con.execute("SELECT id, instantly_reply_count FROM ops.people_engagement ORDER BY id").fetchall()
    assert rows == [(1, 1), (2, 0), (3, 0), (4, 0)]
    links = con.execute("SELECT DISTINCT instantly_link FROM ops.people_engagement_by_campaign ORDER BY 1")
    assert links.fetchall() == [("email",), ("ledger",)]


def test_by_campaign_view_has_one_row_per_source_row_and_campaign(con):
    rows = con.execute(
        "SELECT id, instantly_campaign_id, instantly_campaign_name, instantly_link, instantly_email_status,"
        " instantly_reply_count FROM ops.people_engagement_by_campaign ORDER BY id, instantly_campaign_id"
    ).fetchall()
    assert rows == [
        (1, "c1", "Alpha", "ledger", "replied", 1),
        (1, "c2", "Beta", "ledger", "bounced", 0),
        (2, "c2", "Beta", "email", "clicked", 0),
    ]


def test_views_follow_the_source_table_when_a_push_replaces_it(con):
    # As the extract replaces it: from a staged copy. (Replacing a table from itself, in the transaction that
    # created it, crashed DuckDB with a DuckLake about once in ten runs: a segmentation fault, not an error.)
    con.execute("CREATE TEMP TABLE people_next AS SELECT *, 'x' AS extra FROM ops.people WHERE id < 3")
    con.execute("CREATE OR REPLACE TABLE ops.people AS SELECT * FROM people_next")
    rows = con.execute(
        "SELECT id, extra, instantly_email_status FROM ops.people_engagement ORDER BY id"
    ).fetchall()
    assert rows == [(1, "x", "bounced"), (2, "x", "clicked")]
