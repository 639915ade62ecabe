"""Every served operation answers with a body that validates against the project's OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from instantly_sandbox import SandboxServer, _router, _spec
from tests.instantly_sandbox.helpers import add_leads, make_campaign


class SpecChecker:
    """Validate responses against SPEC response schemas ($refs resolved, 3.1 `type: [.., "null"]`)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.seen: set[tuple[str, str]] = set()

    def call(self, method: str, template: str, path: str | None = None, **kwargs: Any) -> Any:
        resp = self.client.request(method, path or template.removeprefix("/api/v2"), **kwargs)
        assert resp.status_code in (200, 202), f"{method} {template}: {resp.status_code} {resp.text}"
        schema = _spec.response_schema(method, template, resp.status_code)
        assert schema is not None, f"SPEC documents no {resp.status_code} for {method} {template}"
        errors = list(Draft202012Validator(schema, format_checker=_spec.FORMATS).iter_errors(resp.json()))
        assert not errors, f"{method} {template}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5]
        )
        self.seen.add((method, template))
        return resp.json()


def test_every_served_operation_matches_its_response_schema(sandbox: SandboxServer, client: httpx.Client):
    spec = SpecChecker(client)
    c = "/api/v2/campaigns"
    weekly = {
        "name": "s",
        "timing": {"from": "00:00", "to": "23:59"},
        "days": {"1": True},
        "timezone": "Etc/GMT+12",
    }
    campaign = spec.call(
        "POST", c, json={"name": "Conformance", "campaign_schedule": {"schedules": [weekly]}}
    )
    cid = campaign["id"]
    spec.call("GET", "/api/v2/workspaces/current")
    spec.call("GET", c, params={"limit": 1})
    spec.call("GET", f"{c}/{{id}}", f"/campaigns/{cid}")
    spec.call("PATCH", f"{c}/{{id}}", f"/campaigns/{cid}", json={"daily_limit": 1000, "pl_value": 100})
    busy = make_campaign(client, "Busy", pl_value=250)
    added = add_leads(client, busy["id"], 40)
    spec.call("POST", "/api/v2/leads/add", json={"campaign_id": cid, "leads": [{"email": "x@y.co"}]})
    spec.call("POST", f"{c}/{{id}}/activate", f"/campaigns/{busy['id']}/activate")
    sandbox.advance(days=14)
    spec.call("POST", f"{c}/{{id}}/pause", f"/campaigns/{busy['id']}/pause")
    copy = spec.call("POST", f"{c}/{{id}}/duplicate", f"/campaigns/{cid}/duplicate", json={})
    assert copy["name"] == "Conformance (copy)"

    lead_id = added["created_leads"][0]["id"]
    spec.call("POST", "/api/v2/leads", json={"campaign": cid, "email": "single@lead.io", "first_name": "S"})
    listed = spec.call("POST", "/api/v2/leads/list", json={"campaign": busy["id"], "limit": 100})
    assert any(item["email_open_count"] for item in listed["items"])
    spec.call("GET", "/api/v2/leads/{id}", f"/leads/{lead_id}")
    spec.call("PATCH", "/api/v2/leads/{id}", f"/leads/{lead_id}", json={"lt_interest_status": 1})
    spec.call(
        "POST",
        "/api/v2/leads/update-interest-status",
        json={"lead_email": "lead1@company1.com", "interest_value": 2},
    )
    job = spec.call(
        "POST",
        "/api/v2/leads/move",
        json={"campaign": busy["id"], "ids": [added["created_leads"][2]["id"]], "to_campaign_id": cid},
    )
    spec.call("GET", "/api/v2/background-jobs/{id}", f"/background-jobs/{job['id']}")
    spec.call("DELETE", "/api/v2/leads/{id}", f"/leads/{added['created_leads'][3]['id']}")
    spec.call("DELETE", "/api/v2/leads", json={"campaign_id": busy["id"], "status": -1})

    a = "/api/v2/campaigns/analytics"
    rows = spec.call("GET", a, params={"ids": [busy["id"], cid]})
    assert [r["campaign_id"] for r in rows] == [busy["id"]]  # the draft never sent: no row
    spec.call("GET", f"{a}/overview")
    spec.call("GET", f"{a}/daily", params={"campaign_id": busy["id"]})
    spec.call("GET", f"{a}/steps", params={"campaign_id": busy["id"], "include_opportunities_count": "true"})

    w = "/api/v2/webhooks"
    hook = spec.call(
        "POST",
        w,
        json={
            "target_hook_url": "http://127.0.0.1:9/hook",
            "event_type": "email_sent",
            "headers": {"X-Secret": "s3"},
        },
    )
    spec.call("GET", w)
    spec.call("GET", f"{w}/event-types")
    spec.call("GET", f"{w}/{{id}}", f"/webhooks/{hook['id']}")
    spec.call("PATCH", f"{w}/{{id}}", f"/webhooks/{hook['id']}", json={"name": "renamed"})
    result = spec.call("POST", f"{w}/{{id}}/test", f"/webhooks/{hook['id']}/test")
    assert result["success"] is False  # nothing listens on port 9
    interested = spec.call(
        "POST", w, json={"target_hook_url": "http://127.0.0.1:9/hook", "event_type": "lead_interested"}
    )
    resp = client.post(
        "/leads/update-interest-status",
        json={"lead_email": listed["items"][-1]["email"], "interest_value": 1},
    )
    assert resp.status_code == 202, resp.text
    assert sandbox.wait_for_webhooks(timeout=30)
    e = "/api/v2/webhook-events"
    failed = spec.call("GET", e, params={"success": "false", "limit": 100})["items"]
    assert failed and all(not item["success"] and item["payload"] for item in failed)
    assert failed[-1]["will_retry"] is False  # the last of the attempts: the webhook is then disabled
    spec.call("GET", f"{e}/{{id}}", f"/webhook-events/{failed[0]['id']}")
    spec.call("GET", f"{e}/summary", params={"from": failed[0]["timestamp_created_date"]})
    spec.call("GET", f"{e}/summary-by-date")
    spec.call("POST", f"{w}/{{id}}/resume", f"/webhooks/{interested['id']}/resume")
    spec.call("DELETE", f"{w}/{{id}}", f"/webhooks/{hook['id']}")

    spec.call("GET", "/api/v2/accounts", params={"limit": 2})
    emails = spec.call("GET", "/api/v2/emails", params={"limit": 100})
    assert {e["ue_type"] for e in emails["items"]} >= {1, 2}
    spec.call("GET", "/api/v2/block-lists-entries")
    spec.call("POST", "/api/v2/block-lists-entries", json={"bl_value": "spam.example"})
    spec.call("DELETE", f"{c}/{{id}}", f"/campaigns/{copy['id']}")

    served = {(r.method, r.template) for r in _router.ROUTES if r.template.startswith("/api/v2")}
    assert served - spec.seen == set(), "served operations not exercised by this test"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"Authorization": "Bearer nope"}, 401), ({"Authorization": "Bearer sandbox-unpaid-1"}, 402)],
)
def test_error_bodies_use_the_documented_envelope(sandbox: SandboxServer, headers: dict, status: int):
    resp = httpx.get(f"{sandbox.base_url}/campaigns", headers=headers)
    assert resp.status_code == status
    schema = _spec.response_schema("GET", "/api/v2/campaigns", status)
    assert not list(Draft202012Validator(schema).iter_errors(resp.json()))
    assert set(resp.json()) == {"statusCode", "error", "message"}


def test_validation_errors_match_the_documented_400_schema(client: httpx.Client):
    resp = client.post("/campaigns", json={"campaign_schedule": {"schedules": []}})
    assert resp.status_code == 400
    schema = _spec.response_schema("POST", "/api/v2/campaigns", 400)
    assert not list(Draft202012Validator(schema).iter_errors(resp.json()))
    assert resp.json()["message"] == "body must have required property 'name'"


def test_unserved_path_is_a_404_envelope(client: httpx.Client):
    resp = client.get("/lead-labels")
    assert resp.status_code == 404
    assert resp.json() == {
        "statusCode": 404,
        "error": "Not Found",
        "message": "Route GET:/api/v2/lead-labels not found",
    }
