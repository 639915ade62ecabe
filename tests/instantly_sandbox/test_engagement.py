"""Engagement simulation: every lead field and analytics number is derived from one event history."""

from __future__ import annotations

from collections import Counter

import httpx

from instantly_sandbox import SandboxServer
from tests.instantly_sandbox.helpers import add_leads, make_campaign

ADDITIVE = {
    "sent": "emails_sent_count",
    "opened": "open_count",
    "replies": "reply_count",
    "clicks": "link_click_count",
    "new_leads_contacted": "new_leads_contacted_count",
    "unique_opened": "open_count_unique",
    "unique_replies": "reply_count_unique",
    "replies_automatic": "reply_count_automatic",
    "unique_opportunities": "total_opportunities",
}


def _run(
    client: httpx.Client, sandbox: SandboxServer, n: int = 300, days: int = 21, **campaign: object
) -> str:
    cid = make_campaign(client, daily_limit=1000, **campaign)["id"]
    add_leads(client, cid, n)
    assert client.post(f"/campaigns/{cid}/activate").json()["status"] == 1
    sandbox.advance(days=days)
    return cid


def _all_leads(client: httpx.Client, cid: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page = client.post(
            "/leads/list",
            json={"campaign": cid, "limit": 100, **({"starting_after": cursor} if cursor else {})},
        ).json()
        items += page["items"]
        cursor = page.get("next_starting_after")
        if not page["items"] or not cursor:
            return items


def test_lead_counters_equal_their_events(client: httpx.Client, sandbox: SandboxServer):
    cid = _run(client, sandbox)
    events = sandbox.admin("GET", "events", params={"campaign_id": cid})["items"]
    per_lead = Counter((e["lead_id"], e["kind"]) for e in events)
    leads = _all_leads(client, cid)
    assert len(leads) == 300
    for lead in leads:
        assert lead["email_open_count"] == per_lead[(lead["id"], "opened")]
        assert lead["email_reply_count"] == per_lead[(lead["id"], "replied")]
        assert lead["email_click_count"] == per_lead[(lead["id"], "clicked")]
        if per_lead[(lead["id"], "bounced")]:
            assert lead["status"] == -1
        if per_lead[(lead["id"], "sent")]:
            assert lead["timestamp_last_contact"] is not None
    statuses = Counter(lead["status"] for lead in leads)
    assert statuses[3] > 0 and statuses[-1] > 0  # completed and bounced leads exist
    assert sum(per_lead[(lead["id"], "sent")] for lead in leads) > 300  # follow-ups went out


def test_daily_rows_sum_to_the_campaign_totals(client: httpx.Client, sandbox: SandboxServer):
    cid = _run(client, sandbox)
    (totals,) = client.get("/campaigns/analytics", params={"id": cid}).json()
    daily = client.get("/campaigns/analytics/daily", params={"campaign_id": cid}).json()
    assert daily and all("campaign_id" not in row for row in daily)
    for day_key, total_key in ADDITIVE.items():
        assert sum(row[day_key] for row in daily) == totals[total_key], day_key
    steps = client.get("/campaigns/analytics/steps", params={"campaign_id": cid}).json()
    assert sum(row["sent"] for row in steps) == totals["emails_sent_count"]
    overview = client.get("/campaigns/analytics/overview", params={"id": cid}).json()
    assert overview["emails_sent_count"] == totals["emails_sent_count"]
    assert totals["contacted_count"] == totals["new_leads_contacted_count"] == 300
    assert totals["reply_count"] > 0 and totals["open_count"] > totals["open_count_unique"]


def test_a_window_selects_the_same_events_in_both_views(client: httpx.Client, sandbox: SandboxServer):
    cid = _run(client, sandbox, days=10)
    daily = client.get("/campaigns/analytics/daily", params={"campaign_id": cid}).json()
    window = {"start_date": daily[1]["date"], "end_date": daily[3]["date"]}
    (totals,) = client.get("/campaigns/analytics", params={"id": cid, **window}).json()
    sub = client.get("/campaigns/analytics/daily", params={"campaign_id": cid, **window}).json()
    assert [r["date"] for r in sub] == [r["date"] for r in daily[1:4]]
    assert sum(r["sent"] for r in sub) == totals["emails_sent_count"]
    bad = client.get(
        "/campaigns/analytics/daily", params={"start_date": "2026-02-01", "end_date": "2026-01-01"}
    )
    assert bad.status_code == 400 and bad.json() == {"message": "Start Date must be earlier than End Date"}


def test_analytics_are_empty_until_the_campaign_has_sent(client: httpx.Client, sandbox: SandboxServer):
    cid = make_campaign(client)["id"]
    add_leads(client, cid, 5)
    sandbox.advance(days=3)  # a draft never sends
    assert client.get("/campaigns/analytics", params={"id": cid}).json() == []


def test_paused_campaign_sends_nothing(client: httpx.Client, sandbox: SandboxServer):
    cid = _run(client, sandbox, n=50, days=1)
    client.post(f"/campaigns/{cid}/pause")
    sent_before = len(sandbox.admin("GET", "events", params={"campaign_id": cid, "kind": "sent"})["items"])
    sandbox.advance(days=10)
    sent_after = len(sandbox.admin("GET", "events", params={"campaign_id": cid, "kind": "sent"})["items"])
    assert sent_before > 0 and sent_after == sent_before


def test_stop_on_reply_stops_the_sequence(client: httpx.Client, sandbox: SandboxServer):
    client_config = {"reply_rate": 0.5, "bounce_rate": 0, "unsubscribe_rate": 0, "auto_reply_rate": 0}
    sandbox.admin("POST", "config", json=client_config)
    cid = _run(client, sandbox, n=100, days=21, stop_on_reply=True)
    events = sandbox.admin("GET", "events", params={"campaign_id": cid})["items"]
    replied_at = {}
    for e in events:
        if e["kind"] == "replied":
            replied_at.setdefault(e["lead_id"], e["timestamp"])
    assert replied_at
    for e in events:
        if e["kind"] == "sent" and e["lead_id"] in replied_at:
            assert e["timestamp"] <= replied_at[e["lead_id"]]  # nothing sent after the first reply
    received = client.get(
        "/emails", params={"email_type": "received", "campaign_id": cid, "limit": 100}
    ).json()
    assert {e["lead_id"] for e in received["items"]} <= set(replied_at)


def test_schedule_days_and_daily_limit_are_honoured(client: httpx.Client, sandbox: SandboxServer):
    cid = make_campaign(client, daily_limit=7)["id"]
    add_leads(client, cid, 100)
    client.post(f"/campaigns/{cid}/activate")
    sandbox.advance(days=5)
    daily = client.get("/campaigns/analytics/daily", params={"campaign_id": cid}).json()
    assert daily and max(row["sent"] for row in daily) <= 7 + 7  # one campaign day can straddle two UTC dates


def test_state_file_survives_a_restart(tmp_path):
    path = tmp_path / "sandbox.json"
    with SandboxServer(state_file=path) as first:
        c = httpx.Client(base_url=first.base_url, headers={"Authorization": "Bearer sandbox-key"})
        cid = make_campaign(c)["id"]
        add_leads(c, cid, 10)
        c.post(f"/campaigns/{cid}/activate")
        first.advance(days=3)
        before = c.get("/campaigns/analytics", params={"id": cid}).json()
    with SandboxServer(state_file=path) as second:
        c = httpx.Client(base_url=second.base_url, headers={"Authorization": "Bearer sandbox-key"})
        assert c.get("/campaigns/analytics", params={"id": cid}).json() == before
        assert len(c.post("/leads/list", json={"campaign": cid}).json()["items"]) == 10
