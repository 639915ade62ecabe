"""client.emails (with its 20/min endpoint limiter) and client.accounts."""

import httpx


def test_emails_list_sends_query_filters(make_client, script_factory):
    script = script_factory(httpx.Response(200, json={"items": [{"id": "e1", "subject": "Re: hi"}]}))
    emails = list(make_client(script).emails.list(campaign_id="c1", email_type="received", lead="a@b.co"))
    assert emails[0].subject == "Re: hi"
    assert dict(script.requests[0].url.params) == {
        "campaign_id": "c1",
        "email_type": "received",
        "lead": "a@b.co",
        "limit": "100",
    }


def test_emails_are_limited_to_20_requests_per_minute(make_client, clock):
    times = []

    def endless(request):
        times.append(clock.elapsed)
        n = len(times)
        return httpx.Response(200, json={"items": [{"id": f"e{n}"}], "next_starting_after": f"e{n}"})

    client = make_client(endless)  # the workspace limiter (50/s, 3000/min) alone would not wait a minute
    pages = client.emails.pages(limit=1)
    for _ in range(25):
        next(pages)
    assert times[19] < 1.0  # 20 within the first second (at the workspace's pace)
    assert all(t >= 60.0 for t in times[20:25])  # the 21st waits for the endpoint's minute window


def test_accounts_list_pages_with_the_query_cursor(make_client, script_factory):
    script = script_factory(
        httpx.Response(
            200, json={"items": [{"email": "s1@x.co"}], "next_starting_after": "2026-01-01T00:00:00Z&s1@x.co"}
        ),
        httpx.Response(200, json={"items": [{"email": "s2@x.co"}]}),
    )
    accounts = list(make_client(script).accounts.list(status=1))
    assert [a.email for a in accounts] == ["s1@x.co", "s2@x.co"]
    assert script.requests[1].url.params["starting_after"] == "2026-01-01T00:00:00Z&s1@x.co"
