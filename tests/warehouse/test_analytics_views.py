"""The analyst's views and macros (migration 0006): rates per campaign, step and variant, engagement by column."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

import pytest

from blocks.warehouse import open_warehouse
from warehouse.db import Warehouse

META = ["h", datetime(2026, 9, 3, tzinfo=UTC), "run-1"]  # _hash, _loaded_at, _run_id
SEQUENCES = [
    {
        "steps": [
            {"variants": [{"subject": "Quick question"}, {"subject": "A <better> idea"}]},
            {"variants": [{"subject": "Following up"}]},
        ]
    }
]


@pytest.fixture
def warehouse(warehouse_location: str) -> Warehouse:
    wh = open_warehouse(warehouse_location, os.environ.get("OPS_WAREHOUSE_DATA_PATH"))
    with wh.transaction() as con:
        con.execute(
            "INSERT INTO instantly.campaigns (id, name, data, _hash, _loaded_at, _run_id) VALUES (?, ?, ?, ?, ?, ?)",
            ["c1", "Founders", json.dumps({"sequences": SEQUENCES}), *META],
        )
        # (step, variant, sent, unique_opened, unique_replies, unique_opportunities)
        for step, variant, sent, opened, replied, positive in [
            (1, 1, 100, 50, 4, 1),
            (1, 2, 100, 40, 9, 3),
            (2, 1, 150, 30, 3, 0),
        ]:
            con.execute(
                "INSERT INTO instantly.campaign_step_analytics (campaign_id, step, variant, variant_label, sent,"
                " unique_opened, unique_replies, unique_opportunities, unique_clicks, _hash, _loaded_at, _run_id)"
                " VALUES ('c1', ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)",
                [step, variant, "AB"[variant - 1], sent, opened, replied, positive, *META],
            )
        for snapshot, contacted in [(date(2026, 9, 2), 150), (date(2026, 9, 3), 200)]:
            con.execute(
                "INSERT INTO instantly.campaign_analytics (campaign_id, snapshot_date, campaign_name,"
                " leads_count, contacted_count, new_leads_contacted_count, emails_sent_count, open_count_unique,"
                " reply_count_unique, total_opportunities, bounced_count, _hash, _loaded_at, _run_id)"
                " VALUES ('c1', ?, 'Founders', 250, 350, ?, 350, 90, 16, 4, 10, ?, ?, ?)",
                [snapshot, contacted, *META],
            )
    return wh


def test_campaign_rates_use_the_latest_snapshot_and_distinct_leads_contacted(warehouse: Warehouse) -> None:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT snapshot_date, leads_contacted, contacted_count, open_rate, reply_rate,"
            " positive_reply_rate, bounce_rate FROM ops.campaign_rates"
        ).fetchall()
    assert rows == [(date(2026, 9, 3), 200, 350, 0.45, 0.08, 0.02, 0.05)]


def test_step_rates_add_up_the_variants_of_each_step(warehouse: Warehouse) -> None:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT step, variants, sent, replied, reply_rate, open_rate FROM ops.step_rates ORDER BY step"
        ).fetchall()
    assert rows == [(1, 2, 200, 13, 0.065, 0.45), (2, 1, 150, 3, 0.02, 0.2)]


def test_variant_rates_name_the_subject_and_mark_one_winner_per_step_with_two_variants(
    warehouse: Warehouse,
) -> None:
    with warehouse.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT step, variant_label, subject, reply_rate, is_winner FROM ops.variant_rates ORDER BY ALL"
        ).fetchall()
    assert rows == [
        (1, "A", "Quick question", 0.04, False),
        (1, "B", "A <better> idea", 0.09, True),
        (2, "A", "Following up", 0.02, False),  # a step with one variant has no winner
    ]


def test_engagement_by_groups_any_column_of_an_engagement_view(warehouse: Warehouse) -> None:
    with warehouse.connect() as con:
        con.execute(
            """CREATE TABLE ops.prospects_engagement AS SELECT * FROM (VALUES
                ('SaaS', 12, 'replied', 1, 2, 'Interested'),
                ('SaaS', 300, 'opened', 0, 1, 'Lead'),
                ('SaaS', 40, 'bounced', 0, 0, 'Lead'),
                ('Fintech', 8, 'replied', 2, 3, 'Not Interested'),
                ('Fintech', 2000, 'not_contacted', 0, 0, NULL),
                (NULL, 5, 'sent', 0, 0, 'Lead')
            ) v("Industry", "Employees", instantly_email_status, instantly_reply_count, instantly_open_count,
                instantly_interest_status)"""
        )
        by_industry = con.execute(
            'SELECT segment, "rows", contacted, replied, positive_replies, bounced, reply_rate'
            " FROM ops.engagement_by('ops.prospects_engagement', 'Industry')"
        ).fetchall()
        # The column's name in any case, as DuckDB's identifiers (migration 0012).
        any_case = con.execute(
            'SELECT segment, "rows", contacted, replied, positive_replies, bounced, reply_rate'
            " FROM ops.engagement_by('ops.prospects_engagement', 'industry')"
        ).fetchall()
        con.execute(
            'CREATE TEMP VIEW sized AS SELECT *, ops.size_bucket("Employees") AS size FROM ops.prospects_engagement'
        )
        by_size = con.execute(
            "SELECT segment, \"rows\", replied FROM ops.engagement_by('sized', 'size')"
        ).fetchall()
    assert by_industry == [
        ("Fintech", 2, 1, 1, 0, 0, 1.0),
        ("SaaS", 3, 3, 1, 1, 1, 1 / 3),
        (None, 1, 1, 0, 0, 0, 0.0),
    ]
    assert any_case == by_industry
    assert sorted(by_size, key=str) == sorted(
        [("1-10", 2, 1), ("11-50", 2, 1), ("201-1000", 1, 0), ("1001+", 1, 0)], key=str
    )
