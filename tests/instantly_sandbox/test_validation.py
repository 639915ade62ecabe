"""Requests are checked against the OpenAPI document (plus the rules it states only in prose)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from instantly_sandbox import SandboxServer
from tests.instantly_sandbox.helpers import make_campaign, schedule


def _lead_add(campaign_id: str, override: dict[str, Any]) -> dict[str, Any]:
    return {"campaign_id": campaign_id, "leads": [{"email": "a@b.co"}], **override}


LEAD_ADD_CASES = [
    (
        "unknown lead field",
        {"leads": [{"email": "a@b.co", "favourite_colour": "red"}]},
        "body/leads/0 must NOT have additional properties",
    ),
    (
        "object custom variable",
        {"leads": [{"email": "a@b.co", "custom_variables": {"deal": {"size": 3}}}]},
        "body/leads/0/custom_variables/deal must be string,number,boolean,null",
    ),
    (
        "array custom variable",
        {"leads": [{"email": "a@b.co", "custom_variables": {"tags": ["a"]}}]},
        "body/leads/0/custom_variables/tags must be string,number,boolean,null",
    ),
    ("no leads", {"leads": []}, "body/leads must NOT have fewer than 1 items"),
    (
        "1001 leads",
        {"leads": [{"email": f"l{i}@x.co"} for i in range(1001)]},
        "body/leads must NOT have more than 1000 items",
    ),
    (
        "both campaign and list",
        {"list_id": "019ffad2-9c4e-7be6-8364-ed45ac8115bc"},
        "You must provide a campaign_id or a list_id, but not both",
    ),
    (
        "interest outside the enum",
        {"leads": [{"email": "a@b.co", "lt_interest_status": 7}]},
        "body/leads/0/lt_interest_status must be equal to one of the allowed values",
    ),
    ("campaign id not a uuid", {"campaign_id": "campaign-1"}, 'body/campaign_id must match format "uuid"'),
]


@pytest.mark.parametrize(("case", "override", "message"), LEAD_ADD_CASES, ids=[c[0] for c in LEAD_ADD_CASES])
def test_bulk_add_rejects_invalid_bodies(client: httpx.Client, case: str, override: dict, message: str):
    campaign = make_campaign(client)
    resp = client.post("/leads/add", json=_lead_add(campaign["id"], override))
    assert resp.status_code == 400
    assert resp.json() == {"statusCode": 400, "error": "Bad Request", "message": message}
    assert client.post("/leads/list", json={"campaign": campaign["id"]}).json()["items"] == []


def test_bulk_add_without_campaign_or_list_is_rejected(client: httpx.Client):
    resp = client.post("/leads/add", json={"leads": [{"email": "a@b.co"}]})
    assert resp.status_code == 400


CAMPAIGN_CASES = [
    (
        "timezone outside the closed enum",
        schedule("America/New_York"),
        "body/campaign_schedule/schedules/0/timezone must be equal to one of the allowed values",
    ),
    (
        "day value not boolean",
        schedule(days={"1": "yes"}),
        "body/campaign_schedule/schedules/0/days/1 must be boolean",
    ),
    (
        "no days",
        schedule(days={}),
        "body/campaign_schedule/schedules/0/days must NOT have fewer than 1 properties",
    ),
    (
        "bad timing",
        {"schedules": [{**schedule()["schedules"][0], "timing": {"from": "9:00", "to": "17:00"}}]},
        "body/campaign_schedule/schedules/0/timing/from must match pattern "
        '"^([01][0-9]|2[0-3]):([0-5][0-9])$"',
    ),
]


@pytest.mark.parametrize(("case", "sched", "message"), CAMPAIGN_CASES, ids=[c[0] for c in CAMPAIGN_CASES])
def test_campaign_schedule_is_checked_against_the_spec(
    client: httpx.Client, case: str, sched: dict, message: str
):
    resp = client.post("/campaigns", json={"name": "x", "campaign_schedule": sched})
    assert resp.status_code == 400
    assert resp.json()["message"] == message


def test_day_key_7_is_accepted_because_the_spec_does_not_forbid_it(client: httpx.Client):
    # SPEC `days` lists properties "0".."6" but has no additionalProperties:false, so AJV lets "7" through.
    resp = client.post(
        "/campaigns", json={"name": "x", "campaign_schedule": schedule(days={"1": True, "7": True})}
    )
    assert resp.status_code == 200


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_outside_1_to_100_is_rejected(client: httpx.Client, limit: int):
    assert client.get("/campaigns", params={"limit": limit}).status_code == 400
    resp = client.post("/leads/list", json={"limit": limit})
    assert resp.status_code == 400
    assert resp.json()["message"] == f"body/limit must be {'>= 1' if limit == 0 else '<= 100'}"


def test_query_limit_is_coerced_and_checked(client: httpx.Client):
    resp = client.get("/campaigns", params={"limit": "lots"})
    assert resp.json()["message"] == "querystring/limit must be integer"


def test_unknown_list_filter_is_rejected(client: httpx.Client):
    assert client.post("/leads/list", json={"filter": "FILTER_VAL_EVERYTHING"}).status_code == 400
    assert client.post("/leads/list", json={"filter": "FILTER_VAL_REPLIED"}).status_code == 200


def test_unknown_webhook_event_type_is_rejected(client: httpx.Client):
    resp = client.post("/webhooks", json={"target_hook_url": "https://x.io/h", "event_type": "link_clicked"})
    assert resp.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/campaigns/{id}/activate"), ("POST", "/campaigns/{id}/pause"), ("DELETE", "/campaigns/{id}")],
)
def test_bodyless_calls_with_json_content_type_and_empty_body_are_rejected(
    client: httpx.Client, method, path
):
    campaign = make_campaign(client)
    url = path.format(id=campaign["id"])
    resp = client.request(method, url, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["message"] == "Body cannot be empty when content-type is set to 'application/json'"
    assert client.request(method, url).status_code == 200  # the same call without the header works


def test_bodyless_lead_delete_with_json_content_type_is_rejected(
    client: httpx.Client, sandbox: SandboxServer
):
    campaign = make_campaign(client)
    lead = client.post("/leads", json={"campaign": campaign["id"], "email": "solo@x.io"}).json()
    resp = client.delete(f"/leads/{lead['id']}", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400
    assert lead["id"] in sandbox.state.leads


def test_patch_lead_cannot_change_email_or_campaign(client: httpx.Client):
    campaign = make_campaign(client)
    lead = client.post("/leads", json={"campaign": campaign["id"], "email": "solo@x.io"}).json()
    for field in ({"email": "other@x.io"}, {"campaign": campaign["id"]}):
        assert client.patch(f"/leads/{lead['id']}", json=field).status_code == 400


def test_invalid_path_id_is_a_params_error(client: httpx.Client):
    resp = client.get("/campaigns/not-a-uuid")
    assert resp.json()["message"] == 'params/id must match format "uuid"'


def test_missing_lead_is_a_404(client: httpx.Client):
    resp = client.get("/leads/019ffad2-9c4e-7be6-8364-ed45ac8115bc")
    assert resp.status_code == 404
    assert resp.json()["error"] == "Not Found"
