"""Webhooks end to end: subscribe through the CLI, the sandbox delivers real HTTP, the receiver stores events."""

from __future__ import annotations

from pathlib import Path

from instantly_client import InstantlyClient
from ops_instantly.webhooks import WebhookReceiver
from tests.cli._cli_helpers import run_cli
from warehouse.db import Warehouse


def test_replies_and_clicks_arrive_in_the_warehouse_with_the_secret_checked(
    sandbox, warehouse_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("OPS_WEBHOOK_SECRET", "s3cret-for-tests")
    sandbox.admin("POST", "/config", json={"reply_rate": 0.5, "click_rate": 0.5, "open_rate": 0.9})
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        campaign = client.campaigns.create(
            {
                "name": "Hooks",
                "campaign_schedule": {
                    "schedules": [
                        {
                            "name": "Every day",
                            "timing": {"from": "00:00", "to": "23:59"},
                            "days": {str(d): True for d in range(7)},
                            "timezone": "America/Detroit",
                        }
                    ]
                },
                "sequences": [
                    {"steps": [{"type": "email", "delay": 1, "variants": [{"subject": "Hi", "body": "Yo"}]}]}
                ],
            }
        ).id
        client.leads.add(campaign_id=campaign, leads=[{"email": f"p{i}@example.com"} for i in range(30)])
        client.campaigns.activate(campaign)

    with WebhookReceiver(Warehouse(warehouse_path), secret="s3cret-for-tests") as receiver:
        result = run_cli(capsys, "webhooks", "subscribe", "--url", receiver.url, "--campaign", "Hooks")
        assert result.code == 0, result.err
        assert "s3cret" not in result.out + result.err
        sandbox.advance(days=10)
        assert sandbox.wait_for_webhooks(timeout=30)
        delivered = receiver.received

    with Warehouse(warehouse_path).connect(read_only=True) as con:
        kinds = dict(
            con.execute("SELECT event_type, count(*) FROM instantly.webhook_events GROUP BY 1").fetchall()
        )
        mapped = con.execute(
            "SELECT DISTINCT event_kind FROM instantly.webhook_events WHERE event_type = 'link_clicked'"
        ).fetchall()
        reply = con.execute(
            "SELECT lead_email, campaign_id FROM instantly.webhook_events WHERE event_type = 'reply_received' LIMIT 1"
        ).fetchone()
    assert delivered == sum(kinds.values())  # every delivery stored once
    assert kinds.get("reply_received", 0) > 0
    assert kinds.get("link_clicked", 0) > 0  # the payload name, not the subscription name
    assert mapped == [("email_link_clicked",)]
    assert reply[0].endswith("@example.com") and reply[1] == campaign
