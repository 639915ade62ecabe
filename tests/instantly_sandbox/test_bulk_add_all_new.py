"""The bulk add's whole-request paths (`screen_all_new`, `LeadBuilder.build_new`, `State.index_new_leads`,
and the column check of the body) give exactly what the lead-by-lead path gives: the same responses, the
same stored leads (values and key order), the same indexes, and the same validation verdicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from instantly_sandbox import _bulk_add, _routes_leads
from instantly_sandbox._server import Sandbox
from instantly_sandbox._util import SimClock
from tests.instantly_sandbox.helpers import schedule

HEADERS = {"authorization": "Bearer sandbox-key", "content-type": "application/json"}
LIST_ID = "019ffad2-9c4e-7be6-8364-ed45ac8115bc"
USER_ID = "019ffad2-53a3-7590-935f-b4938179e96d"


def _lead(i: int, **extra: Any) -> dict[str, Any]:
    return {"email": f"Person{i}@Firm{i % 3}.io", "first_name": f"P{i}", "last_name": None, **extra}


# Requests in order; the comment says which path each should take.
REQUESTS: list[tuple[str, list[dict[str, Any]], dict[str, Any]]] = [
    ("campaign", [_lead(i) for i in range(5)], {}),  # all new
    ("campaign", [_lead(i, custom_variables={"b": i, "a": True}) for i in range(5, 9)], {}),  # all new
    ("campaign", [{"email": "x@gmail.com", "phone": "1"}, {"email": "y@GoogleMail.com"}], {}),  # all new
    ("campaign", [_lead(0), _lead(20)], {}),  # Person0 is stored: lead by lead
    ("list", [_lead(0), _lead(21)], {"skip_if_in_campaign": True}),
    ("list", [_lead(22), _lead(23)], {"skip_if_in_workspace": True}),  # all new in a list
    ("campaign", [_lead(30), _lead(30)], {}),  # repeated in the request
    ("campaign", [_lead(31), {"email": "a@blocked.example"}], {}),  # domain on the blocklist
    ("campaign", [_lead(32), {"email": "Blocked@Example.com"}], {}),  # email on the blocklist
    ("campaign", [_lead(33), {"email": " padded@x.io "}], {}),  # trimmed lead by lead
    ("campaign", [_lead(34), {"email": "ünï@x.io"}], {}),  # not ASCII
    ("campaign", [_lead(35), {"email": "two@lines.io\nthree@lines.io"}], {}),  # a line break inside
    ("campaign", [{"email": "lower@case.io"}, {"email": "two@lines.io\nthree@lines.io"}], {}),  # lower case
    ("campaign", [{"email": "one@lines.io\n"}, {"email": "four@lines.io"}], {}),  # a trailing line break
    ("campaign", [_lead(36), {"email": "bad@x"}, {"email": "a@@b.io"}], {}),  # invalid
    ("campaign", [_lead(37), {"email": None}, {"first_name": "NoEmail"}], {}),  # missing
    ("list", [{"first_name": "Only"}, {"last_name": "Names"}, {}], {}),  # list: incomplete or kept
    ("campaign", [_lead(38, lt_interest_status=2, pl_value_lead="High", assigned_to=USER_ID)], {}),
    ("campaign", [_lead(39, website="https://www.w.io/x", job_title="CTO", personalization="Hi")], {}),
    ("list", [_lead(40, custom_variables={"z": None})], {}),  # all new in a list
]


def _run(monkeypatch: pytest.MonkeyPatch, *, whole_request: bool) -> tuple[list[Any], Sandbox, list[bool]]:
    screened: list[bool] = []
    real = _bulk_add.screen_all_new

    def screen(state: Any, items: list[dict[str, Any]]) -> Any:
        result = real(state, items) if whole_request else None
        screened.append(result is not None)
        return result

    monkeypatch.setattr(_routes_leads, "screen_all_new", screen)
    # One fixed moment from the start, so both runs get the same ids, the workspace's and blocklist's too
    # (pinned only after the start, a run that began in another minute or millisecond had others).
    monkeypatch.setattr(SimClock, "now_ms", lambda self: 1_800_000_000_000)
    sb = Sandbox(seed=4, rate_per_second=1e9, rate_per_minute=1e12, api_keys=None, state_file=None, faults={})
    body = json.dumps({"name": "c", "campaign_schedule": schedule()}).encode()
    campaign_id = sb.handle("POST", "/api/v2/campaigns", {}, HEADERS, body)[1]["id"]
    answers = []
    for target, leads, flags in REQUESTS:
        where = {"campaign_id": campaign_id} if target == "campaign" else {"list_id": LIST_ID}
        raw = json.dumps({**where, **flags, "leads": leads}).encode()
        answers.append(sb.handle("POST", "/api/v2/leads/add", {}, HEADERS, raw))
    monkeypatch.undo()
    return answers, sb, screened


def _snapshot(sb: Sandbox) -> Any:
    state = sb.state
    campaign = next(iter(state.campaigns.values()))
    return (
        [(lid, list(lead.items())) for lid, lead in state.leads.items()],  # values and key order
        state.lead_order,
        state.by_campaign,
        state.by_list,
        state.by_email,
        list(campaign.get("custom_variables", {}).items()),
        campaign["_sim"]["queue"],
        state.plan_remaining,
    )


def test_whole_request_paths_give_what_lead_by_lead_gives(monkeypatch: pytest.MonkeyPatch):
    fast, fast_sb, screened = _run(monkeypatch, whole_request=True)
    slow, slow_sb, _ = _run(monkeypatch, whole_request=False)
    assert [json.dumps(a) for a in fast] == [json.dumps(a) for a in slow]  # key order too
    assert _snapshot(fast_sb) == _snapshot(slow_sb)
    assert all(status == 200 for status, _ in fast)
    # the all-new requests took the whole-request path, the others did not
    assert screened == [True, True, True, False, False, True, *[False] * 10, False, True, True, True]
    assert sum(a["leads_uploaded"] for _, a in fast) > 25


def test_a_lead_built_for_the_whole_request_shares_no_mutable_field_but_the_empty_summaries(
    monkeypatch: pytest.MonkeyPatch,
):
    _, sb, _ = _run(monkeypatch, whole_request=True)
    leads = list(sb.state.leads.values())
    assert len({id(lead["payload"]) for lead in leads}) == len(leads)
    assert all(lead["status_summary"] == {} and "_firsts" not in lead for lead in leads)


def test_the_email_index_holds_one_id_or_several_and_gives_them_back_as_a_tuple():
    from instantly_sandbox._state import State

    state = State(1)
    leads = [{"id": f"0{i}", "email": "Same@x.io", "campaign": None, "list_id": f"l{i}"} for i in range(3)]
    state.index_lead(leads[0])
    assert state.ids_with_email("same@x.io") == ("00",) and state.by_email["same@x.io"] == "00"
    state.index_lead(leads[0])  # again: no second copy
    assert state.ids_with_email("same@x.io") == ("00",)
    state.index_lead(leads[1])
    state.index_lead(leads[2])
    assert state.ids_with_email("same@x.io") == ("00", "01", "02")
    assert [lead["id"] for lead in state.leads_with_email("SAME@X.IO")] == ["00", "01", "02"]
    state.delete_lead("01")
    assert state.ids_with_email("same@x.io") == ("00", "02")
    state.delete_lead("00")
    assert state.ids_with_email("same@x.io") == ("02",)
    state.unindex_lead({"id": "0", "email": "same@x.io"})  # an id that is part of the one held is not it
    assert state.ids_with_email("same@x.io") == ("02",)
    state.delete_lead("02")
    assert state.ids_with_email("same@x.io") == () and not state.by_email["same@x.io"]
    state.index_lead(leads[1])
    assert state.ids_with_email("same@x.io") == ("01",)
    assert state.ids_with_email("other@x.io") == ()
