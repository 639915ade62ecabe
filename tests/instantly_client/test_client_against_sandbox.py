"""The client over real HTTP against the sandbox: 10,000 leads paged exactly once, through 429s and 5xx."""

from __future__ import annotations

import httpx
import pytest

from instantly_client import InstantlyClient
from instantly_client.errors import AuthenticationError, OutcomeUnknownError, PaymentRequiredError

SCHEDULE = {
    "schedules": [
        {
            "name": "Weekdays",
            "timing": {"from": "09:00", "to": "17:00"},
            "days": {"1": True, "2": True, "3": True, "4": True, "5": True},
            "timezone": "America/Detroit",
        }
    ]
}


def _client(sandbox, **kwargs) -> InstantlyClient:
    # A private limiter per test: the rate budget must not leak between tests sharing a process.
    return InstantlyClient(
        api_key=sandbox.api_key, base_url=sandbox.base_url, workspace_id=sandbox.url, **kwargs
    )


def _faults(sandbox, **knobs) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=knobs).raise_for_status()


@pytest.fixture
def campaign_with_10k_leads(sandbox):
    with _client(sandbox) as client:
        campaign = client.campaigns.create({"name": "Ten thousand", "campaign_schedule": SCHEDULE})
        for start in range(0, 10_000, 1000):
            result = client.leads.add(
                campaign_id=campaign.id,
                leads=[{"email": f"lead{i:05d}@example.com"} for i in range(start, start + 1000)],
            )
            assert result.leads_uploaded == 1000
    return campaign.id


def test_the_client_pages_through_10000_leads_exactly_once(sandbox, campaign_with_10k_leads) -> None:
    with _client(sandbox) as client:
        emails = [lead.email for lead in client.leads.list(campaign=campaign_with_10k_leads)]
    assert len(emails) == 10_000
    assert len(set(emails)) == 10_000


@pytest.mark.slow  # about 20 s: 10,000 leads paged through 15% faults
def test_reads_ride_through_injected_429s_and_5xx_without_losing_or_repeating(
    sandbox, campaign_with_10k_leads
) -> None:
    _faults(sandbox, fail_rate=0.15, burst_429=5)
    with _client(sandbox, max_retries=12) as client:
        client_sleeps: list[float] = []
        client._sleep = client_sleeps.append  # type: ignore[attr-defined]  # no real waiting in tests
        ids = [lead.id for lead in client.leads.list(campaign=campaign_with_10k_leads)]
        stats = client.stats
    sandbox_stats = httpx.get(f"{sandbox.url}/_sandbox/stats").json()
    assert len(ids) == 10_000 == len(set(ids))
    assert sandbox_stats["rate_limited"] + sandbox_stats.get("faults_fail", 0) > 0
    assert stats.retries > 0


def test_a_write_whose_connection_drops_after_processing_is_outcome_unknown_not_resent(sandbox) -> None:
    with _client(sandbox) as client:
        campaign = client.campaigns.create({"name": "Reset", "campaign_schedule": SCHEDULE})
        _faults(sandbox, reset_rate=1.0, path_prefix="/api/v2/leads/add")
        with pytest.raises(OutcomeUnknownError):
            client.leads.add(campaign_id=campaign.id, leads=[{"email": "once@example.com"}])
        _faults(sandbox, reset_rate=0.0)
    dump = httpx.get(f"{sandbox.url}/_sandbox/leads", params={"campaign_id": campaign.id}).json()
    leads = dump["items"] if isinstance(dump, dict) else dump
    assert [lead["email"] for lead in leads] == ["once@example.com"]  # written once, never resent


@pytest.mark.parametrize(
    ("key", "error"), [("wrong-key", AuthenticationError), ("sandbox-unpaid-1", PaymentRequiredError)]
)
def test_auth_and_plan_errors_are_named_by_meaning(sandbox, key, error) -> None:
    with InstantlyClient(api_key=key, base_url=sandbox.base_url) as client, pytest.raises(error) as err:
        list(client.campaigns.list())
    assert key not in str(err.value)
    assert "\n" not in str(err.value)


def test_every_key_of_a_workspace_names_the_same_workspace_id() -> None:
    from instantly_sandbox import SandboxServer

    with SandboxServer(port=0, seed=3, api_keys=["key-one", "key-two"]) as sandbox:
        ids = set()
        for key in ("key-one", "key-two"):
            with InstantlyClient(api_key=key, base_url=sandbox.base_url, workspace_id=key) as client:
                workspace = client.workspaces.current()
                ids.add(workspace.id)
        assert len(ids) == 1 and len(next(iter(ids))) == 36
        with (
            InstantlyClient(api_key="wrong", base_url=sandbox.base_url, workspace_id="wrong") as client,
            pytest.raises(AuthenticationError),
        ):
            client.workspaces.current()


def test_the_webhook_delivery_log_filters_by_outcome_and_date_and_summarises(sandbox) -> None:
    with _client(sandbox) as client:
        hook = client.webhooks.create(
            {"target_hook_url": "http://127.0.0.1:9/hook", "event_type": "lead_interested"}
        )
        campaign = client.campaigns.create({"name": "Log", "campaign_schedule": SCHEDULE})
        client.leads.add(campaign_id=campaign.id, leads=[{"email": "log@example.com"}])
        client.leads.update_interest_status(lead_email="log@example.com", interest_value=1)
        assert sandbox.wait_for_webhooks(timeout=30)

        failed = list(client.webhook_events.list(success=False, limit=2))  # pages of 2
        assert [e.retry_count for e in failed] == [0, 1, 2]  # three attempts, then the webhook is disabled
        assert {e.retry_group_id for e in failed} == {failed[0].retry_group_id}
        assert failed[0].payload and failed[0].payload["event_type"] == "lead_interested"
        assert list(client.webhook_events.list(success=True)) == []
        day = failed[0].timestamp_created_date
        assert len(list(client.webhook_events.list(from_date=day, to_date=day))) == 3
        assert list(client.webhook_events.list(search="other@example.com")) == []
        assert client.webhook_events.get(str(failed[0].id)).id == failed[0].id
        summary = client.webhook_events.summary(from_date=day)
        assert (summary.total_events, summary.failed_events, summary.failure_rate) == (3, 3, 100)
        assert client.webhooks.get(str(hook.id)).status == -1
