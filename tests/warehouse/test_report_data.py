"""The report's campaign filter: ids or exact names, as every other command takes them (real DuckDB)."""

from __future__ import annotations

import os

import pytest

from blocks.warehouse import open_warehouse
from ops_core.errors import OpsError
from tests.warehouse.report_helpers import add_campaign, add_lead
from warehouse.db import Warehouse
from warehouse.report_data import read_report


@pytest.fixture
def warehouse(warehouse_location: str) -> Warehouse:
    """Two campaigns whose names differ only by case, with 2 and 3 leads."""
    wh = open_warehouse(warehouse_location, os.environ.get("OPS_WAREHOUSE_DATA_PATH"))
    with wh.transaction() as con:
        add_campaign(con, "c1", "Q3 founders outreach")
        add_campaign(con, "c2", "q3 founders outreach")
        for cid, emails in [("c1", ["a@x.co", "b@x.co"]), ("c2", ["c@x.co", "d@x.co", "e@x.co"])]:
            for email in emails:
                add_lead(con, cid, email)
    return wh


def test_a_campaign_name_matches_exactly_not_its_case_variants(warehouse: Warehouse) -> None:
    with warehouse.connect(read_only=True) as con:
        upper = read_report(con, ["Q3 founders outreach"])
        lower = read_report(con, ["q3 founders outreach"])
        both = read_report(con, ["Q3 founders outreach", "c2"])
    assert [(r.id, r.funnel.leads) for r in upper.campaigns if r.funnel] == [("c1", 2)]
    assert [(r.id, r.funnel.leads) for r in lower.campaigns if r.funnel] == [("c2", 3)]
    assert upper.total is None  # one campaign: no "all campaigns" row adding its case variant in
    assert sorted(r.id for r in both.campaigns) == ["c1", "c2"]


def test_an_unknown_name_suggests_the_closest_campaign(warehouse: Warehouse) -> None:
    with warehouse.connect(read_only=True) as con, pytest.raises(OpsError) as exc:
        read_report(con, ["Q3 FOUNDERS OUTREACH"])
    assert exc.value.message == (
        "Campaign 'Q3 FOUNDERS OUTREACH' is not in the warehouse (did you mean 'Q3 founders outreach'?)."
    )
    assert exc.value.hint and "ops-instantly sync" in exc.value.hint
    with warehouse.connect(read_only=True) as con, pytest.raises(OpsError) as exc:
        read_report(con, ["Agencies"])
    assert exc.value.message == "Campaign 'Agencies' is not in the warehouse."
