"""The fanned-out leads pull against the sandbox over real HTTP: complete, deduplicated, resumable."""

from __future__ import annotations

import pytest

from instantly_client import InstantlyClient
from instantly_client._ratelimit import _URGENT
from tasks.pull_leads import pull_lead_records
from tasks.pull_staging import Staging
from tests.instantly_sandbox.helpers import schedule, sequence


@pytest.fixture
def client(sandbox):
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        yield client


def _campaign(client, name, n):
    campaign = client.campaigns.create(
        {"name": name, "campaign_schedule": schedule(), "sequences": sequence(1)}
    )
    ids = []
    for start in range(0, n, 1000):
        leads = [{"email": f"{name}-{i}@example.com"} for i in range(start, min(n, start + 1000))]
        result = client.leads.add(campaign_id=campaign.id, leads=leads)
        ids += [c.id for c in result.created_leads]
    return campaign.id, ids


def test_chains_read_every_lead_once_including_leads_not_in_the_ledger(client, tmp_path):
    big, big_ids = _campaign(client, "big", 450)
    small, small_ids = _campaign(client, "small", 30)
    known = {big: big_ids[:300]}  # the other 150 were added outside this project
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    before = client.stats.requests
    pulled = pull_lead_records(client, [big, small], known, staging, leads_per_chain=100)
    assert sorted(r["id"] for r in pulled.records) == sorted(big_ids + small_ids)
    assert pulled.chains == 3 + 1  # 300 known leads in chains of 100 -> 3 slices; the small campaign 1
    assert pulled.fetched_by_id == 0
    # 480 leads = 5 + 1 full pages; each extra chain costs at most one overlapping page (+1 empty page)
    assert client.stats.requests - before <= 6 + 2 * pulled.chains


def test_only_the_open_ended_chains_requests_go_ahead_of_the_limiters_queue(client, tmp_path, monkeypatch):
    """The last chain of a campaign holds every lead added after the last known id: the pull waits for it,
    so its pages must not queue behind the other chains' (bench/README.md, the sync's leads pull)."""
    campaign, ids = _campaign(client, "tail", 250)
    urgent_by_cursor: dict[str | None, bool] = {}
    pages = client.leads.pages

    def recording_pages(**kwargs):
        urgent_by_cursor[kwargs.get("starting_after")] = _URGENT.get()
        return pages(**kwargs)

    monkeypatch.setattr(client.leads, "pages", recording_pages)
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    known = sorted(ids[:100])  # the last 150 leads are unknown: they lie after the last known id
    pulled = pull_lead_records(client, [campaign], {campaign: known}, staging, leads_per_chain=50)
    assert pulled.chains == 2
    # the first chain starts at the beginning (cursor None), the open-ended one after the 50th known id
    assert urgent_by_cursor[None] is False
    assert urgent_by_cursor[known[49]] is True
    tail_cursors = [cursor for cursor in urgent_by_cursor if cursor is not None and cursor > known[49]]
    assert tail_cursors and all(urgent_by_cursor[c] for c in tail_cursors)  # every page of the tail


def test_ids_the_previous_sync_stored_split_the_range_after_the_ledgers_last_id(client, tmp_path):
    """Leads added outside this project lie after the ledger's last id; those a previous sync already read
    are chain boundaries too, so only the ones added since fall in the open-ended chain. A boundary lead
    deleted since is not fetched by id (only the ledger's leads must be found)."""
    campaign, ids = _campaign(client, "grown", 250)
    ledger = sorted(ids)[:50]
    synced = sorted(ids)[:200]  # the previous sync read the first 200; 50 were added after it
    client.leads.delete(synced[120])  # gone since the previous sync
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    pulled = pull_lead_records(
        client, [campaign], {campaign: ledger}, staging, leads_per_chain=50, synced_ids={campaign: synced}
    )
    assert sorted(r["id"] for r in pulled.records) == sorted(set(ids) - {synced[120]})
    # 200 expected ids in slices of 50, the last one open-ended; from the ledger's 50 alone: 1 chain
    assert pulled.chains == 4
    assert pulled.fetched_by_id == 0


def test_ledger_leads_the_scan_did_not_return_are_fetched_by_id(client, tmp_path):
    a, a_ids = _campaign(client, "a", 20)
    b, b_ids = _campaign(client, "b", 5)
    # The ledger still files b's leads under a (e.g. they were moved): the scan of a cannot see them.
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    pulled = pull_lead_records(client, [a], {a: a_ids + b_ids}, staging)
    assert pulled.fetched_by_id == 5
    assert {r["id"]: r["campaign"] for r in pulled.records} == {
        **dict.fromkeys(a_ids, a),
        **dict.fromkeys(b_ids, b),
    }


class _Interrupted(Exception):
    pass


class _CrashingStaging(Staging):
    """Stops the run (like a killed process) after `pages` pages were staged."""

    def __init__(self, root, pages):
        super().__init__(root)
        self.left = pages

    def save_page(self, stream, chain, items, cursor):
        if self.left == 0:
            raise _Interrupted()
        self.left -= 1
        return super().save_page(stream, chain, items, cursor)


def test_an_interrupted_pull_resumes_from_its_checkpoints(client, tmp_path):
    cid, ids = _campaign(client, "resume", 1200)
    crashing = _CrashingStaging(tmp_path / "s", pages=5)
    crashing.open("r1")
    with pytest.raises(_Interrupted):
        pull_lead_records(client, [cid], {cid: ids}, crashing, leads_per_chain=400, max_workers=1)

    staging = Staging(tmp_path / "s")
    assert staging.open("r2") == "r1"
    before = client.stats.requests
    pulled = pull_lead_records(client, [cid], {cid: ids}, staging, leads_per_chain=400, max_workers=1)
    assert sorted(r["id"] for r in pulled.records) == sorted(ids)
    assert pulled.chains_resumed >= 1
    # 12 pages in all plus at most one overlap page per chain; 5 were already staged
    assert client.stats.requests - before <= 12 + 3 - 5


def test_a_cursor_that_does_not_advance_ends_the_chain_instead_of_looping(tmp_path):
    import httpx

    from instantly_client import InstantlyClient
    from tasks.pull_leads import _walk
    from tasks.pull_plan import ScanChain
    from tasks.pull_staging import Staging

    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) > 5:
            raise AssertionError("the chain kept asking for the same page")
        lead = {"id": "01a00000-0000-7000-8000-000000000001", "email": "a@example.com"}
        return httpx.Response(200, json={"items": [lead], "next_starting_after": "same-cursor"})

    staging = Staging(tmp_path / "staging")
    staging.open("run-1")
    with InstantlyClient(
        api_key="k", base_url="http://x/api/v2", transport=httpx.MockTransport(handler)
    ) as client:
        leads = _walk(client, staging, ScanChain("c1", 0, None, None), [])
    assert len(calls) == 2  # the first page, then the same cursor once more: stop
    assert [lead["email"] for lead in leads] == ["a@example.com", "a@example.com"]
