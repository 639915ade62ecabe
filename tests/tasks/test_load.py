"""Loading a sync: a re-pulled window replaces its days, including days the API no longer returns."""

from __future__ import annotations

from datetime import date

from tasks.load import load_sync, read_sync_state
from tasks.pull import PulledData
from tasks.pull_transform import daily_row, lead_row
from warehouse.db import Warehouse


def _pulled(days: dict[str, int], window: tuple[date, date]) -> PulledData:
    rows = [daily_row({"date": day, "sent": sent}, "c1") for day, sent in days.items()]
    return PulledData(
        rows={"campaign_daily_analytics": rows}, daily_ends={"c1": window[1]}, daily_windows={"c1": window}
    )


def _days(wh: Warehouse) -> list[tuple[str, int]]:
    with wh.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT date, sent FROM instantly.campaign_daily_analytics ORDER BY date"
        ).fetchall()
    return [(d.isoformat(), sent) for d, sent in rows]


def test_a_day_the_api_no_longer_returns_inside_the_window_is_removed(warehouse: Warehouse) -> None:
    wh = warehouse
    first = _pulled(
        {"2026-11-01": 5, "2026-11-02": 3, "2026-11-03": 4}, (date(2026, 11, 1), date(2026, 11, 3))
    )
    load_sync.fn(wh, first, workspace="w", run_id="r1")
    # The look-back re-pulls 11-02..11-03 and the API now omits 11-02 (its activity was removed).
    second = _pulled({"2026-11-03": 6}, (date(2026, 11, 2), date(2026, 11, 3)))
    counts = load_sync.fn(wh, second, workspace="w", run_id="r2")
    assert _days(wh) == [("2026-11-01", 5), ("2026-11-03", 6)]  # 11-01 is outside the window
    assert counts["campaign_daily_analytics"]["deleted"] == 1
    assert (
        counts["campaign_daily_analytics"]["inserted"] == 0
        and counts["campaign_daily_analytics"]["updated"] == 1
    )


def test_the_next_pull_gets_the_lead_ids_the_last_sync_stored_per_campaign(warehouse: Warehouse) -> None:
    leads = [
        lead_row({"id": lead_id, "campaign": campaign, "email": f"{lead_id}@example.com"})
        for lead_id, campaign in (("l2", "c1"), ("l1", "c1"), ("l3", "c2"))
    ]
    load_sync.fn(warehouse, PulledData(rows={"leads": leads}), workspace="w", run_id="r1")
    state = read_sync_state.fn(warehouse, "w")
    assert state.synced_ids == {"c1": ["l1", "l2"], "c2": ["l3"]}
    assert state.known_ids == {}  # nothing pushed: the ledger knows none of them
