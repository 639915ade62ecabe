"""client.webhooks: create (validated), list, event types, test result."""

import json

import httpx
import pytest

from instantly_client import ValidationError, WebhookIn

HOOK = {"id": "w1", "target_hook_url": "https://h.example/x", "event_type": "reply_received", "status": 1}


def test_create_posts_the_validated_body(make_client, script_factory):
    script = script_factory(httpx.Response(200, json=HOOK))
    hook = make_client(script).webhooks.create(
        WebhookIn(
            target_hook_url="https://h.example/x", event_type="reply_received", headers={"X-Token": "t"}
        )
    )
    assert hook.id == "w1"
    assert json.loads(script.requests[0].content) == {
        "target_hook_url": "https://h.example/x",
        "event_type": "reply_received",
        "headers": {"X-Token": "t"},
    }


def test_create_rejects_a_payload_event_name_before_sending(make_client, script_factory):
    script = script_factory()
    with pytest.raises(ValidationError, match="event_type"):
        make_client(script).webhooks.create({"target_hook_url": "https://x", "event_type": "link_clicked"})
    assert script.requests == []


def test_list_filters_by_campaign_in_the_query(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"items": [HOOK]}))
    hooks = list(make_client(script).webhooks.list(campaign="c1"))
    assert [h.id for h in hooks] == ["w1"]
    assert dict(script.requests[0].url.params) == {"campaign": "c1", "limit": "100"}


def test_event_types_unwraps_the_list(make_client, script_factory):
    body = {"event_types": [{"id": "reply_received", "label": "Reply received", "type": "standard"}]}
    script = script_factory(httpx.Response(200, json=body))
    types = make_client(script).webhooks.event_types()
    assert [(t.id, t.label) for t in types] == [("reply_received", "Reply received")]


def test_test_returns_the_delivery_result(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"success": False, "status_code": 500, "error": "boom"}))
    result = make_client(script).webhooks.test("w1")
    assert (result.success, result.status_code, result.error) == (False, 500, "boom")


def test_update_patches_only_the_given_fields(make_client, script_factory):
    script = script_factory(httpx.Response(200, json=HOOK))
    make_client(script).webhooks.update("w1", {"headers": {"X-Token": "new"}})
    request = script.requests[0]
    assert (request.method, request.url.path) == ("PATCH", "/api/v2/webhooks/w1")
    assert json.loads(request.content) == {"headers": {"X-Token": "new"}}


def test_the_delivery_log_sends_the_spec_query_names(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"items": []}))
    list(make_client(script).webhook_events.list(success=False, from_date="2026-11-01", to_date="2026-11-02"))
    assert dict(script.requests[0].url.params) == {
        "success": "false",
        "from": "2026-11-01",
        "to": "2026-11-02",
        "limit": "100",
    }
