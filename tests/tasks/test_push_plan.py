"""The push's pure decisions: row actions, concurrency sizing, chunking, response attribution."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tasks.push_lookup import emails_per_lookup
from tasks.push_models import describe_requests, requests_by_kind
from tasks.push_plan import (
    AddCounts,
    all_created,
    attribute_leftover,
    chunked,
    created_by_index,
    decide,
    in_flight_target,
    needs_campaign_lookup,
    skip_flags,
    skip_guard,
)


@pytest.mark.parametrize(
    ("size", "n", "chunks"),
    [(1000, 0, []), (1000, 1, [1]), (1000, 1000, [1000]), (1000, 1001, [1000, 1]), (3, 8, [3, 3, 2])],
)
def test_chunked_never_exceeds_the_size_and_keeps_order(size: int, n: int, chunks: list[int]) -> None:
    out = list(chunked(list(range(n)), size))
    assert [len(c) for c in out] == chunks
    assert [x for c in out for x in c] == list(range(n))


def test_chunked_refuses_a_zero_size() -> None:
    with pytest.raises(ValueError):
        list(chunked([1], 0))


@pytest.mark.parametrize(
    ("rps", "rpm", "latency", "overhead", "expected"),
    [
        (50, 3000, None, 0.0, 2),  # nothing observed yet: start small
        (50, 3000, 0.0, 0.0, 2),
        (50, 3000, 0.15, 0.0, 9),  # ceil(50 x 0.15 x 1.2)
        (50, 3000, 0.15, 0.05, 12),  # the ledger write keeps slots busy too
        (100, 6000, 1.0, 0.0, 64),  # bounded above
        (100, 600, 1.0, 0.0, 12),  # the per-minute budget (10/s) is the tighter one
        (10, None, 0.5, 0.0, 6),
        (1, 60, 0.05, 0.0, 2),  # bounded below
        (50, 3000, float("nan"), 0.0, 2),
    ],
)
def test_in_flight_follows_budget_times_latency(
    rps: float, rpm: float | None, latency: float | None, overhead: float, expected: int
) -> None:
    assert in_flight_target(rps, rpm, latency, overhead=overhead) == expected


def test_in_flight_respects_a_custom_maximum() -> None:
    assert in_flight_target(100, 6000, 2.0, maximum=8) == 8


@pytest.mark.parametrize(
    ("mode", "flags"),
    [
        ("in_campaign", {"skip_if_in_campaign": True, "skip_if_in_workspace": False}),
        ("in_workspace", {"skip_if_in_campaign": False, "skip_if_in_workspace": True}),
        ("none", {"skip_if_in_campaign": False, "skip_if_in_workspace": False}),
    ],
)
def test_skip_modes_map_to_api_flags(mode: str, flags: dict[str, bool]) -> None:
    assert skip_flags(mode) == flags


def _decide(
    state, h, lead_id, outcome, email, *, new_hash="h1", new_email="a@x.co", mode="in_campaign", siblings=()
):  # type: ignore[no-untyped-def]
    return decide(state, h, lead_id, outcome, email, payload_hash=new_hash, email=new_email, skip_mode=mode,
                  siblings=siblings)  # fmt: skip


# What a row skipped under each guard has in the ledger (its payload hash, then the guard).
ALONE, WITH_C2 = "h1", "h1" + skip_guard("in_campaign", ["c2"])


@pytest.mark.parametrize(
    ("ledger", "kwargs", "action", "outcome"),
    [
        ((None, None, None, None, None), {}, "add", None),
        (("done", "h1", "L1", "created", "a@x.co"), {}, "keep", "unchanged"),
        (("done", "h0", "L1", "created", "a@x.co"), {}, "update", None),
        (("done", None, "L1", "updated", "a@x.co"), {}, "update", None),  # hash cleared by a reconcile
        (("done", "h0", "L1", "created", "old@x.co"), {}, "add", None),  # email changed: a new lead
        (("done", "h0", None, "created", "a@x.co"), {}, "add", None),
        (("rejected", "h1", None, "blocklisted", "a@x.co"), {}, "keep", "blocklisted"),
        (("rejected", "h0", None, "blocklisted", "a@x.co"), {}, "add", None),  # data changed: try again
        (("rejected", "h1", None, "skipped", "a@x.co"), {}, "keep", "skipped"),
        (("rejected", "h1", None, "skipped", "a@x.co"), {"mode": "none"}, "add", None),  # now allowed
        # A skip is "unchanged since" under the guard it was skipped under only: the same campaigns pushed
        # together and the same --skip-if.
        (("rejected", ALONE, None, "skipped", "a@x.co"), {"siblings": ["c2"]}, "add", None),
        (("rejected", WITH_C2, None, "skipped", "a@x.co"), {"siblings": ["c2"]}, "keep", "skipped"),
        (("rejected", WITH_C2, None, "skipped", "a@x.co"), {}, "add", None),
        (("rejected", WITH_C2, None, "skipped", "a@x.co"), {"siblings": ["c2", "c3"]}, "add", None),
        (("rejected", ALONE, None, "skipped", "a@x.co"), {"mode": "in_workspace"}, "add", None),
        (
            ("rejected", "h1" + skip_guard("none"), None, "skipped", "a@x.co"),
            {"mode": "none"},
            "keep",
            "skipped",
        ),
        (
            ("rejected", "h0" + skip_guard("in_campaign", ["c2"]), None, "skipped", "a@x.co"),
            {"siblings": ["c2"]},
            "add",
            None,
        ),  # data changed
        (("rejected", "h1", None, "blocklisted", "a@x.co"), {"siblings": ["c2"]}, "keep", "blocklisted"),
        (("rejected", "h0", "L1", "rejected", "a@x.co"), {}, "update", None),
    ],
)
def test_decide_from_the_ledger(ledger: tuple, kwargs: dict, action: str, outcome: str | None) -> None:  # type: ignore[type-arg]
    decision = _decide(*ledger, **kwargs)
    assert (decision.action, decision.outcome) == (action, outcome)


def test_the_skip_guard_is_empty_for_one_campaign_and_ignores_sibling_order() -> None:
    assert skip_guard("in_campaign") == skip_guard("in_campaign", []) == ""
    assert skip_guard("in_campaign", ["a", "b"]) == skip_guard("in_campaign", ("b", "a", "a")) != ""
    assert len({skip_guard("in_campaign", ["a"]), skip_guard("in_workspace"), skip_guard("none")}) == 3
    assert skip_guard("in_workspace", ["a"]) == skip_guard("in_workspace")  # no campaign lets a lead through
    with pytest.raises(ValueError, match="skip mode"):
        skip_guard("never")


@pytest.mark.parametrize("state", ["pending", "sent", "unknown"])
def test_open_ledger_states_must_be_reconciled_before_planning(state: str) -> None:
    with pytest.raises(ValueError, match="reconciled"):
        _decide(state, "h1", None, None, "a@x.co")


def test_created_leads_map_back_by_index_and_ignore_out_of_range_indexes() -> None:
    created = [
        {"index": 0, "id": "L0"},
        {"index": 2, "id": "L2"},
        {"index": 9, "id": "X"},
        {"id": "no-index"},
    ]
    assert created_by_index(3, created) == {0: "L0", 2: "L2"}


def test_all_created_gives_the_ids_in_row_order_only_when_every_row_was_created_at_its_position() -> None:
    created = [{"index": 0, "id": "L0"}, {"index": 1, "id": "L1"}, {"index": 2, "id": "L2"}]
    assert all_created(3, created) == ["L0", "L1", "L2"]
    assert all_created(4, created) is None  # one row not created
    assert all_created(3, [created[1], created[0], created[2]]) is None  # positions not in order
    assert all_created(3, [*created[:2], {"index": 2, "id": ""}]) is None  # an id missing
    assert all_created(3, [*created[:2], {"id": "L2"}]) is None  # an index missing
    # What all_created refuses, created_by_index still attributes by position.
    assert created_by_index(3, [created[1], created[0], created[2]]) == {0: "L0", 1: "L1", 2: "L2"}


def test_add_counts_read_the_response_fields() -> None:
    result = SimpleNamespace(duplicated_leads=1, duplicate_email_count=1, skipped_count=2, in_blocklist=3,
                             invalid_email_count=None)  # fmt: skip
    assert AddCounts.of(result) == AddCounts(duplicated=2, skipped=2, blocklisted=3, invalid=0)


@pytest.mark.parametrize(
    ("leftover", "counts", "lookup"),
    [
        (0, AddCounts(), False),
        (2, AddCounts(blocklisted=2), False),
        (2, AddCounts(invalid=2), False),
        (2, AddCounts(blocklisted=1, invalid=1), True),
        (2, AddCounts(duplicated=2), True),
        (2, AddCounts(skipped=2), True),  # might be in this very campaign: look it up
        (2, AddCounts(), True),
    ],
)
def test_when_a_campaign_lookup_is_needed(leftover: int, counts: AddCounts, lookup: bool) -> None:
    assert needs_campaign_lookup(leftover, counts) is lookup


@pytest.mark.parametrize(
    ("counts", "in_campaign", "elsewhere", "expected"),
    [
        (AddCounts(duplicated=2), {0: "L0", 1: "L1"}, None, {0: ("duplicate", "L0"), 1: ("duplicate", "L1")}),
        (AddCounts(skipped=2), {}, None, {0: ("skipped", None), 1: ("skipped", None)}),
        (AddCounts(blocklisted=1, duplicated=1), {1: "L1"}, None,
         {0: ("blocklisted", None), 1: ("duplicate", "L1")}),
        (AddCounts(skipped=1, blocklisted=1), {}, {1}, {0: ("blocklisted", None), 1: ("skipped", None)}),
        (AddCounts(blocklisted=1, invalid=1), {}, None, {0: ("rejected", None), 1: ("rejected", None)}),
        (AddCounts(), {}, None, {0: ("rejected", None), 1: ("rejected", None)}),
        (AddCounts(invalid=1), {}, None, {0: ("invalid", None), 1: ("rejected", None)}),  # counts short
    ],
)  # fmt: skip
def test_rows_not_created_are_attributed_from_the_counts_and_lookups(
    counts: AddCounts, in_campaign: dict[int, str], elsewhere: set[int] | None, expected: dict
) -> None:  # type: ignore[type-arg]
    verdicts = attribute_leftover([0, 1], counts, in_campaign, elsewhere, skip_mode="in_campaign")
    assert {i: (v[0], v[1]) for i, v in verdicts.items()} == expected
    assert all(v[2] for v in verdicts.values())  # every row has a reason


def test_the_skip_reason_tells_how_to_push_to_several_campaigns() -> None:
    verdicts = attribute_leftover([0], AddCounts(skipped=1), {}, None, skip_mode="in_campaign")
    assert "ANY" in verdicts[0][2] or "another campaign" in verdicts[0][2]
    assert "--skip-if none" in verdicts[0][2]


@pytest.mark.parametrize(
    ("emails", "expected_found", "per_lookup"),
    [
        (1000, None, 100),  # all expected: one full page per lookup, run in parallel
        (1000, 1000, 100),
        (1000, 0, 1000),  # none expected (skipped elsewhere): one request for the whole bulk add
        (1000, 300, 333),
        (1000, 5, 1000),
        (50, None, 100),
        (3000, 0, 1000),  # never more emails in one filter than one bulk add holds
        (10, 20, 100),
    ],
)
def test_emails_per_lookup_expects_about_one_page_of_leads(emails, expected_found, per_lookup) -> None:
    assert emails_per_lookup(emails, expected_found) == per_lookup


def test_requests_by_kind_names_the_push_endpoints_and_keeps_others_by_name() -> None:
    by_endpoint = {"GET /campaigns": 1, "POST /leads/list": 10, "POST /leads/add": 2, "PATCH /leads/{id}": 0}
    assert requests_by_kind(by_endpoint) == {"adds": 2, "lookups": 10, "GET /campaigns": 1}
    assert describe_requests(requests_by_kind(by_endpoint)) == "adds 2, lookups 10, GET /campaigns 1"
    assert describe_requests({}) == "none"
