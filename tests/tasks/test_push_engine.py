"""The push engine against the sandbox over real HTTP, with a real DuckDB warehouse (no Prefect needed)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from instantly_client import InstantlyClient
from ops_instantly.errors import OpsError
from tasks.extract import SourceSpec, describe_source, extract_source
from tasks.mapping import build_lead, payload_hash, resolve_mapping
from tasks.push_engine import CampaignPush, CampaignReport, PushTarget
from tasks.push_plan import skip_reason
from tests.tasks.push_helpers import campaign_leads, make_campaign, query, request_count, set_faults
from warehouse import ledger, ledger_snapshot
from warehouse.db import Warehouse
from warehouse.ledger import LedgerEntry, LedgerScope

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def write_rows(path: Path, n: int, *, changed: dict[int, str] | None = None, extra: str = "") -> Path:
    changed = changed or {}
    lines = ["email,first_name,score" + (",note" if extra else "")]
    for i in range(n):
        line = f"u{i}@ex.com,{changed.get(i, 'A')},{i}" + (f",{extra}" if extra else "")
        lines.append(line)
    path.write_text("\n".join(lines) + "\n")
    return path


def push(
    sandbox: Any,
    wh: Warehouse,
    csv: Path,
    campaign_id: str,
    *,
    run_id: str,
    batch_size: int = 100,
    skip_mode: str = "in_campaign",
    siblings: frozenset[str] = frozenset(),
    timeout: float = 5.0,
    slice_rows: int = 700,
) -> CampaignReport:
    spec = SourceSpec(str(csv))
    mapping = resolve_mapping(describe_source.fn(spec))
    table = extract_source.fn(spec, wh, email_column=mapping.email_column, key_column=None, run_id=run_id)
    target = PushTarget(
        scope=LedgerScope("ws", campaign_id, table.name, run_id),
        campaign_name=campaign_id[:8],
        mapping=mapping,
        key_given=False,
        row_count=table.row_count,
        skip_mode=skip_mode,
        siblings=siblings,
        batch_size=batch_size,
        slice_rows=slice_rows,
    )
    with InstantlyClient(
        api_key="sandbox-key", base_url=sandbox.base_url, timeout=timeout, max_retries=8
    ) as c:
        return CampaignPush(c, wh, target).run()


def assert_exactly_once(sandbox: Any, campaign_id: str, n: int) -> None:
    emails = [lead["email"] for lead in campaign_leads(sandbox, campaign_id)]
    assert len(emails) == len(set(emails)) == n
    assert set(emails) == {f"u{i}@ex.com" for i in range(n)}


def assert_compact(warehouse_path: Path) -> None:
    """The ledger holds one entry per row and no intent: what ledger.compact leaves (the push skips it
    after a first push that settled every row as it went; anything else must be compacted)."""
    assert query(
        warehouse_path,
        "SELECT count(*) - count(DISTINCT (campaign_id, row_key)) FROM ops.push_ledger_entries "
        "JOIN ops.push_ledger_writes USING (write_id)",
    ) == [(0,)]
    assert query(warehouse_path, "SELECT count(*) FROM ops.push_ledger_intents") == [(0,)]


def ctrl_c_at_the_tenth_look(monkeypatch: pytest.MonkeyPatch) -> None:
    """Within `monkeypatch`, the push's main thread gets Ctrl-C at its tenth look at the requests in flight
    (the sender's loop asks between sends; the bookkeeper's own asks do not count: Ctrl-C reaches the main
    thread only)."""
    from tasks import push_pipeline

    init = push_pipeline.PushPass.__init__

    def interrupted_later(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        asked, in_flight = [0], self.in_flight

        def looked() -> int:
            if threading.current_thread() is threading.main_thread():
                asked[0] += 1
                if asked[0] == 10:
                    raise KeyboardInterrupt
            return int(in_flight())

        self.in_flight = looked

    monkeypatch.setattr(push_pipeline.PushPass, "__init__", interrupted_later)


def test_faults_never_duplicate_or_lose_a_lead(sandbox: Any, tmp_path: Path, warehouse_path: Path) -> None:
    campaign = make_campaign(sandbox, "Faults")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 2000)
    # 5xx before processing, connections reset after processing, and responses held past the timeout.
    set_faults(sandbox, fail_rate=0.15, reset_rate=0.15, timeout_rate=0.1, timeout_seconds=1.5)
    report = push(sandbox, wh, csv, campaign, run_id="run-1", timeout=0.5)
    set_faults(sandbox, fail_rate=0, reset_rate=0, timeout_rate=0)
    assert_exactly_once(sandbox, campaign, 2000)
    assert report.counts == {"created": 2000} and report.unresolved == 0
    assert report.reconciled > 0  # some batches really had an unknown outcome
    # One outcome per row, and the ledger has nothing left open.
    assert query(warehouse_path, "SELECT count(*), count(DISTINCT row_key) FROM ops.push_results") == [
        (2000, 2000)
    ]
    assert query(warehouse_path, "SELECT state, count(*) FROM ops.push_ledger GROUP BY 1") == [("done", 2000)]
    assert_compact(warehouse_path)  # retried rows had several entries: compacted


def test_a_crash_after_writing_intents_is_reconciled_before_anything_is_resent(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    campaign = make_campaign(sandbox, "Crash")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 300)
    spec = SourceSpec(str(csv))
    mapping = resolve_mapping(describe_source.fn(spec))
    extract_source.fn(spec, wh, email_column="email", key_column=None, run_id="crashed")
    # The crashed run wrote intents for rows 0-199; rows 0-99 reached Instantly before it died.
    leads = [
        build_lead({"email": f"u{i}@ex.com", "first_name": "A", "score": str(i)}, mapping) for i in range(200)
    ]
    scope = LedgerScope("ws", campaign, "leads", "crashed")
    with wh.connect() as con:
        intents = [LedgerEntry(f"u{i}@ex.com", f"u{i}@ex.com", None, payload_hash(lead), "pending", None, "b1")
                   for i, lead in enumerate(leads)]  # fmt: skip
        ledger.write(con, scope, ledger.entries_of(intents))
    resp = httpx.post(f"{sandbox.base_url}/leads/add", headers={"Authorization": "Bearer sandbox-key"},
                      json={"campaign_id": campaign, "leads": leads[:100]})  # fmt: skip
    assert resp.json()["leads_uploaded"] == 100
    adds_before = request_count(sandbox)

    report = push(sandbox, wh, csv, campaign, run_id="rerun")

    assert_exactly_once(sandbox, campaign, 300)
    assert report.reconciled == 200
    assert report.created_earlier == 100  # the summary says which of the 300 created the crashed run sent
    assert report.counts == {"created": 300}
    assert request_count(sandbox) - adds_before == 2  # only rows 100-299 were sent, in two batches
    reasons = query(
        warehouse_path, "SELECT count(*) FROM ops.push_results WHERE reason LIKE '%earlier attempt%'"
    )
    assert reasons == [(100,)]


def test_a_crash_mid_update_is_patched_again_not_taken_for_a_created_lead(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    campaign = make_campaign(sandbox, "Crash mid-update")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 100)
    push(sandbox, wh, csv, campaign, run_id="r1")
    ids = dict(query(warehouse_path, f"SELECT row_key, lead_id FROM {ledger.CURRENT}"))
    # A run killed mid-update: it wrote the update intents of rows 0-19 (with their lead ids, as the
    # sender does) and PATCHed rows 0-9 before it died.
    write_rows(csv, 100, changed={i: "Changed" for i in range(20)})
    spec = SourceSpec(str(csv))
    mapping = resolve_mapping(describe_source.fn(spec))
    extract_source.fn(spec, wh, email_column="email", key_column=None, run_id="killed")
    leads = [build_lead({"email": f"u{i}@ex.com", "first_name": "Changed", "score": str(i)}, mapping)
             for i in range(20)]  # fmt: skip
    intents = [LedgerEntry(f"u{i}@ex.com", f"u{i}@ex.com", ids[f"u{i}@ex.com"], payload_hash(lead), "pending")
               for i, lead in enumerate(leads)]  # fmt: skip
    with wh.connect() as con:
        ledger.write(con, LedgerScope("ws", campaign, "leads", "killed"), ledger.entries_of(intents))
    for i in range(10):
        httpx.patch(f"{sandbox.base_url}/leads/{ids[f'u{i}@ex.com']}", headers={"Authorization": "Bearer sandbox-key"},
                    json={"first_name": "Changed"}).raise_for_status()  # fmt: skip

    report = push(sandbox, wh, csv, campaign, run_id="r3")

    # Rows 0-9 are read and found to hold their values already (`unchanged`), rows 10-19 are PATCHed.
    assert report.counts == {"unchanged": 90, "updated": 10} and report.created_earlier == 0
    names = {x["email"]: x["payload"]["firstName"] for x in campaign_leads(sandbox, campaign)}
    assert [e for e, name in names.items() if (name == "Changed") != (int(e[1:].split("@")[0]) < 20)] == []
    assert_exactly_once(sandbox, campaign, 100)


def test_ctrl_c_mid_update_leaves_the_unsent_patches_to_the_next_run_not_to_a_duplicate_add(
    sandbox: Any, tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = make_campaign(sandbox, "Interrupted update")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 60)
    push(sandbox, wh, csv, campaign, run_id="r1")
    write_rows(csv, 60, changed={i: "Changed" for i in range(60)})
    set_faults(sandbox, latency_ms=30)
    with monkeypatch.context() as patched:
        ctrl_c_at_the_tenth_look(patched)
        with pytest.raises(KeyboardInterrupt):
            push(sandbox, wh, csv, campaign, run_id="r2")
    patched_first = sum(x["payload"]["firstName"] == "Changed" for x in campaign_leads(sandbox, campaign))
    assert 0 < patched_first < 60

    again = push(sandbox, wh, csv, campaign, run_id="r3")

    assert "duplicate" not in again.counts and again.counts["updated"] >= 60 - patched_first
    assert all(x["payload"]["firstName"] == "Changed" for x in campaign_leads(sandbox, campaign))
    assert request_count(sandbox) == 1  # the first push's one bulk add: nothing was added again
    assert_exactly_once(sandbox, campaign, 60)


@pytest.mark.parametrize("snapshot", ["file", "per-slice"])
def test_a_rerun_sends_nothing_and_a_changed_row_is_patched(
    sandbox: Any, tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch, snapshot: str
) -> None:
    # The re-runs read the ledger from a pass's snapshot file, or (a small ledger) for each slice.
    monkeypatch.setattr(ledger_snapshot, "SNAPSHOT_MIN_ENTRIES", 1 if snapshot == "file" else 10**9)
    campaign = make_campaign(sandbox, "Updates")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 500)
    push(sandbox, wh, csv, campaign, run_id="r1")
    assert_compact(warehouse_path)  # a first push: nothing to compact
    adds = request_count(sandbox)

    second = push(sandbox, wh, csv, campaign, run_id="r2")
    assert second.counts == {"unchanged": 500} and second.requests == 0
    assert request_count(sandbox) == adds

    write_rows(csv, 500, changed={7: "Changed"})
    third = push(sandbox, wh, csv, campaign, run_id="r3")
    assert third.counts == {"unchanged": 499, "updated": 1}
    assert request_count(sandbox) == adds
    assert request_count(sandbox, "PATCH /api/v2/leads/{id}") == 1
    lead = next(x for x in campaign_leads(sandbox, campaign) if x["email"] == "u7@ex.com")
    assert lead["payload"]["firstName"] == "Changed"
    assert_exactly_once(sandbox, campaign, 500)
    assert_compact(warehouse_path)  # row 7's first entry was superseded: compacted


def test_a_finished_push_drops_earlier_runs_unchanged_results_of_its_table_and_campaign(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    kept, other = make_campaign(sandbox, "Kept"), make_campaign(sandbox, "Other")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 300)
    push(sandbox, wh, csv, kept, run_id="r1", skip_mode="none")
    push(sandbox, wh, csv, other, run_id="o1", skip_mode="none")
    push(sandbox, wh, csv, kept, run_id="r2", skip_mode="none")
    push(sandbox, wh, csv, other, run_id="o2", skip_mode="none")
    write_rows(csv, 300, changed={7: "Changed"})
    push(sandbox, wh, csv, kept, run_id="r3", skip_mode="none")

    sql = "SELECT run_id, outcome, count(*) FROM ops.push_results GROUP BY ALL ORDER BY ALL"
    assert query(warehouse_path, sql) == [
        ("o1", "created", 300),
        ("o2", "unchanged", 300),  # another campaign's newest run: untouched
        ("r1", "created", 300),  # what happened stays
        ("r3", "unchanged", 299),  # the newest run keeps every row's outcome
        ("r3", "updated", 1),
    ]  # r2 said only `unchanged`: superseded by r3


def test_a_finished_push_drops_earlier_results_that_only_repeat_what_its_own_say(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    campaign = make_campaign(sandbox, "Repeats")
    httpx.post(f"{sandbox.url}/_sandbox/blocklist", json={"entries": ["u3@ex.com"]})
    wh = Warehouse(warehouse_path)
    csv = tmp_path / "leads.csv"
    good = [f"u{i}@ex.com,A,{i}" for i in range(10)]
    csv.write_text("\n".join(["email,first_name,score", *good, "not-an-email,B,1", "other-bad,C,2"]) + "\n")
    for run in ("r1", "r2", "r3"):
        push(sandbox, wh, csv, campaign, run_id=run)
    csv.write_text(
        "\n".join(["email,first_name,score", *good, "not-an-email,B,1", "fixed@ex.com,C,2"]) + "\n"
    )
    push(sandbox, wh, csv, campaign, run_id="r4")

    sql = "SELECT run_id, outcome, count(*) FROM ops.push_results GROUP BY ALL ORDER BY ALL"
    assert query(warehouse_path, sql) == [
        ("r1", "blocklisted", 1),  # the API's answer stays; later runs' copies of it go
        ("r1", "created", 9),
        ("r3", "invalid", 1),  # `other-bad` the last run it was invalid (r1's and r2's repeated that)
        ("r4", "blocklisted", 1),  # the newest run keeps every row's outcome
        ("r4", "created", 1),
        ("r4", "invalid", 1),
        ("r4", "unchanged", 9),
    ]
    assert query(
        warehouse_path, "SELECT reason FROM ops.push_results WHERE run_id = 'r4' AND outcome = 'blocklisted'"
    ) == [("blocklisted on an earlier run; unchanged since, so not resent",)]


def test_blocklisted_rows_are_reported_and_retried_only_when_they_change(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    campaign = make_campaign(sandbox, "Blocklist")
    httpx.post(f"{sandbox.url}/_sandbox/blocklist", json={"entries": ["u3@ex.com", "u4@ex.com"]})
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 50)
    first = push(sandbox, wh, csv, campaign, run_id="r1")
    assert first.counts == {"created": 48, "blocklisted": 2}
    assert query(warehouse_path, "SELECT row_key, reason FROM ops.push_results WHERE outcome = 'blocklisted' "
                 "ORDER BY 1") == [("u3@ex.com", "on the workspace blocklist"), ("u4@ex.com",
                                                                                  "on the workspace blocklist")]  # fmt: skip
    adds = request_count(sandbox)
    second = push(sandbox, wh, csv, campaign, run_id="r2")
    assert second.counts == {"unchanged": 48, "blocklisted": 2} and request_count(sandbox) == adds
    write_rows(csv, 50, changed={3: "New name"})
    third = push(sandbox, wh, csv, campaign, run_id="r3")
    assert third.counts == {"unchanged": 48, "blocklisted": 2} and request_count(sandbox) == adds + 1


def test_two_campaigns_need_skip_if_none_and_skipped_rows_say_so(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    first, second = make_campaign(sandbox, "First"), make_campaign(sandbox, "Second")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 120)
    push(sandbox, wh, csv, first, run_id="r1")
    skipped = push(sandbox, wh, csv, second, run_id="r1")
    assert skipped.counts == {"skipped": 120}
    reason = query(warehouse_path, "SELECT DISTINCT reason FROM ops.push_results WHERE outcome = 'skipped'")
    assert reason == [(skipped_reason := reason[0][0],)] and "--skip-if none" in skipped_reason
    assert campaign_leads(sandbox, second) == []
    # The same rows again with --skip-if none: the skipped rows are now added (no data change needed).
    added = push(sandbox, wh, csv, second, run_id="r2", skip_mode="none")
    assert added.counts == {"created": 120}
    assert_exactly_once(sandbox, first, 120)
    assert_exactly_once(sandbox, second, 120)


def test_rows_skipped_alone_are_added_once_pushed_together_with_the_campaign_that_held_them(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    # The README's `--campaign "Q3 founders outreach" --campaign "Q3 follow-up"  # both get every lead`, after
    # the follow-up was first pushed on its own (its rows skipped: the leads were in the first campaign).
    first, second = make_campaign(sandbox, "Q3 founders outreach"), make_campaign(sandbox, "FU2")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 20)
    assert push(sandbox, wh, csv, first, run_id="r1").counts == {"created": 20}
    assert push(sandbox, wh, csv, second, run_id="r2").counts == {"skipped": 20}

    together = [
        push(sandbox, wh, csv, first, run_id="r3", siblings=frozenset({second})),
        push(sandbox, wh, csv, second, run_id="r3", siblings=frozenset({first})),
    ]
    assert [r.counts for r in together] == [{"unchanged": 20}, {"created": 20}]
    assert together[1].guard_lifted == 20
    assert_exactly_once(sandbox, first, 20)
    assert_exactly_once(sandbox, second, 20)
    reasons = query(
        warehouse_path, "SELECT DISTINCT outcome, reason FROM ops.push_results WHERE run_id = 'r3' AND campaign_id = ?",
        [second],
    )  # fmt: skip
    assert reasons == [("created", "added although in another campaign of this push (campaigns of one push "
                                  "do not block each other)")]  # fmt: skip

    # A plain re-run, together or alone, sends nothing.
    adds = request_count(sandbox)
    again = [
        push(sandbox, wh, csv, first, run_id="r4", siblings=frozenset({second})),
        push(sandbox, wh, csv, second, run_id="r4", siblings=frozenset({first})),
        push(sandbox, wh, csv, second, run_id="r5"),
    ]
    assert [r.counts for r in again] == [{"unchanged": 20}] * 3
    assert [r.requests for r in again] == [0, 0, 0] and request_count(sandbox) == adds
    assert_compact(warehouse_path)


def test_a_skip_by_a_campaign_outside_the_push_is_kept_until_the_skip_setting_or_the_campaigns_change(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    outside, first, second = (make_campaign(sandbox, n) for n in ("Outside", "First", "Second"))
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 10)
    push(sandbox, wh, write_rows(tmp_path / "outside.csv", 10), outside, run_id="r0")

    def together(run_id: str) -> list[CampaignReport]:
        return [
            push(sandbox, wh, csv, first, run_id=run_id, siblings=frozenset({second})),
            push(sandbox, wh, csv, second, run_id=run_id, siblings=frozenset({first})),
        ]

    assert [r.counts for r in together("r1")] == [{"skipped": 10}] * 2
    adds = request_count(sandbox)
    # The same push again: nothing changed, nothing sent; the reason says why.
    assert [r.counts for r in together("r2")] == [{"skipped": 10}] * 2 and request_count(sandbox) == adds
    kept = query(warehouse_path, "SELECT DISTINCT reason FROM ops.push_results WHERE run_id = 'r2'")
    assert kept == [("skipped on an earlier run; unchanged since, so not resent",)]

    # First alone: its guard changed (no sibling now), so it is asked again, once, and skipped again, saying so.
    alone = push(sandbox, wh, csv, first, run_id="r3")
    assert alone.counts == {"skipped": 10} and request_count(sandbox) == adds + 1
    fresh = query(warehouse_path, "SELECT DISTINCT reason FROM ops.push_results WHERE run_id = 'r3'")
    assert fresh == [(skip_reason("in_campaign"),)]
    assert push(sandbox, wh, csv, first, run_id="r4").counts == {"skipped": 10}
    assert request_count(sandbox) == adds + 1

    # Another skip setting is a change too: skip_if_in_workspace asks again (and skips), --skip-if none adds.
    assert push(sandbox, wh, csv, first, run_id="r5", skip_mode="in_workspace").counts == {"skipped": 10}
    assert request_count(sandbox) == adds + 2
    assert push(sandbox, wh, csv, first, run_id="r6", skip_mode="none").counts == {"created": 10}
    assert_exactly_once(sandbox, first, 10)
    assert campaign_leads(sandbox, second) == []


def test_rows_already_in_the_campaign_are_duplicates_with_their_lead_id(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    campaign = make_campaign(sandbox, "Existing")
    httpx.post(f"{sandbox.base_url}/leads/add", headers={"Authorization": "Bearer sandbox-key"},
               json={"campaign_id": campaign, "leads": [{"email": "u1@ex.com"}]})  # fmt: skip
    wh = Warehouse(warehouse_path)
    report = push(sandbox, wh, write_rows(tmp_path / "leads.csv", 5), campaign, run_id="r1", skip_mode="none")
    assert report.counts == {"created": 4, "duplicate": 1}
    (lead_id,) = query(warehouse_path, "SELECT lead_id FROM ops.push_ledger WHERE row_key = 'u1@ex.com'")[0]
    assert lead_id == next(x["id"] for x in campaign_leads(sandbox, campaign) if x["email"] == "u1@ex.com")

    # The existing lead never got this table's data: the next run PATCHes it, then it is unchanged.
    again = push(sandbox, wh, write_rows(tmp_path / "leads.csv", 5), campaign, run_id="r2", skip_mode="none")
    assert again.counts == {"unchanged": 4, "updated": 1}
    existing = next(x for x in campaign_leads(sandbox, campaign) if x["email"] == "u1@ex.com")
    assert existing["payload"]["firstName"] == "A"
    third = push(sandbox, wh, write_rows(tmp_path / "leads.csv", 5), campaign, run_id="r3", skip_mode="none")
    assert third.counts == {"unchanged": 5}


def test_a_duplicate_that_already_holds_the_rows_values_is_read_not_written(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    # The README's Postgres step: the same rows from another table, already pushed to this campaign.
    campaign = make_campaign(sandbox, "Held")
    wh = Warehouse(warehouse_path)
    assert push(sandbox, wh, write_rows(tmp_path / "a.csv", 5), campaign, run_id="r1").counts == {
        "created": 5
    }
    other = write_rows(tmp_path / "b.csv", 5)
    assert push(sandbox, wh, other, campaign, run_id="r2").counts == {"duplicate": 5}
    before = (
        request_count(sandbox, "PATCH /api/v2/leads/{id}"),
        request_count(sandbox, "GET /api/v2/leads/{id}"),
    )

    # Each lead is read (for its custom variables) and found to hold the row's values: no PATCH.
    again = push(sandbox, wh, other, campaign, run_id="r3")
    assert again.counts == {"unchanged": 5}
    assert request_count(sandbox, "PATCH /api/v2/leads/{id}") == before[0]
    assert request_count(sandbox, "GET /api/v2/leads/{id}") == before[1] + 5
    reasons = query(warehouse_path, "SELECT DISTINCT reason FROM ops.push_results WHERE run_id = 'r3'")
    assert reasons == [("the lead in Instantly already held these values: read, not written",)]
    # Its ledger entries now hold the rows' hashes: the next run neither reads nor writes.
    assert push(sandbox, wh, other, campaign, run_id="r4").counts == {"unchanged": 5}
    assert request_count(sandbox, "GET /api/v2/leads/{id}") == before[1] + 5

    # A row whose values differ from the lead's is still written.
    changed = write_rows(tmp_path / "c.csv", 5, changed={2: "Zed"})
    assert push(sandbox, wh, changed, campaign, run_id="r5").counts == {"duplicate": 5}
    assert push(sandbox, wh, changed, campaign, run_id="r6").counts == {"unchanged": 4, "updated": 1}
    assert request_count(sandbox, "PATCH /api/v2/leads/{id}") == before[0] + 1
    zed = next(x for x in campaign_leads(sandbox, campaign) if x["email"] == "u2@ex.com")
    assert zed["payload"]["firstName"] == "Zed"


def test_a_refused_batch_is_split_until_the_halves_are_accepted(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    campaign = make_campaign(sandbox, "Split")
    set_faults(
        sandbox, rules=[{"path_prefix": "/api/v2/leads/add", "action": "fail", "status": 413, "nth": [1]}]
    )
    wh = Warehouse(warehouse_path)
    report = push(sandbox, wh, write_rows(tmp_path / "leads.csv", 100), campaign, run_id="r1")
    assert report.counts == {"created": 100}
    assert request_count(sandbox) == 2  # the refused request (never routed), then two halves of 50
    assert_exactly_once(sandbox, campaign, 100)


def test_a_deleted_campaign_stops_the_push_and_leaves_no_open_intent(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    campaign = make_campaign(sandbox, "Gone")
    httpx.delete(f"{sandbox.base_url}/campaigns/{campaign}", headers={"Authorization": "Bearer sandbox-key"})
    wh = Warehouse(warehouse_path)
    with pytest.raises(OpsError, match="stopped") as raised:
        push(sandbox, wh, write_rows(tmp_path / "leads.csv", 10), campaign, run_id="r1")
    assert query(warehouse_path, "SELECT count(*) FROM ops.push_ledger") == [(0,)]
    hint = raised.value.hint
    assert hint and str(raised.value).count(hint) == 1  # the API error's hint, said once


class _TrackingWarehouse(Warehouse):
    """A warehouse that records which threads hold a connection, and the most held at once."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.holders: list[int] = []
        self.most_open = 0
        self.opened = 0

    def connect(self, *, read_only: bool = False):  # type: ignore[override]
        import threading
        from contextlib import contextmanager

        @contextmanager
        def tracked():
            with Warehouse.connect(self, read_only=read_only) as con:
                opener = threading.get_ident()  # the planner may open what the bookkeeper closes
                self.holders.append(opener)
                self.opened += 1
                self.most_open = max(self.most_open, len(self.holders))
                try:
                    yield con
                finally:
                    self.holders.remove(opener)

        return tracked()


def test_no_request_is_sent_by_a_thread_holding_the_warehouse_and_writes_never_overlap(
    sandbox: Any, tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from instantly_client.resources.leads import Leads
    from tasks import push_record

    wh = _TrackingWarehouse(warehouse_path)
    senders_holding: list[bool] = []
    real_add = Leads.add_encoded

    def add(self: Leads, **kwargs: Any) -> Any:
        senders_holding.append(threading.get_ident() in wh.holders)
        return real_add(self, **kwargs)

    monkeypatch.setattr(Leads, "add_encoded", add)
    # The bookkeeper closes its connection after CHECKPOINT_ROWS rows written: at 0, after every cycle.
    monkeypatch.setattr(push_record, "CHECKPOINT_ROWS", 0)
    campaign = make_campaign(sandbox, "Lock-free")
    # Slices of 700 rows, bulk adds of 100: requests go out while the next slices are read and recorded.
    push(sandbox, wh, write_rows(tmp_path / "t.csv", 1500), campaign, run_id="r1", batch_size=100)
    assert senders_holding == [False] * 15
    # One connection at a time (the bookkeeper's), released and opened again between cycles.
    assert wh.most_open == 1 and wh.holders == [] and wh.opened > 3
    assert_exactly_once(sandbox, campaign, 1500)


def test_rows_still_unknown_after_every_pass_are_reported_and_reconciled_next_run(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    wh = Warehouse(warehouse_path)
    campaign = make_campaign(sandbox, "Always 503")
    csv = write_rows(tmp_path / "t.csv", 5)
    set_faults(
        sandbox,
        rules=[
            {
                "path_prefix": "/api/v2/leads/add",
                "method": "POST",
                "action": "fail",
                "status": 503,
                "rate": 1.0,
            }
        ],
    )
    report = push(sandbox, wh, csv, campaign, run_id="r1")

    assert report.unresolved == 5
    reasons = query(warehouse_path, "SELECT outcome, reason FROM ops.push_results WHERE run_id = 'r1'")
    assert len(reasons) == 5
    assert all(outcome == "unknown" and "still unknown" in reason for outcome, reason in reasons)
    assert query(warehouse_path, "SELECT count(*) FROM ops.push_ledger WHERE state = 'unknown'") == [(5,)]

    set_faults(sandbox, rules=[])
    again = push(sandbox, wh, csv, campaign, run_id="r2")
    assert again.counts["created"] == 5 and again.unresolved == 0
    assert_exactly_once(sandbox, campaign, 5)


def per_path(sandbox: Any) -> dict[str, int]:
    return dict(httpx.get(f"{sandbox.url}/_sandbox/stats").json()["per_path"])


def test_the_report_counts_every_request_by_kind_and_a_skipped_batch_costs_one_lookup(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    first, second = make_campaign(sandbox, "First"), make_campaign(sandbox, "Second")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 1000)
    push(sandbox, wh, csv, first, run_id="r1", batch_size=1000)
    before = per_path(sandbox)
    skipped = push(sandbox, wh, csv, second, run_id="r1", batch_size=1000)
    after = per_path(sandbox)
    assert skipped.counts == {"skipped": 1000}
    served = {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}
    # What the sandbox served is what the report says: the lookup that explains the skipped rows included.
    assert served == {"POST /api/v2/leads/add": 1, "POST /api/v2/leads/list": 1}
    assert skipped.requests_by_endpoint == {"POST /leads/add": 1, "POST /leads/list": 1}
    assert skipped.requests_by_kind() == {"adds": 1, "lookups": 1} and skipped.requests == 2


def test_progress_follows_the_answers_while_their_outcomes_wait_for_a_row_group(
    sandbox: Any, tmp_path: Path, warehouse_path: Path
) -> None:
    class Listener:
        def __init__(self) -> None:
            self.seen: list[tuple[int, int]] = []

        def on_progress(self, campaign: str, done: int, total: int) -> None:
            self.seen.append((done, total))

    campaign = make_campaign(sandbox, "Progress")
    wh = Warehouse(warehouse_path)
    spec = SourceSpec(str(write_rows(tmp_path / "leads.csv", 2500)))
    mapping = resolve_mapping(describe_source.fn(spec))
    table = extract_source.fn(spec, wh, email_column=mapping.email_column, key_column=None, run_id="r1")
    target = PushTarget(
        scope=LedgerScope("ws", campaign, table.name, "r1"),
        campaign_name="Progress",
        mapping=mapping,
        key_given=False,
        row_count=table.row_count,
        skip_mode="in_campaign",
        batch_size=100,
        slice_rows=700,
    )
    listener = Listener()
    set_faults(sandbox, latency_ms=20)
    with InstantlyClient(api_key="sandbox-key", base_url=sandbox.base_url, rate_per_second=10) as client:
        report = CampaignPush(client, wh, target, listeners=[listener]).run()
    assert report.counts == {"created": 2500}
    done = [d for d, _ in listener.seen]
    # 2,500 outcomes are far from a row group (122,880): they are written at the end, the progress is not.
    assert len(done) >= 2 and done == sorted(done) and done[-1] == 2500  # 25 requests over 2.5 s
    assert {total for _, total in listener.seen} == {2500}
    assert query(warehouse_path, "SELECT count(*) FROM ops.push_results") == [(2500,)]


def test_ctrl_c_records_the_answers_in_flight_and_forgets_unsent_jobs_so_the_rerun_looks_nothing_up(
    sandbox: Any, tmp_path: Path, warehouse_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    campaign = make_campaign(sandbox, "Interrupted")
    wh = Warehouse(warehouse_path)
    csv = write_rows(tmp_path / "leads.csv", 3000)
    set_faults(sandbox, latency_ms=30)
    with monkeypatch.context() as patched:
        ctrl_c_at_the_tenth_look(patched)
        with pytest.raises(KeyboardInterrupt):
            push(sandbox, wh, csv, campaign, run_id="r1")
    states = dict(query(warehouse_path, f"SELECT state, count(*) FROM {ledger.CURRENT} GROUP BY 1"))
    sent = len(campaign_leads(sandbox, campaign))
    assert 0 < sent < 3000
    assert states == {"done": sent}  # nothing left pending: the next run has nothing to look up
    lookups = request_count(sandbox, "POST /api/v2/leads/list")
    again = push(sandbox, wh, csv, campaign, run_id="r2")
    assert again.counts == {"unchanged": sent, "created": 3000 - sent}
    assert request_count(sandbox, "POST /api/v2/leads/list") == lookups
    assert_exactly_once(sandbox, campaign, 3000)
