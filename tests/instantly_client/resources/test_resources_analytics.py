"""client.analytics: parameter names per endpoint (the id / ids / campaign_id trap)."""

from datetime import date

import httpx

DAILY_ROW = {"date": "2026-08-01", "sent": 10, "opened": 4, "unique_opened": 3, "replies": 1, "clicks": 0}


def params(request):
    return list(request.url.params.multi_items())


def test_daily_sends_campaign_id_start_date_and_end_date(make_client, script_factory):
    script = script_factory(httpx.Response(200, json=[DAILY_ROW]))
    rows = make_client(script).analytics.daily(
        campaign_id="c1", start_date=date(2026, 8, 1), end_date="2026-08-31", campaign_status=1
    )
    req = script.requests[0]
    assert req.url.path == "/api/v2/campaigns/analytics/daily"
    assert params(req) == [
        ("campaign_id", "c1"),
        ("start_date", "2026-08-01"),
        ("end_date", "2026-08-31"),
        ("campaign_status", "1"),
    ]
    assert rows[0].sent == 10 and rows[0].date == "2026-08-01"


def test_campaigns_sends_ids_as_repeated_keys(make_client, script_factory):
    script = script_factory(
        httpx.Response(200, json=[{"campaign_id": "a", "campaign_name": "A", "leads_count": 5}])
    )
    rows = make_client(script).analytics.campaigns(ids=["a", "b"], exclude_total_leads_count=True)
    assert params(script.requests[0]) == [("ids", "a"), ("ids", "b"), ("exclude_total_leads_count", "true")]
    assert rows[0].campaign_name == "A"


def test_campaigns_with_no_filter_asks_for_all_and_handles_an_empty_array(make_client, script_factory):
    script = script_factory(httpx.Response(200, json=[]))
    assert make_client(script).analytics.campaigns() == []
    assert script.requests[0].url.query == b""


def test_overview_uses_id_and_returns_one_object(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"emails_sent_count": 7, "total_interested": 2}))
    overview = make_client(script).analytics.overview(id="c1", expand_crm_events=False)
    assert params(script.requests[0]) == [("id", "c1"), ("expand_crm_events", "false")]
    assert (overview.emails_sent_count, overview.total_interested) == (7, 2)


def test_steps_uses_campaign_id_and_keeps_string_step_numbers(make_client, script_factory):
    script = script_factory(httpx.Response(200, json=[{"step": "0", "variant": "1", "sent": 3}]))
    rows = make_client(script).analytics.steps(campaign_id="c1", include_opportunities_count=True)
    assert script.requests[0].url.path == "/api/v2/campaigns/analytics/steps"
    assert params(script.requests[0]) == [("campaign_id", "c1"), ("include_opportunities_count", "true")]
    assert (rows[0].step, rows[0].variant) == ("0", "1")
