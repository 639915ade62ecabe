"""Webhook delivery to a real local receiver, API-key behaviour and injected faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from instantly_sandbox import SandboxServer
from tests.instantly_sandbox.helpers import add_leads, make_campaign


class Receiver:
    """A tiny webhook receiver on a free port; `fail=True` answers 500 to everything."""

    def __init__(self, fail: bool = False) -> None:
        self.hits: list[tuple[dict[str, str], dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.hits.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_webhooks_deliver_payloads_with_custom_headers_and_payload_names(
    client: httpx.Client, sandbox: SandboxServer, receiver: Receiver
):
    sandbox.admin("POST", "config", json={"open_rate": 1.0, "click_rate": 1.0, "bounce_rate": 0})
    cid = make_campaign(client)["id"]
    for event_type in ("email_link_clicked", "all_events"):
        body = {
            "target_hook_url": receiver.url,
            "event_type": event_type,
            "campaign": cid,
            "headers": {"X-Shared-Secret": "s3cret"},
        }
        assert client.post("/webhooks", json=body).status_code == 200
    add_leads(client, cid, 5)
    client.post(f"/campaigns/{cid}/activate")
    sandbox.advance(days=2)
    assert sandbox.wait_for_webhooks()
    assert receiver.hits and all(h["x-shared-secret"] == "s3cret" for h, _ in receiver.hits)
    types = [p["event_type"] for _, p in receiver.hits]
    assert "link_clicked" in types and "email_link_clicked" not in types
    assert types.count("link_clicked") == 2 * len(
        sandbox.admin("GET", "events", params={"campaign_id": cid, "kind": "clicked"})["items"]
    )
    sent = next(p for _, p in receiver.hits if p["event_type"] == "email_sent")
    assert sent["step"] == 1 and sent["variant"] in (1, 2) and sent["campaign_id"] == cid
    assert sent["lead_email"].endswith(".com") and sent["segment"] == "smb"  # custom variables ride along
    for key in (
        "timestamp",
        "workspace",
        "campaign_name",
        "email_account",
        "is_first",
        "email_id",
        "email_subject",
    ):
        assert key in sent


def test_failing_receiver_disables_the_webhook_until_resumed(client: httpx.Client, sandbox: SandboxServer):
    bad = Receiver(fail=True)
    try:
        hook = client.post("/webhooks", json={"target_hook_url": bad.url, "event_type": "email_sent"}).json()
        cid = make_campaign(client)["id"]
        add_leads(client, cid, 3)
        client.post(f"/campaigns/{cid}/activate")
        sandbox.advance(days=1)
        assert sandbox.wait_for_webhooks()
        after = client.get(f"/webhooks/{hook['id']}").json()
        assert after["status"] == -1 and after["timestamp_error"]
        assert len(bad.hits) == 3  # one delivery, three attempts, then disabled
        test = client.post(f"/webhooks/{hook['id']}/test").json()
        assert test["success"] is False and test["status_code"] == 500
        assert client.post(f"/webhooks/{hook['id']}/resume").json()["status"] == 1
    finally:
        bad.close()


def test_webhook_test_endpoint_really_posts(client: httpx.Client, receiver: Receiver):
    hook = client.post(
        "/webhooks",
        json={"target_hook_url": receiver.url, "headers": {"A": "b"}, "event_type": "reply_received"},
    ).json()
    result = client.post(f"/webhooks/{hook['id']}/test").json()
    assert result["success"] is True and result["status_code"] == 200
    assert receiver.hits[0][0]["a"] == "b"


@pytest.mark.parametrize(
    ("key", "method", "path", "status"),
    [
        ("sandbox-unpaid", "GET", "/campaigns", 402),
        ("sandbox-readonly", "GET", "/campaigns", 200),
        ("sandbox-readonly", "POST", "/leads/list", 200),
        ("sandbox-readonly", "POST", "/webhooks", 403),
        ("wrong", "GET", "/campaigns", 401),
    ],
)
def test_special_api_keys(sandbox: SandboxServer, key: str, method: str, path: str, status: int):
    resp = httpx.request(
        method,
        f"{sandbox.base_url}{path}",
        headers={"Authorization": f"Bearer {key}"},
        json={"target_hook_url": "https://x.io"} if path == "/webhooks" else {},
    )
    assert resp.status_code == status


def test_reset_after_processing_drops_the_connection_but_the_leads_exist(
    client: httpx.Client, sandbox: SandboxServer
):
    cid = make_campaign(client)["id"]
    sandbox.admin("POST", "faults", json={"reset_rate": 1.0, "path_prefix": "/api/v2/leads/add"})
    with pytest.raises(httpx.TransportError):
        add_leads(client, cid, 3)
    sandbox.admin("POST", "faults", json={"reset_rate": 0.0})
    emails = [lead["email"] for lead in sandbox.admin("GET", "leads", params={"campaign_id": cid})["items"]]
    assert emails == ["lead0@company0.com", "lead1@company1.com", "lead2@company2.com"]
    assert sandbox.admin("GET", "stats")["faults_reset"] == 1


def test_fail_rate_answers_5xx_and_writes_nothing(client: httpx.Client, sandbox: SandboxServer):
    cid = make_campaign(client)["id"]
    sandbox.admin("POST", "faults", json={"fail_rate": 1.0})
    resp = client.post("/leads/add", json={"campaign_id": cid, "leads": [{"email": "a@b.co"}]})
    assert resp.status_code in (500, 502, 503) and set(resp.json()) == {"statusCode", "error", "message"}
    sandbox.admin("POST", "faults", json={"fail_rate": 0.0})
    assert sandbox.admin("GET", "leads", params={"campaign_id": cid})["items"] == []


def test_targeted_rule_fails_only_the_third_bulk_add(client: httpx.Client, sandbox: SandboxServer):
    cid = make_campaign(client)["id"]
    rule = {"path_prefix": "/api/v2/leads/add", "action": "fail", "nth": [3], "status": 503}
    sandbox.admin("POST", "faults", json={"rules": [rule]})
    statuses = [
        client.post("/leads/add", json={"campaign_id": cid, "leads": [{"email": f"l{i}@x.io"}]}).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 503, 200]
    assert client.get("/campaigns").status_code == 200


def test_timeout_fault_processes_then_answers_too_late(client: httpx.Client, sandbox: SandboxServer):
    cid = make_campaign(client)["id"]
    sandbox.admin(
        "POST",
        "faults",
        json={"timeout_rate": 1.0, "timeout_seconds": 1.0, "path_prefix": "/api/v2/leads/add"},
    )
    with pytest.raises(httpx.ReadTimeout):
        client.post("/leads/add", json={"campaign_id": cid, "leads": [{"email": "a@b.co"}]}, timeout=0.3)
    assert len(sandbox.admin("GET", "leads", params={"campaign_id": cid})["items"]) == 1


def test_burst_429_then_recovers(client: httpx.Client, sandbox: SandboxServer):
    sandbox.admin("POST", "faults", json={"burst_429": 2})
    assert [client.get("/campaigns").status_code for _ in range(3)] == [429, 429, 200]
    assert sandbox.admin("GET", "faults")["burst_429"] == 0
