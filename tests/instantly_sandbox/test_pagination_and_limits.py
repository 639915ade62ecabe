"""Cursor pagination (with the real API's full-last-page quirk), bulk-add semantics and rate limits."""

from __future__ import annotations

import httpx
import pytest

from instantly_sandbox import SandboxServer
from tests.instantly_sandbox.helpers import add_leads, make_campaign


def test_full_last_page_carries_a_cursor_and_the_next_page_is_empty(client: httpx.Client):
    campaign = make_campaign(client)
    add_leads(client, campaign["id"], 20)
    first = client.post("/leads/list", json={"campaign": campaign["id"], "limit": 10}).json()
    second = client.post(
        "/leads/list",
        json={"campaign": campaign["id"], "limit": 10, "starting_after": first["next_starting_after"]},
    ).json()
    assert (
        len(second["items"]) == 10 and "next_starting_after" in second
    )  # last page with data, still a cursor
    third = client.post(
        "/leads/list",
        json={"campaign": campaign["id"], "limit": 10, "starting_after": second["next_starting_after"]},
    ).json()
    assert third == {"items": []}


def test_a_contacts_lookup_finds_the_emails_in_the_campaign_asked_for_only(client: httpx.Client):
    first, second = make_campaign(client, "First"), make_campaign(client, "Second")
    add_leads(client, first["id"], 30)
    add_leads(client, second["id"], 5)  # lead0 .. lead4 again, in another campaign

    def emails(**body: object) -> list[tuple[str, str]]:
        items = client.post("/leads/list", json={"limit": 100, **body}).json()["items"]
        return sorted((lead["email"], lead["campaign"]) for lead in items)

    wanted = ["LEAD3@company3.com", "lead20@company20.com", "nobody@nowhere.com"]
    assert emails(contacts=wanted, campaign=first["id"]) == [
        ("lead20@company20.com", first["id"]),
        ("lead3@company3.com", first["id"]),
    ]
    assert emails(contacts=wanted) == sorted(
        [("lead20@company20.com", first["id"]), ("lead3@company3.com", first["id"]),
         ("lead3@company3.com", second["id"])]
    )  # fmt: skip


def test_partial_page_has_no_cursor(client: httpx.Client):
    campaign = make_campaign(client)
    add_leads(client, campaign["id"], 5)
    page = client.post("/leads/list", json={"campaign": campaign["id"], "limit": 10}).json()
    assert len(page["items"]) == 5 and "next_starting_after" not in page


def test_ten_thousand_leads_page_back_exactly_once_in_id_order():
    # 110 calls in about a second would trip the real 100/s limit; this test is about paging, not pacing
    with (
        SandboxServer(rate_per_second=10_000) as sandbox,
        httpx.Client(
            base_url=sandbox.base_url, headers={"Authorization": "Bearer sandbox-key"}, timeout=30
        ) as client,
    ):
        _page_through_ten_thousand(client)


def _page_through_ten_thousand(client: httpx.Client) -> None:
    campaign = make_campaign(client)
    created = []
    for batch in range(10):
        result = add_leads(client, campaign["id"], 1000, start=batch * 1000)
        assert result["leads_uploaded"] == 1000
        created += [c["id"] for c in result["created_leads"]]
    seen, cursor = [], None
    while True:
        body = {"campaign": campaign["id"], "limit": 100, **({"starting_after": cursor} if cursor else {})}
        page = client.post("/leads/list", json=body).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page.get("next_starting_after")
        if not page["items"] or not cursor:
            break
    assert len(seen) == len(set(seen)) == 10_000
    assert seen == sorted(seen) == created  # ascending id order == creation order


def test_bulk_add_reports_every_documented_counter(client: httpx.Client, sandbox: SandboxServer):
    campaign = make_campaign(client)
    other = make_campaign(client, "Other")
    add_leads(client, campaign["id"], 2)  # lead0, lead1
    client.post("/leads/add", json={"campaign_id": other["id"], "leads": [{"email": "elsewhere@x.io"}]})
    leads = [
        {"email": "LEAD0@company0.com"},  # already in this campaign (case-insensitive)
        {"email": "new@x.io"},
        {"email": "new@x.io"},  # duplicate within the payload
        {"email": "blocked@example.com"},
        {"email": "someone@blocked.example"},  # blocked domain
        {"email": "not-an-email"},
        {"first_name": "No email"},  # campaign leads need an email
        {"email": "elsewhere@x.io"},  # in another campaign: skipped by skip_if_in_campaign
    ]
    result = client.post(
        "/leads/add", json={"campaign_id": campaign["id"], "leads": leads, "skip_if_in_campaign": True}
    ).json()
    assert {k: v for k, v in result.items() if k not in ("created_leads", "blocklist_used")} == {
        "status": "success",
        "total_sent": 8,
        "leads_uploaded": 1,
        "in_blocklist": 2,
        "duplicated_leads": 1,
        "skipped_count": 1,
        "invalid_email_count": 2,
        "incomplete_count": 0,
        "duplicate_email_count": 1,
        "remaining_in_plan": result["remaining_in_plan"],
    }
    assert [(c["index"], c["email"]) for c in result["created_leads"]] == [(1, "new@x.io")]
    assert isinstance(result["remaining_in_plan"], int) and result["blocklist_used"]


def test_skip_if_in_workspace_overrides_the_other_flags(client: httpx.Client):
    first, second = make_campaign(client), make_campaign(client, "Second")
    client.post("/leads/add", json={"campaign_id": first["id"], "leads": [{"email": "dup@x.io"}]})
    body = {
        "campaign_id": second["id"],
        "leads": [{"email": "dup@x.io"}],
        "skip_if_in_workspace": True,
        "skip_if_in_campaign": False,
    }
    assert client.post("/leads/add", json=body).json()["skipped_count"] == 1
    body["skip_if_in_workspace"] = False
    assert client.post("/leads/add", json=body).json()["leads_uploaded"] == 1


def test_list_leads_incomplete_count_only_for_lists(client: httpx.Client):
    body = {
        "list_id": "019ffad2-9c4e-7be6-8364-ed45ac8115bc",
        "leads": [{"company_name": "Acme"}, {"first_name": "Only name"}],
    }
    result = client.post("/leads/add", json=body).json()
    assert (result["incomplete_count"], result["leads_uploaded"], result["remaining_in_plan"]) == (1, 1, None)


def test_rate_limit_answers_429_and_counts_it():
    with SandboxServer(rate_per_second=5, rate_per_minute=1000) as sandbox:
        headers = {"Authorization": "Bearer sandbox-key"}
        with httpx.Client(base_url=sandbox.base_url, headers=headers) as c:
            statuses = [c.get("/campaigns").status_code for _ in range(12)]
            limited = c.get("/campaigns")
        assert statuses[:5] == [200] * 5 and 429 in statuses
        assert limited.json() == {
            "statusCode": 429,
            "error": "Too Many Requests",
            "message": "Rate limit exceeded",
        }
        assert "retry-after" not in limited.headers
        stats = sandbox.admin("GET", "stats")
        assert stats["rate_limited"] == statuses.count(429) + 1
        assert stats["requests"] == 13


def test_emails_endpoint_has_its_own_20_per_minute_limit(client: httpx.Client):
    statuses = [client.get("/emails").status_code for _ in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429
    assert client.get("/campaigns").status_code == 200  # the rest of the API is unaffected


class _FakeTime:
    """Stands in for the `time` module inside instantly_sandbox._faults (wall and monotonic clocks)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        # 3 requests late in one second, 3 early in the next: a fixed window resets on the boundary...
        ("fixed", [True] * 3 + [False] + [True] * 3 + [False]),
        # ...a sliding one still counts the first three for a second after they arrived
        ("sliding", [True] * 3 + [False] + [False] * 4),
    ],
)
def test_rate_window_counts_fixed_calendar_seconds_or_a_sliding_second(monkeypatch, window, expected):
    from instantly_sandbox import _faults

    fake = _FakeTime(1_000.90)
    monkeypatch.setattr(_faults, "time", fake)
    limiter = _faults.RateLimiter(3, 1000, window)
    allowed = [limiter.allow() for _ in range(4)]
    fake.now = 1_001.05
    allowed += [limiter.allow() for _ in range(4)]
    assert allowed == expected


@pytest.mark.parametrize("window", ["fixed", "sliding"])
def test_rate_window_per_minute_budget_binds_in_both_algorithms(monkeypatch, window):
    from instantly_sandbox import _faults

    fake = _FakeTime(6_000.0)  # the start of a calendar minute
    monkeypatch.setattr(_faults, "time", fake)
    limiter = _faults.RateLimiter(100, 5, window)
    allowed = []
    for _ in range(7):
        allowed.append(limiter.allow())
        fake.now += 2.0
    assert allowed == [True] * 5 + [False] * 2


def test_rate_window_must_be_fixed_or_sliding():
    with pytest.raises(ValueError, match="fixed"):
        SandboxServer(rate_window="leaky")


def test_a_fixed_window_sandbox_answers_429_over_http():
    with SandboxServer(rate_per_second=5, rate_per_minute=1000, rate_window="fixed") as sandbox:
        headers = {"Authorization": "Bearer sandbox-key"}
        with httpx.Client(base_url=sandbox.base_url, headers=headers) as c:
            statuses = [c.get("/campaigns").status_code for _ in range(12)]
    assert 429 in statuses and statuses.count(200) >= 5


def test_distinct_contacts_pages_in_email_order_with_an_email_cursor_of_any_case(client: httpx.Client):
    """SPEC POST /leads/list: with `distinct_contacts` the leads come ordered by contact and `starting_after`
    is a lead's email; an email sent back as the API wrote it (capitals included) is that lead's place."""
    campaign = make_campaign(client)
    leads = [{"email": e} for e in ("Carol@x.com", "alice@x.com", "bob@x.com", "Dave@x.com")]
    assert client.post("/leads/add", json={"campaign_id": campaign["id"], "leads": leads}).status_code == 200

    def page(after: str | None) -> dict:
        body = {"campaign": campaign["id"], "distinct_contacts": True, "limit": 2}
        return client.post("/leads/list", json={**body, "starting_after": after} if after else body).json()

    first = page(None)
    assert [lead["email"].lower() for lead in first["items"]] == ["alice@x.com", "bob@x.com"]
    second = page(first["next_starting_after"])
    assert [lead["email"].lower() for lead in second["items"]] == ["carol@x.com", "dave@x.com"]
    after_carol = page(second["items"][0]["email"])  # "Carol@x.com" if the sandbox kept the capital
    assert [lead["email"].lower() for lead in after_carol["items"]] == ["dave@x.com"]
    # a lead added since is in its place at once (the email order is kept between pages, not stale)
    added = client.post("/leads/add", json={"campaign_id": campaign["id"], "leads": [{"email": "cat@x.com"}]})
    assert added.status_code == 200
    assert [lead["email"].lower() for lead in page(first["next_starting_after"])["items"]] == [
        "carol@x.com",
        "cat@x.com",
    ]
    # with another filter (the general path) the order and the cursor are the same
    body = {"campaign": campaign["id"], "distinct_contacts": True, "in_campaign": True, "limit": 2}
    filtered = client.post("/leads/list", json={**body, "starting_after": "bob@x.com"}).json()
    assert [lead["email"].lower() for lead in filtered["items"]] == ["carol@x.com", "cat@x.com"]
