"""`ops-instantly webhooks subscribe/list/test/resume/listen` as a user runs them, against the sandbox."""

from __future__ import annotations

import uuid

import httpx
import pytest

from instantly_client import InstantlyClient
from tests.cli._cli_helpers import assert_one_line_error, run_cli
from tests.webhooks.receiver_process import ReceiverProcess
from webhooks.events import SECRET_HEADER
from webhooks.subscriptions import load_secret

pytestmark = pytest.mark.usefixtures("prefect_harness")
URL = "https://hooks.example.com/instantly/webhook"


@pytest.fixture
def client(sandbox, monkeypatch):
    monkeypatch.setenv("INSTANTLY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        yield client


@pytest.fixture
def block() -> str:
    return f"webhook-secret-{uuid.uuid4().hex[:8]}"


def test_subscribe_twice_reuses_the_subscription_and_never_prints_the_secret(client, block, capsys) -> None:
    first = run_cli(capsys, "webhooks", "subscribe", "--url", URL, "--event", "reply_received",
                    "--event", "email_bounced", "--secret-block", block)  # fmt: skip
    assert first.code == 0, first.err
    secret = load_secret(block)
    assert secret and len(secret) >= 40
    second = run_cli(capsys, "webhooks", "subscribe", "--url", URL, "--event", "reply_received",
                     "--event", "email_bounced", "--secret-block", block)  # fmt: skip
    assert second.code == 0, second.err
    assert first.out.count("Created ") == 2 and second.out.count("Reused ") == 2
    hooks = list(client.webhooks.list())
    assert sorted(h.event_type for h in hooks) == ["email_bounced", "reply_received"]  # never duplicated
    assert all((h.headers or {}).get(SECRET_HEADER) == secret for h in hooks)
    listed = run_cli(capsys, "webhooks", "list")
    for result in (first, second, listed):
        assert secret not in result.out + result.err


def test_subscribe_warns_on_stderr_about_plain_http_but_not_on_loopback_and_subscribes(
    client, block, capsys
) -> None:
    public = "http://hooks.example.com/instantly/webhook"
    warned = run_cli(capsys, "webhooks", "subscribe", "--url", public, "--secret-block", block)
    assert warned.code == 0 and "Created " in warned.out  # warned, not refused: SPEC allows ^https?://
    [line] = warned.err.splitlines()
    assert line.startswith(f"warning: {public} is plain http") and "https" in line
    local = "http://127.0.0.1:8800/instantly/webhook"
    quiet = run_cli(capsys, "webhooks", "subscribe", "--url", local, "--secret-block", block)
    assert quiet.code == 0 and quiet.err == ""
    assert sorted(h.target_hook_url for h in client.webhooks.list()) == sorted([public, local])


def test_subscribe_updates_a_subscription_whose_secret_or_state_is_stale(client, block, capsys) -> None:
    stale = client.webhooks.create(
        {"target_hook_url": URL, "event_type": "all_events", "headers": {SECRET_HEADER: "old"}}
    )
    result = run_cli(capsys, "webhooks", "subscribe", "--url", URL, "--secret-block", block)
    assert result.code == 0, result.err
    assert f"Updated {stale.id}" in result.out
    [hook] = list(client.webhooks.list())
    assert (hook.headers or {})[SECRET_HEADER] == load_secret(block)


def test_test_delivers_to_the_receiver_and_resume_reenables_a_disabled_hook(
    sandbox, client, block, capsys, tmp_path
) -> None:
    run_cli(capsys, "webhooks", "subscribe", "--url", "http://127.0.0.1:9/instantly/webhook",
            "--secret-block", block)  # fmt: skip
    secret = load_secret(block)
    assert secret
    with ReceiverProcess(tmp_path / "spool", secret) as receiver:
        [dead] = list(client.webhooks.list())
        failed = run_cli(capsys, "webhooks", "test", str(dead.id))
        assert_one_line_error(failed, "Test delivery failed")
        subscribed = run_cli(capsys, "webhooks", "subscribe", "--url", receiver.url, "--secret-block", block)
        hook_id = subscribed.out.split()[1].rstrip(":")
        tested = run_cli(capsys, "webhooks", "test", hook_id)
        assert tested.code == 0 and "HTTP 200" in tested.out, tested.err

    campaign = client.campaigns.create({"name": "Dead", "campaign_schedule": {"schedules": [
        {"name": "a", "timing": {"from": "00:00", "to": "23:59"}, "days": {str(d): True for d in range(7)},
         "timezone": "America/Detroit"}]}, "sequences": [{"steps": [{"type": "email", "delay": 1,
         "variants": [{"subject": "s", "body": "b"}]}]}]})  # fmt: skip
    client.leads.add(campaign_id=campaign.id, leads=[{"email": "x@example.com"}])
    client.campaigns.activate(campaign.id)
    sandbox.advance(days=1)
    assert sandbox.wait_for_webhooks(timeout=60)
    assert client.webhooks.get(str(dead.id)).status == -1
    resumed = run_cli(capsys, "webhooks", "resume", str(dead.id))
    assert resumed.code == 0 and "active" in resumed.out
    assert client.webhooks.get(str(dead.id)).status == 1


def test_listen_without_any_secret_is_one_clear_error(block, monkeypatch, capsys) -> None:
    monkeypatch.delenv("OPS_WEBHOOK_SECRET", raising=False)
    result = run_cli(capsys, "webhooks", "listen", "--port", "0", "--secret-block", block)
    assert_one_line_error(result, "No webhook secret", block)


def test_ingest_and_replay_print_what_they_loaded(client, sandbox, capsys, tmp_path) -> None:
    spool, warehouse = tmp_path / "spool", tmp_path / "wh.duckdb"
    with ReceiverProcess(spool, "s3cret") as receiver:
        for n in range(3):
            payload = {"event_type": "email_opened", "lead_email": f"o{n}@example.com", "n": n}
            assert (
                httpx.post(receiver.url, json=payload, headers={SECRET_HEADER: "s3cret"}).status_code == 200
            )
    ingested = run_cli(capsys, "webhooks", "ingest", "--spool", str(spool), "--warehouse", str(warehouse))
    assert ingested.code == 0, ingested.err
    assert "spool: 1 segments, 3 events, 3 new" in ingested.out

    client.webhooks.create({"target_hook_url": "http://127.0.0.1:9/x", "event_type": "all_events"})
    campaign = client.campaigns.create({"name": "Replay", "campaign_schedule": {"schedules": [
        {"name": "a", "timing": {"from": "00:00", "to": "23:59"}, "days": {str(d): True for d in range(7)},
         "timezone": "America/Detroit"}]}, "sequences": [{"steps": [{"type": "email", "delay": 1,
         "variants": [{"subject": "s", "body": "b"}]}]}]})  # fmt: skip
    client.leads.add(campaign_id=campaign.id, leads=[{"email": "r@example.com"}])
    client.campaigns.activate(campaign.id)
    sandbox.advance(days=1)
    assert sandbox.wait_for_webhooks(timeout=60)
    replayed = run_cli(capsys, "webhooks", "replay", "--spool", str(spool), "--warehouse", str(warehouse))
    assert replayed.code == 0, replayed.err
    assert "spool: 0 segments" in replayed.out and " 0 new" not in replayed.out.splitlines()[-1]
    bad = run_cli(capsys, "webhooks", "replay", "--since", "last week", "--warehouse", str(warehouse))
    assert_one_line_error(bad, "--since")
