"""The open-ended chain splits itself at real ids found in the email order, and the pull stays exact.

Against the sandbox over real HTTP: the fanned-out pull's leads must equal one cursor's, each lead staged
by exactly one chain, including leads added and changed while the pull runs, after an interruption, and
when the email order follows the id order (the probes then find clumps, not spread ids).
"""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from instantly_client import InstantlyClient
from tasks import pull_leads
from tasks.pull_leads import PLAN_FILE, STREAM, pull_lead_records
from tasks.pull_sample import pick_boundaries, probe_starts
from tasks.pull_staging import Staging
from tests.instantly_sandbox.helpers import schedule, sequence


@pytest.fixture
def client(sandbox):
    with InstantlyClient(api_key=sandbox.api_key, base_url=sandbox.base_url) as client:
        yield client


def _email(name: str, i: int, scattered: bool) -> str:
    prefix = hashlib.sha256(f"{name}{i}".encode()).hexdigest()[:8] + "." if scattered else ""
    return f"{prefix}{name}-{i}@example.com"


def _add(client, campaign_id, name, start, n, *, scattered=True):
    leads = [{"email": _email(name, i, scattered)} for i in range(start, start + n)]
    return [c.id for c in client.leads.add(campaign_id=campaign_id, leads=leads).created_leads]


def _campaign(client, name, n, *, scattered=True):
    campaign = client.campaigns.create(
        {"name": name, "campaign_schedule": schedule(), "sequences": sequence(1)}
    )
    ids = []
    for start in range(0, n, 1000):
        ids += _add(client, campaign.id, name, start, min(1000, n - start), scattered=scattered)
    return campaign.id, ids


def _probes_first(monkeypatch, client):
    """Id-ordered pages wait, once the probes have started, until they are back.

    The probes run beside the walk, which narrows only if they return before it reaches the end; on a
    fast loopback it may not. This makes the split happen whatever the scheduling (no timing involved).
    """
    started, back = threading.Event(), threading.Event()
    sample = pull_leads.sample_boundaries

    def sampled(*args, **kwargs):
        started.set()
        try:
            return sample(*args, **kwargs)
        finally:
            back.set()

    pages = client.leads.pages

    def gated(**filters):
        if started.is_set() and not filters.get("distinct_contacts") and filters.get("ids") is None:
            back.wait(60)
        return pages(**filters)

    monkeypatch.setattr(pull_leads, "sample_boundaries", sampled)
    monkeypatch.setattr(client.leads, "pages", gated)


def _one_cursor(client, campaign_id):
    return {lead.id: lead for lead in client.leads.list(campaign=campaign_id, limit=100)}


def _staged_once(staging):
    """Every lead staged by exactly one chain: the slices did not overlap."""
    staged = [record["id"] for record in staging.items(STREAM)]
    return len(staged) == len(set(staged))


def _boundaries(staging, campaign_id):
    plan = json.loads((staging.root / PLAN_FILE).read_text())[campaign_id]
    return [edge for slice_ in plan for edge in slice_ if edge is not None]


def test_a_long_run_after_the_last_known_id_is_read_by_several_chains_exactly_once(
    client, tmp_path, monkeypatch
):
    campaign, ids = _campaign(client, "import", 1500)
    _probes_first(monkeypatch, client)
    known = sorted(ids)[:600]  # 900 leads were imported outside this project after the last known one
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    pulled = pull_lead_records(client, [campaign], {campaign: known}, staging, leads_per_chain=100)
    assert sorted(r["id"] for r in pulled.records) == sorted(_one_cursor(client, campaign))
    assert _staged_once(staging)
    assert pulled.chains_split == 1
    tail_edges = [edge for edge in _boundaries(staging, campaign) if edge > known[-1]]
    assert len(tail_edges) >= 2  # the run after the last known id was cut, more than once
    assert set(tail_edges) <= set(ids)  # at ids of real leads of the campaign, none made up


def test_leads_added_and_changed_while_the_pull_runs(client, tmp_path, monkeypatch):
    """While the open-ended chain looks for where to split, 150 leads are added to the campaign and one
    lead further along the run is changed: the result equals one cursor's after the pull, with the change."""
    campaign, ids = _campaign(client, "busy", 1400)
    known = sorted(ids)[:500]
    changed = sorted(ids)[-1]
    pages = client.leads.pages
    added: list[str] = []

    def pages_with_activity(**filters):
        if filters.get("distinct_contacts") and not added:
            added.extend(_add(client, campaign, "busy", 5000, 150))
            client.leads.update(changed, {"first_name": "Changed"})
        return pages(**filters)

    monkeypatch.setattr(client.leads, "pages", pages_with_activity)
    _probes_first(monkeypatch, client)
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    pulled = pull_lead_records(client, [campaign], {campaign: known}, staging, leads_per_chain=100)
    assert pulled.chains_split == 1 and len(added) == 150
    after = _one_cursor(client, campaign)
    assert sorted(r["id"] for r in pulled.records) == sorted(after)
    assert set(added) <= {r["id"] for r in pulled.records}
    assert {r["id"]: r for r in pulled.records}[changed]["first_name"] == "Changed"
    assert _staged_once(staging)


def test_an_email_order_that_follows_the_id_order_still_reads_every_lead_once(client, tmp_path):
    """Numbered emails (`n-17@`): the probes find the run's ids in clumps. Fewer, longer chains; the same
    leads."""
    campaign, ids = _campaign(client, "numbered", 1500, scattered=False)
    known = sorted(ids)[:600]
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    pulled = pull_lead_records(client, [campaign], {campaign: known}, staging, leads_per_chain=100)
    assert sorted(r["id"] for r in pulled.records) == sorted(_one_cursor(client, campaign))
    assert _staged_once(staging)


class _Interrupted(Exception):
    pass


class _CrashingStaging(Staging):
    """Stops the run (like a killed process) once `pages` pages were staged after the plan was split."""

    def __init__(self, root, pages):
        super().__init__(root)
        self.left = pages

    def save_page(self, stream, chain, items, cursor):
        plan = self.root / PLAN_FILE
        if plan.exists() and len(json.loads(plan.read_text()).popitem()[1]) > 3:  # split: more slices
            if self.left == 0:
                raise _Interrupted()
            self.left -= 1
        return super().save_page(stream, chain, items, cursor)


def test_a_pull_interrupted_after_a_split_resumes_from_the_saved_split(client, tmp_path, monkeypatch):
    campaign, ids = _campaign(client, "resumed", 1500)
    _probes_first(monkeypatch, client)
    known = sorted(ids)[:300]
    crashing = _CrashingStaging(tmp_path / "s", pages=3)
    crashing.open("r1")
    with pytest.raises(_Interrupted):
        pull_lead_records(client, [campaign], {campaign: known}, crashing, leads_per_chain=100, max_workers=1)
    split_plan = _boundaries(crashing, campaign)

    staging = Staging(tmp_path / "s")
    assert staging.open("r2") == "r1"
    pulled = pull_lead_records(client, [campaign], {campaign: known}, staging, leads_per_chain=100)
    assert sorted(r["id"] for r in pulled.records) == sorted(_one_cursor(client, campaign))
    assert pulled.chains_resumed >= 1 and pulled.chains_split == 0  # the saved split, not a new one
    assert _boundaries(staging, campaign) == split_plan
    assert _staged_once(staging)


def test_probes_start_at_the_beginning_then_at_spread_known_emails():
    emails = [f"{c}@x.com" for c in "hgfedcbaHG"]
    assert probe_starts(emails, 4) == [None, "c@x.com", "f@x.com", "g@x.com"]
    assert probe_starts([], 8) == [None]


def test_boundaries_count_a_clump_from_one_probe_once_and_follow_the_runs_estimated_size():
    # probe 0 found 4 ids in a row, probe 1 one id after them: an email order following the id order
    assert pick_boundaries([["a1", "a2", "a3", "a4"], ["b1"]], read=200, known=0, leads_per_chain=10) == [
        "a1",
        "b1",
    ]
    interleaved = [["a", "c", "e"], ["b", "d", "f"]]
    assert pick_boundaries(interleaved, read=6, known=0, leads_per_chain=10) == list("abcdef")
    # 6 new of 60 read, 900 known: a run of about 100 leads, at 25 per chain about 4 chains
    assert len(pick_boundaries(interleaved, read=60, known=900, leads_per_chain=25)) == 4
    assert pick_boundaries([[], []], read=200, known=50, leads_per_chain=10) == []
    # one probe (no known email to start from): up to 8 of its ids, evenly spread
    one = [f"{i:02d}" for i in range(40)]
    assert pick_boundaries([one], read=100, known=0, leads_per_chain=10) == one[::5]
    assert pick_boundaries([one[:3]], read=100, known=0, leads_per_chain=10) == one[:3]


def test_probes_the_api_refuses_leave_the_run_to_one_cursor(client, tmp_path, monkeypatch):
    """The split is a shortcut: if the email-ordered pages fail (say the API refuses `distinct_contacts`),
    the open-ended chain reads the run alone and the pull is as complete as ever."""
    from instantly_client import BadRequestError

    def refused(*args, **kwargs):
        raise BadRequestError("body/distinct_contacts is not allowed here", status_code=400)

    monkeypatch.setattr(pull_leads, "sample_boundaries", refused)
    campaign, ids = _campaign(client, "refused", 1200)
    staging = Staging(tmp_path / "s")
    staging.open("r1")
    pulled = pull_lead_records(
        client, [campaign], {campaign: sorted(ids)[:300]}, staging, leads_per_chain=100
    )
    assert pulled.chains_split == 0
    assert sorted(r["id"] for r in pulled.records) == sorted(_one_cursor(client, campaign))
