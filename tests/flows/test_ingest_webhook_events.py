"""Webhooks end to end over real HTTP: the sandbox delivers to the receiver process, the flow ingests.

Real parts only: the sandbox's dispatcher POSTs to `ops-instantly webhooks listen` running as its own process,
another process holds the DuckDB write lock, the ingest flow runs under a real Prefect API.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from blocks import resolve_warehouse
from flows.ingest_webhook_events import ingest_webhook_events
from flows.push_leads import push_leads
from flows.sync_engagement import sync_engagement
from instantly_client import InstantlyClient
from ops_core.errors import OpsError
from tasks.sync_summary import summary_lines
from tests.instantly_sandbox.helpers import schedule, sequence
from tests.webhooks.receiver_process import ReceiverProcess
from warehouse.db import Warehouse
from warehouse.lock import WarehouseBusyError
from webhooks.events import SECRET_HEADER, event_id

pytestmark = pytest.mark.usefixtures("prefect_harness")
SECRET = "s3cret-for-tests"


@pytest.fixture
def client(sandbox, monkeypatch):
    monkeypatch.setenv("INSTANTLY_API_KEY", sandbox.api_key)
    monkeypatch.setenv("INSTANTLY_BASE_URL", sandbox.base_url)
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        yield client


def _campaign(client, name: str, emails: list[str]) -> str:
    campaign = client.campaigns.create(
        {"name": name, "campaign_schedule": schedule(), "sequences": sequence(1, 2)}
    )
    if emails:
        client.leads.add(campaign_id=campaign.id, leads=[{"email": e} for e in emails])
    return str(campaign.id)


def _subscribe(client, url: str, event_type: str = "all_events") -> str:
    hook = client.webhooks.create(
        {"target_hook_url": url, "event_type": event_type, "headers": {SECRET_HEADER: SECRET}}
    )
    return str(hook.id)


class LockHolder:
    """Another process in the middle of a write section, as a long sync is, until released: it holds the
    ops-instantly writer lock and DuckDB's own lock on the file."""

    def __init__(self, path: Path) -> None:
        code = textwrap.dedent(
            f"""
            import sys
            from warehouse.db import Warehouse
            with Warehouse({str(path)!r}).connect():
                print("locked", flush=True)
                sys.stdin.read()
            """
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=Path(__file__).resolve().parents[2],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def release(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


def _wait_until_segments_close(receiver: ReceiverProcess, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        segments = httpx.get(f"{receiver.base}/health", timeout=10).json()["segments"]
        if segments["open"] == 0 and segments["closed"] > 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"segments still open after {timeout} s: {segments}")


def _rows(location: Path | str) -> list[tuple]:
    with resolve_warehouse(path=str(location)).connect(read_only=True) as con:
        return con.execute("SELECT event_key, event_type, source FROM instantly.webhook_events").fetchall()


@pytest.mark.slow  # about 10 s: a receiver process, a lock-holding process and six simulated days
def test_deliveries_during_a_warehouse_lock_are_answered_200_and_each_lands_once(
    sandbox, client, warehouse_path, tmp_path, record_property
) -> None:
    holder = LockHolder(warehouse_path)
    receiver = ReceiverProcess(tmp_path / "spool", SECRET)
    try:
        with pytest.raises(WarehouseBusyError):  # the lock really is held by the other process
            Warehouse(warehouse_path, lock_timeout=0.5).connect().__enter__()
        sandbox.admin("POST", "/config", json={"reply_rate": 0.3, "click_rate": 0.5, "open_rate": 0.9})
        campaign = _campaign(client, "Hooks", [f"p{i}@example.com" for i in range(25)])
        _subscribe(client, receiver.url)
        client.campaigns.activate(campaign)
        sandbox.advance(days=6)
        assert sandbox.wait_for_webhooks(timeout=120)

        attempts = list(client.webhook_events.list())  # the sandbox's own log of each delivery attempt
        assert len(attempts) > 50
        assert {(a.success, a.status_code, a.retry_count) for a in attempts} == {(True, 200, 0)}
        latencies = sorted(a.response_time_ms or 0 for a in attempts)
        record_property("deliveries", len(latencies))
        record_property("latency_ms_p50", statistics.median(latencies))
        record_property("latency_ms_max", latencies[-1])

        _wait_until_segments_close(receiver)  # within segment_seconds (5 s) of the last delivery
        busy = ingest_webhook_events(
            spool_dir=str(receiver.spool), warehouse=str(warehouse_path), lock_timeout_seconds=0.5
        )
        assert busy.status == "busy"  # nothing marked done: the spool waits
    finally:
        holder.release()
        receiver.kill()  # SIGTERM: the receiver closes its last segment

    result = ingest_webhook_events(spool_dir=str(receiver.spool), warehouse=str(warehouse_path))
    assert result.status == "ingested" and result.spool["events"] == len(attempts)
    rows = _rows(warehouse_path)
    delivered = {event_id(a.payload or {}) for a in attempts}
    assert {key for key, _, _ in rows} == delivered
    assert len(rows) == len(delivered)  # each event once
    assert {"reply_received", "link_clicked", "email_sent"} <= {kind for _, kind, _ in rows}

    again = ingest_webhook_events(spool_dir=str(receiver.spool), warehouse=str(warehouse_path))
    assert again.spool["segments"] == 0 and len(_rows(warehouse_path)) == len(rows)


def test_a_reply_delivered_by_webhook_shows_in_the_engagement_view_before_any_sync(
    sandbox, client, warehouse_location, tmp_path
) -> None:
    source = tmp_path / "people.csv"
    source.write_text("id,email\n" + "".join(f"{i},person{i}@example.com\n" for i in range(12)))
    campaign = _campaign(client, "Replies", [])
    push_leads(source=str(source), key_column="id", campaigns=[campaign], warehouse=warehouse_location)
    sandbox.admin("POST", "/config", json={"reply_rate": 0.6, "bounce_rate": 0.0, "unsubscribe_rate": 0.0})
    with ReceiverProcess(tmp_path / "spool", SECRET) as receiver:
        _subscribe(client, receiver.url, "reply_received")
        client.campaigns.activate(campaign)
        sandbox.advance(days=3)
        assert sandbox.wait_for_webhooks(timeout=60)
    ingest_webhook_events(spool_dir=str(receiver.spool), warehouse=warehouse_location)

    replies = {lead.email: lead.email_reply_count for lead in client.leads.list(campaign=campaign)}
    assert sum(replies.values()) > 0
    query = "SELECT email, instantly_reply_count, instantly_email_status FROM ops.people_engagement"
    with resolve_warehouse(path=warehouse_location).connect(read_only=True) as con:
        assert con.execute("SELECT count(*) FROM instantly.leads").fetchall() == [(0,)]  # no sync ran
        view = {email: (count, status) for email, count, status in con.execute(query).fetchall()}
    for email, count in replies.items():
        assert view[email][0] == count
        assert (view[email][1] == "replied") == (count > 0)

    sync_engagement(warehouse=warehouse_location)  # the sync reconciles: no double count
    with resolve_warehouse(path=warehouse_location).connect(read_only=True) as con:
        synced = {email: count for email, count, _ in con.execute(query).fetchall()}
    assert synced == replies


def test_failed_deliveries_are_recovered_from_the_delivery_log_once(
    sandbox, client, warehouse_location, tmp_path, caplog
) -> None:
    hook = _subscribe(client, "http://127.0.0.1:9/instantly/webhook")  # nothing listens: every attempt fails
    campaign = _campaign(client, "Missed", [f"m{i}@example.com" for i in range(5)])
    client.campaigns.activate(campaign)
    sandbox.advance(days=1)
    assert sandbox.wait_for_webhooks(timeout=60)
    assert client.webhooks.get(hook).status == -1  # Instantly gave up and disabled the webhook

    failed = {event_id(a.payload or {}) for a in client.webhook_events.list(success=False)}
    first = ingest_webhook_events(
        spool_dir=str(tmp_path / "spool"), warehouse=warehouse_location, catch_up=True
    )
    assert first.catch_up is not None and first.catch_up["recovered_new"] == len(failed) > 0
    rows = _rows(warehouse_location)
    assert {key for key, _, _ in rows} == failed and {source for _, _, source in rows} == {"delivery_log"}

    second = ingest_webhook_events(
        spool_dir=str(tmp_path / "spool"), warehouse=warehouse_location, catch_up=True
    )
    assert second.catch_up is not None and second.catch_up["recovered_new"] == 0  # nothing new
    assert f"Instantly disabled webhook {hook} " in caplog.text  # the run's warning says how to resume it
    assert len(_rows(warehouse_location)) == len(rows)


def test_the_hourly_sync_recovers_failed_deliveries_and_skips_workspaces_without_webhooks(
    sandbox, client, warehouse_location
) -> None:
    campaign = _campaign(client, "Synced", [f"s{i}@example.com" for i in range(5)])
    client.campaigns.activate(campaign)
    sandbox.advance(days=1)
    alone = sync_engagement(warehouse=warehouse_location)
    assert alone.counts["webhook_catch_up"] == {"skipped": ["no webhooks subscribed"]}

    hook = _subscribe(client, "http://127.0.0.1:9/instantly/webhook")  # the receiver is down
    sandbox.advance(days=1)
    assert sandbox.wait_for_webhooks(timeout=60)
    failed = {event_id(a.payload or {}) for a in client.webhook_events.list(success=False)}
    synced = sync_engagement(warehouse=warehouse_location)
    assert synced.counts["webhook_catch_up"]["recovered_new"] == len(failed) > 0
    assert {key for key, _, _ in _rows(warehouse_location)} == failed
    # Instantly disabled the webhook: the sync says so, and how to resume it (seen: a receiver restarted for
    # two seconds left the webhook disabled, and nothing told the user the webhooks had stopped).
    (disabled,) = synced.counts["webhook_catch_up"]["disabled"]
    assert disabled.startswith(
        f"Instantly disabled webhook {hook} (http://127.0.0.1:9/instantly/webhook) since "
    )
    assert f"`ops-instantly webhooks resume {hook}`" in disabled
    assert disabled in summary_lines(synced.counts)

    client.webhooks.resume(hook)
    assert "disabled" not in sync_engagement(warehouse=warehouse_location).counts["webhook_catch_up"]


def test_a_spool_folder_that_is_not_there_fails_in_one_line_naming_it(tmp_path, caplog) -> None:
    # A spool_dir typed wrong in the UI (or a relative one taken from another folder) found nothing and the
    # run went green every minute, while the receiver's deliveries waited in its own folder.
    missing = tmp_path / "no-such-spool"
    with pytest.raises(
        OpsError,
        match=rf"No webhook spool at {missing}\. \(the receiver creates it when it starts: set the `spool_dir` parameter",
    ):
        ingest_webhook_events(spool_dir=str(missing), warehouse=str(tmp_path / "wh.duckdb"))
    assert not missing.exists()


def test_a_bad_catch_up_date_fails_before_the_spool_is_read(tmp_path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "1-1-000001.closed").write_text("")
    with pytest.raises(OpsError, match="catch_up_since 'yesterday' is not a date"):
        ingest_webhook_events(
            spool_dir=str(spool), warehouse=str(tmp_path / "wh.duckdb"), catch_up_since="yesterday"
        )
    assert (spool / "1-1-000001.closed").exists()  # not marked done


def test_the_ingest_log_line_names_the_spool_and_counts_in_words() -> None:
    from flows.ingest_webhook_events import describe_counts

    assert describe_counts({"segments": 2, "events": 106, "new": 105, "torn": 1}) == (
        "2 segments, 106 events, 105 new, torn 1"
    )
    assert describe_counts({"segments": 1, "events": 1, "new": 1}) == "1 segment, 1 event, 1 new"
    assert describe_counts({"segments": 1, "held": 2, "held_in": ["/s/1-held.held", "/s/2-held.held"]}) == (
        "1 segment, 0 events, 0 new, held 2, held_in /s/1-held.held, /s/2-held.held"
    )
