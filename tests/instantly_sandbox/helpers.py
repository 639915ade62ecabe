"""Helpers for the sandbox tests: campaign bodies and bulk lead pushes."""

from __future__ import annotations

from typing import Any

import httpx

EVERY_DAY = {str(d): True for d in range(7)}


def schedule(timezone: str = "America/Detroit", days: dict[str, bool] | None = None) -> dict[str, Any]:
    return {
        "schedules": [
            {
                "name": "Always",
                "timing": {"from": "00:00", "to": "23:59"},
                "days": EVERY_DAY if days is None else days,
                "timezone": timezone,
            }
        ]
    }


def sequence(*delays_days: int) -> list[dict[str, Any]]:
    steps = [
        {
            "type": "email",
            "delay": d,
            "variants": [
                {"subject": f"Step {i} {{{{firstName}}}}", "body": "Hi"},
                {"subject": f"Step {i} B", "body": "Hello"},
            ],
        }
        for i, d in enumerate(delays_days)
    ]
    return [{"steps": steps}]


def make_campaign(client: httpx.Client, name: str = "Spring outreach", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "campaign_schedule": schedule(), "sequences": sequence(2, 3, 0), **extra}
    resp = client.post("/campaigns", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


def add_leads(client: httpx.Client, campaign_id: str, n: int, start: int = 0, **extra: Any) -> dict[str, Any]:
    leads = [
        {
            "email": f"lead{i}@company{i % 50}.com",
            "first_name": f"Lead{i}",
            "custom_variables": {"segment": "smb", "rank": i},
        }
        for i in range(start, start + n)
    ]
    resp = client.post("/leads/add", json={"campaign_id": campaign_id, "leads": leads, **extra})
    assert resp.status_code == 200, resp.text
    return resp.json()
