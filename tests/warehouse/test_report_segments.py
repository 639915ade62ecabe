"""The report's breakdown by a source column over every source table feeding a campaign (real DuckDB)."""

from __future__ import annotations

import os

import pytest

from blocks.warehouse import open_warehouse
from tasks.report import render_html
from tests.warehouse.report_helpers import add_campaign, add_lead, add_source_table
from warehouse.db import Warehouse
from warehouse.report_data import read_report
from warehouse.report_rows import CampaignReport
from warehouse.views import create_engagement_views

COLUMNS = {"email": "VARCHAR", "Job Title": "VARCHAR", "Employees": "INTEGER"}


@pytest.fixture
def warehouse(warehouse_location: str) -> Warehouse:
    """Campaign "Q3 follow-up" (c1) fed by three tables: ops.leads_csv and ops.crm (its column spelt
    "job title") have the job title, ops.notes has not. ops.unused has it but feeds only "Other" (c2)."""
    wh = open_warehouse(warehouse_location, os.environ.get("OPS_WAREHOUSE_DATA_PATH"))
    with wh.transaction() as con:
        add_campaign(con, "c1", "Q3 follow-up")
        add_campaign(con, "c2", "Other")
        add_source_table(
            con, "leads_csv", COLUMNS, [("a@x.co", "CEO", 10), ("b@x.co", "CTO", 50), ("c@x.co", "CEO", None)]
        )
        add_source_table(
            con,
            "crm",
            {
                "email": "VARCHAR",
                "job title": "VARCHAR",
                "Employees": "VARCHAR",
            },  # another type: same segments
            [("d@x.co", "CEO", "10"), ("e@x.co", "VP", "200"), ("f@x.co", "CEO", "10")],
        )
        add_source_table(con, "notes", {"email": "VARCHAR", "Company": "VARCHAR"}, [("g@x.co", "Acme")])
        add_source_table(con, "unused", COLUMNS, [("h@x.co", "CEO", 10)])
        add_lead(con, "c1", "a@x.co", replied=True)
        add_lead(con, "c1", "b@x.co")
        add_lead(con, "c1", "c@x.co", contacted=False)
        add_lead(con, "c1", "d@x.co", replied=True, interest=1)  # Interested
        add_lead(con, "c1", "e@x.co")
        add_lead(con, "c1", "g@x.co", replied=True)
        add_lead(con, "c2", "f@x.co")
        add_lead(con, "c2", "h@x.co", contacted=False)
        create_engagement_views(con)
    return wh


def _by(wh: Warehouse, by: str) -> dict[str, CampaignReport]:
    with wh.connect(read_only=True) as con:
        return {r.name: r for r in read_report(con, by=by).campaigns}


def _counts(r: CampaignReport) -> list[tuple[str | None, int, int, int, int]]:
    return [(s.segment, s.rows, s.contacted, s.replied, s.positive) for s in r.segments or []]


def test_segments_sum_every_source_table_feeding_the_campaign(warehouse: Warehouse) -> None:
    reports = _by(warehouse, "Job Title")
    q3 = reports["Q3 follow-up"]
    # CEO: a (replied) and c (not contacted) from ops.leads_csv, d (replied, interested) from ops.crm.
    assert _counts(q3) == [("CEO", 3, 2, 2, 1), ("CTO", 1, 1, 0, 0), ("VP", 1, 1, 0, 0)]
    assert q3.segment_source == (
        "ops.engagement_by() of 'Job Title' over this campaign's rows of ops.crm_engagement_by_campaign"
        " ('job title') + ops.leads_csv_engagement_by_campaign; not in ops.notes (1 row): those rows are"
        " left out"
    )
    # "Other" is fed by ops.crm (f) and ops.unused (h); ops.leads_csv and ops.notes have no lead in it.
    other = reports["Other"]
    assert _counts(other) == [("CEO", 2, 1, 0, 0)]
    assert other.segment_source == (
        "ops.engagement_by() of 'Job Title' over this campaign's rows of ops.crm_engagement_by_campaign"
        " ('job title') + ops.unused_engagement_by_campaign"
    )


def test_a_value_is_one_segment_whatever_its_type_in_each_table(warehouse: Warehouse) -> None:
    q3 = _by(warehouse, "employees")["Q3 follow-up"]  # INTEGER in ops.leads_csv, VARCHAR in ops.crm
    assert sorted(_counts(q3), key=str) == [
        ("10", 2, 2, 2, 1), ("200", 1, 1, 0, 0), ("50", 1, 1, 0, 0), (None, 1, 0, 0, 0)
    ]  # fmt: skip


def test_a_column_of_one_feeding_table_only_names_the_tables_without_it(warehouse: Warehouse) -> None:
    reports = _by(warehouse, "company")
    q3 = reports["Q3 follow-up"]
    assert _counts(q3) == [("Acme", 1, 1, 1, 0)]
    assert q3.segment_source == (
        "ops.engagement_by() of 'Company' over this campaign's rows of ops.notes_engagement_by_campaign;"
        " not in ops.crm (2 rows), ops.leads_csv (3 rows): those rows are left out"
    )
    # No table feeding "Other" has the column: no breakdown, as before.
    assert (reports["Other"].segments, reports["Other"].segment_source) == (None, None)


def test_the_html_breakdown_shows_the_summed_rows_and_the_note(warehouse: Warehouse) -> None:
    with warehouse.connect(read_only=True) as con:
        text = render_html(read_report(con, ["Q3 follow-up"], by="Job Title"))
    assert "Reply rate by Job Title" in text
    assert "<td class='text'><span>CEO</span></td><td>3</td><td>2</td><td>2</td><td>100.0%</td>" in text
    assert (
        "ops.crm_engagement_by_campaign (&#x27;job title&#x27;) + ops.leads_csv_engagement_by_campaign"
        in text
    )
    assert "not in ops.notes (1 row)" in text


def test_a_lead_in_two_feeding_tables_counts_once_per_value(warehouse: Warehouse) -> None:
    with warehouse.transaction() as con:
        # The CRM copy of ops.leads_csv's a and b: a with the same title, b with another one.
        add_source_table(
            con, "crm_copy", COLUMNS, [("a@x.co", "CEO", 10), ("b@x.co", "Chief Technology Officer", 50)]
        )
        create_engagement_views(con)
    q3 = _by(warehouse, "Job Title")["Q3 follow-up"]
    # CEO: a once (in two tables), c, d; b under both of its titles.
    assert _counts(q3) == [
        ("CEO", 3, 2, 2, 1),
        ("CTO", 1, 1, 0, 0),
        ("Chief Technology Officer", 1, 1, 0, 0),
        ("VP", 1, 1, 0, 0),
    ]
