"""The demo: the whole loop against a local sandbox, in about a minute.

Sandbox -> a messy demo Ops table -> two campaigns (created and activated) -> push (exactly once, per-row
outcomes) -> simulated weeks of sending -> sync into DuckDB -> the engagement table, a funnel per campaign,
the report, and example SQL for the analyst.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

DEMO_CAMPAIGNS = ("Demo: founders, short sequence", "Demo: founders, long sequence")
DEMO_TABLE = "demo_leads"
REPORT_BY = "Industry"  # the demo report's "reply rate by" source column
SCHEDULE = {
    "schedules": [
        {
            "name": "Weekdays, office hours",
            "timing": {"from": "08:00", "to": "18:00"},
            "days": {"0": False, "1": True, "2": True, "3": True, "4": True, "5": True, "6": False},
            "timezone": "America/Detroit",  # US Eastern: America/New_York is not in Instantly's list
        }
    ]
}


def _sequence(steps: int) -> list[dict[str, object]]:
    """`steps` emails two days apart; the first has two subject lines (an A/B test)."""
    subjects = [
        ["Quick question, {{firstName}}", "{{companyName}} and outbound"],
        ["Re: quick question"],
        ["Worth a chat?"],
        ["Closing the loop"],
    ]
    body = "Hi {{firstName}},<br/>how does {{companyName}} do X?"
    return [
        {
            "steps": [
                {
                    "type": "email",
                    "delay": 2,
                    "delay_unit": "days",
                    "variants": [{"subject": subject, "body": body} for subject in subjects[i]],
                }
                for i in range(steps)
            ]
        }
    ]


EXAMPLE_QUERIES = (
    (
        "Who replied, with their own columns next to Instantly's",
        'SELECT "Email", "Company", instantly_reply_count, instantly_interest_status\n'
        f"FROM ops.{DEMO_TABLE}_engagement WHERE instantly_reply_count > 0 ORDER BY instantly_last_contacted DESC;",
    ),
    (
        "Reply rate by industry (a source column) across both campaigns",
        'SELECT "Industry", count(*) AS leads, round(avg((instantly_reply_count > 0)::INT) * 100, 1) AS reply_pct\n'
        f"FROM ops.{DEMO_TABLE}_engagement GROUP BY 1 ORDER BY reply_pct DESC;",
    ),
    (
        "Reply rate by lead source, with the ops.engagement_by() macro (any column of your table)",
        "SELECT segment AS lead_source, contacted, replied, round(100 * reply_rate, 1) AS reply_pct\n"
        f"FROM ops.engagement_by('ops.{DEMO_TABLE}_engagement', 'Lead Source');",
    ),
    (
        "Which subject line won? (the first step is an A/B test)",
        "SELECT campaign_name, step, variant_label, subject, sent, round(100 * reply_rate, 1) AS reply_pct,"
        " is_winner\nFROM ops.variant_rates ORDER BY campaign_name, step, variant;",
    ),
    (
        "Daily sends and replies per campaign",
        "SELECT c.name, d.date, d.sent, d.unique_opened, d.unique_replies\n"
        "FROM instantly.campaign_daily_analytics d JOIN instantly.campaigns c ON c.id = d.campaign_id\n"
        "ORDER BY d.date, c.name;",
    ),
)


@dataclass
class DemoResult:
    warehouse: Path
    source_csv: Path
    report: Path
    sandbox_url: str


def run_demo(
    *,
    warehouse: Path,
    weeks: int = 4,
    rows: int = 300,
    port: int = 0,
    say: Callable[[str], None] = print,
) -> DemoResult:
    """Run the demo end to end and return where its results are.

    Args:
        warehouse: the demo's DuckDB file (replaced: it belongs to the demo).
        weeks: simulated weeks of sending between push and sync.
        rows: rows in the demo Ops table.
        port: sandbox port (0 picks a free one).
        say: where progress lines go.
    """
    from flows.push_leads import push_leads
    from flows.sync_engagement import sync_engagement
    from instantly_client import InstantlyClient
    from instantly_sandbox import SandboxServer
    from ops_instantly.demo_data import demo_leads
    from tasks.report import read_report, render_html, write_report
    from warehouse.db import Warehouse

    warehouse = warehouse.resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    for stale in (warehouse, warehouse.with_suffix(warehouse.suffix + ".wal")):
        stale.unlink(missing_ok=True)
    source_csv = warehouse.with_name(f"{DEMO_TABLE}.csv")
    demo_leads(rows).write_csv(source_csv)
    say(f"1/6 Demo Ops table: {source_csv} ({rows}+ rows, some invalid, some duplicated)")

    with SandboxServer(port=port, seed=42) as sandbox:
        os.environ["INSTANTLY_API_KEY"] = sandbox.api_key
        os.environ["INSTANTLY_BASE_URL"] = sandbox.base_url
        os.environ["OPS_WAREHOUSE"] = str(warehouse)
        say(f"2/6 Sandbox (a local Instantly API v2) at {sandbox.base_url}")

        with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
            ids: list[str] = []
            for name, steps in zip(DEMO_CAMPAIGNS, (2, 4), strict=True):
                campaign = client.campaigns.create(
                    {
                        "name": name,
                        "campaign_schedule": SCHEDULE,
                        "sequences": _sequence(steps),
                        "daily_limit": 1000,
                        "stop_on_reply": True,
                        "open_tracking": True,
                        "link_tracking": True,
                    }
                )
                assert campaign.id is not None  # the sandbox returns the id of the campaign it created
                ids.append(campaign.id)
        say(f"3/6 Created campaigns: {', '.join(DEMO_CAMPAIGNS)}")

        say("4/6 Pushing the table to both campaigns (Prefect flow push-leads) ...")
        pushed = push_leads(source=str(source_csv), campaigns=list(DEMO_CAMPAIGNS), skip_if="none")
        for entry in pushed["campaigns"]:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(entry["counts"].items()))
            say(f"    {entry['name']}: {counts}")

        with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
            for campaign_id in ids:
                client.campaigns.activate(campaign_id)
        for _week in range(weeks):
            httpx.post(f"{sandbox.url}/_sandbox/advance", json={"days": 7}, timeout=120).raise_for_status()
        say(f"5/6 Activated both campaigns and let {weeks} simulated weeks pass")

        say("6/6 Syncing engagement into DuckDB (Prefect flow sync-engagement) ...")
        sync_engagement()
        sandbox_url = sandbox.url

    with Warehouse(warehouse).connect(read_only=True) as con:
        found = read_report(con, by=REPORT_BY)
    report = write_report(render_html(found), warehouse.with_name("demo-report.html"))
    return DemoResult(warehouse=warehouse, source_csv=source_csv, report=report, sandbox_url=sandbox_url)
