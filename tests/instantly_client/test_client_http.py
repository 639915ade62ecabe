"""InstantlyClient over httpx.MockTransport: headers, bodies, retries, errors, secrets, stats."""

import logging
import traceback

import httpx
import pytest

from instantly_client import (
    USER_AGENT,
    AuthenticationError,
    BadRequestError,
    ConnectionFailedError,
    InstantlyClient,
    InstantlyError,
    MissingAPIKeyError,
    NotFoundError,
    OutcomeUnknownError,
    PaymentRequiredError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
)
from instantly_client._ratelimit import CallableLimiter
from instantly_client._stats import endpoint_of

OK = httpx.Response(200, json={"id": "x"})


def err(status, message="nope", **headers):
    return httpx.Response(
        status, json={"statusCode": status, "error": "E", "message": message}, headers=headers
    )


# -- construction, headers ----------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   "])
def test_empty_api_key_fails_at_construction_with_one_line(key):
    with pytest.raises(MissingAPIKeyError) as info:
        InstantlyClient(api_key=key)
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_every_request_sends_bearer_auth_user_agent_and_no_default_content_type(
    make_client, script_factory, api_key
):
    script = script_factory(OK)
    client = make_client(script)
    client.request("GET", "/campaigns/abc")
    req = script.requests[0]
    assert req.headers["authorization"] == f"Bearer {api_key}"
    assert req.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("ops-instantly/") and USER_AGENT.endswith(" instantly-client")
    assert "content-type" not in req.headers
    assert "x-as-workspace" not in req.headers
    assert str(req.url) == "http://instantly.test/api/v2/campaigns/abc"


def test_workspace_id_is_sent_as_x_as_workspace(make_client, script_factory):
    script = script_factory(OK)
    make_client(script, workspace_id="ws-42").request("GET", "/campaigns")
    assert script.requests[0].headers["x-as-workspace"] == "ws-42"


@pytest.mark.parametrize(
    ("call", "method", "path"),
    [
        (lambda c: c.campaigns.activate("c1"), "POST", "/api/v2/campaigns/c1/activate"),
        (lambda c: c.campaigns.pause("c1"), "POST", "/api/v2/campaigns/c1/pause"),
        (lambda c: c.campaigns.delete("c1"), "DELETE", "/api/v2/campaigns/c1"),
        (lambda c: c.campaigns.duplicate("c1"), "POST", "/api/v2/campaigns/c1/duplicate"),
        (lambda c: c.leads.delete("l1"), "DELETE", "/api/v2/leads/l1"),
        (lambda c: c.webhooks.delete("w1"), "DELETE", "/api/v2/webhooks/w1"),
        (lambda c: c.webhooks.test("w1"), "POST", "/api/v2/webhooks/w1/test"),
        (lambda c: c.webhooks.resume("w1"), "POST", "/api/v2/webhooks/w1/resume"),
    ],
)
def test_bodyless_calls_send_no_body_and_no_content_type(make_client, script_factory, call, method, path):
    script = script_factory(OK)
    call(make_client(script))
    req = script.requests[0]
    assert (req.method, req.url.path) == (method, path)
    assert req.content == b""
    assert "content-type" not in req.headers


def test_json_calls_send_a_json_content_type(make_client, script_factory):
    script = script_factory(OK)
    make_client(script).request("POST", "/x", json={"a": 1})
    assert script.requests[0].headers["content-type"] == "application/json"
    assert script.requests[0].content == b'{"a":1}'


def test_query_params_drop_none_repeat_lists_and_lowercase_bools(make_client, script_factory):
    script = script_factory(httpx.Response(200, json=[]))
    make_client(script).request(
        "GET", "/x", params={"ids": ["a", "b"], "flag": True, "off": False, "gone": None}
    )
    assert script.requests[0].url.query == b"ids=a&ids=b&flag=true&off=false"


def test_request_returns_none_for_an_empty_body(make_client, script_factory):
    script = script_factory(httpx.Response(204))
    assert make_client(script).request("POST", "/campaigns/c/share") is None


def test_context_manager_closes_the_client(make_client, script_factory):
    client = make_client(script_factory(OK))
    with client as entered:
        assert entered is client
    assert client._http.is_closed


# -- retries and write safety -------------------------------------------------------------------


def test_post_read_timeout_is_not_resent_and_raises_outcome_unknown(make_client, script_factory):
    script = script_factory(httpx.ReadTimeout("timed out"), OK)
    client = make_client(script)
    with pytest.raises(OutcomeUnknownError) as info:
        client.leads.add(campaign_id="c1", leads=[{"email": "a@b.co"}])
    assert len(script.requests) == 1
    assert (info.value.method, info.value.path) == ("POST", "/leads/add")
    assert isinstance(info.value.cause, httpx.ReadTimeout)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


def test_post_503_is_not_resent_and_raises_outcome_unknown_with_the_server_error(make_client, script_factory):
    script = script_factory(err(503, "upstream down"), OK)
    with pytest.raises(OutcomeUnknownError) as info:
        make_client(script).leads.add(campaign_id="c1", leads=[{"email": "a@b.co"}])
    assert len(script.requests) == 1
    assert info.value.status_code == 503
    assert isinstance(info.value.cause, ServerError)
    assert "upstream down" in str(info.value)


def test_post_429_is_retried_after_retry_after(make_client, script_factory, clock):
    body = {"status": "success", "leads_uploaded": 1, "created_leads": [{"index": 0, "id": "l1"}]}
    script = script_factory(
        err(429, "Rate limit exceeded", **{"Retry-After": "2"}), httpx.Response(200, json=body)
    )
    client = make_client(script)
    result = client.leads.add(campaign_id="c1", leads=[{"email": "a@b.co"}])
    assert result.leads_uploaded == 1
    assert len(script.requests) == 2
    assert clock.sleeps == [2.0]
    assert script.requests[0].content == script.requests[1].content
    assert client.stats.rate_limited == 1
    assert client.stats.retries == 1


def test_post_connect_error_is_resent_because_it_never_left(make_client, script_factory):
    script = script_factory(httpx.ConnectError("refused"), OK)
    make_client(script).campaigns.activate("c1")
    assert len(script.requests) == 2


def test_leads_list_is_a_read_and_retries_5xx_despite_being_post(make_client, script_factory):
    script = script_factory(err(503), err(502), httpx.Response(200, json={"items": []}))
    assert list(make_client(script).leads.list(campaign="c1")) == []
    assert len(script.requests) == 3


def test_get_retries_5xx_then_raises_server_error(make_client, script_factory):
    script = script_factory(default=err(500, "kaput"))
    with pytest.raises(ServerError) as info:
        make_client(script, max_retries=3).campaigns.get("c1")
    assert len(script.requests) == 4
    assert info.value.server_message == "kaput"


def test_get_read_timeouts_exhaust_into_request_timeout_error(make_client, script_factory):
    script = script_factory(default=httpx.ReadTimeout("timed out"))
    with pytest.raises(RequestTimeoutError):
        make_client(script, max_retries=2).campaigns.get("c1")
    assert len(script.requests) == 3


def test_connection_failure_exhausts_into_connection_failed_error(make_client, script_factory):
    script = script_factory(default=httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(ConnectionFailedError) as info:
        make_client(script, max_retries=1).campaigns.get("c1")
    assert len(script.requests) == 2
    assert "instantly.test" in str(info.value)


def test_429_that_never_clears_raises_rate_limit_error(make_client, script_factory):
    script = script_factory(default=err(429, "Rate limit exceeded"))
    with pytest.raises(RateLimitError) as info:
        make_client(script, max_retries=2).request("GET", "/campaigns")
    assert info.value.status_code == 429
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    ("response", "cls", "message"),
    [
        (err(401, "Missing Authorization header"), AuthenticationError, "Missing Authorization header"),
        (err(402, "Workspace does not have an active paid plan"), PaymentRequiredError, "active paid plan"),
        (err(404, "Resource not found"), NotFoundError, "Resource not found"),
        (httpx.Response(400, json={"message": "Start Date must be earlier"}), BadRequestError, "Start Date"),
        (httpx.Response(400, json={"error": "Lead not found"}), BadRequestError, "Lead not found"),
    ],
)
def test_4xx_raise_the_matching_error_immediately(make_client, script_factory, response, cls, message):
    script = script_factory(response, OK)
    with pytest.raises(cls) as info:
        make_client(script).request("GET", "/campaigns/analytics")
    assert len(script.requests) == 1
    assert message in str(info.value)
    assert info.value.server_message is not None


def test_limiter_is_consulted_for_every_attempt_including_retries(make_client, script_factory):
    calls = []
    script = script_factory(err(503), OK)
    make_client(script, limiter=CallableLimiter(lambda: calls.append(1))).request("GET", "/x")
    assert len(calls) == 2


# -- secrets never leak ---------------------------------------------------------------------------


def test_repr_of_the_client_does_not_contain_the_key(make_client, script_factory, api_key):
    client = make_client(script_factory(OK))
    assert api_key not in repr(client)
    assert api_key not in repr(client._http.auth)
    assert api_key not in repr(vars(client))


def test_errors_and_tracebacks_never_contain_the_key(make_client, script_factory, api_key, caplog):
    caplog.set_level(logging.DEBUG)
    script = script_factory(
        err(401, f"invalid key {api_key}"),
        httpx.ReadTimeout("timed out"),
        err(503),
        default=httpx.ConnectError("refused"),
    )
    client = make_client(script, max_retries=1)
    raised: list[InstantlyError] = []
    for call in (
        lambda: client.campaigns.get("c1"),
        lambda: client.leads.add(campaign_id="c1", leads=[{"email": "a@b.co"}]),
        lambda: client.campaigns.pause("c1"),
        lambda: client.campaigns.get("c2"),
    ):
        with pytest.raises(InstantlyError) as info:
            call()
        raised.append(info.value)
    assert [type(e) for e in raised] == [
        AuthenticationError,
        OutcomeUnknownError,
        OutcomeUnknownError,
        ConnectionFailedError,
    ]
    for error in raised:
        assert api_key not in str(error)
        assert api_key not in repr(error)
        assert api_key not in "".join(traceback.format_exception(error))
    assert "**********" in str(raised[0])  # the echoed key was redacted
    assert caplog.records, "expected debug logs"
    assert api_key not in caplog.text


def test_a_password_in_the_base_url_is_starred_in_errors_logs_and_the_repr(
    make_client, script_factory, caplog
):
    caplog.set_level(logging.DEBUG)
    base_url = "http://user:SECRETpw@instantly.test/api/v2"
    script = script_factory(default=httpx.ConnectError("[Errno 111] Connection refused"))
    client = make_client(script, base_url=base_url, max_retries=1)
    with pytest.raises(ConnectionFailedError) as info:
        client.request("GET", "/campaigns")
    shown = "http://user:***@instantly.test/api/v2"
    assert info.value.message.startswith(f"could not reach {shown} (ConnectError")
    assert "SECRETpw" not in "".join(traceback.format_exception(info.value))
    assert "SECRETpw" not in repr(client) and shown in repr(client)
    assert "SECRETpw" not in caplog.text
    assert script.requests[0].url.password == "SECRETpw"  # the URL itself is used as given

    # A transport that names the request's URL in its error (as a proxy may): the message stars it too.
    naming = script_factory(default=lambda request: httpx.ConnectError(f"refused by {request.url}"))
    with pytest.raises(ConnectionFailedError) as info:
        make_client(naming, base_url=base_url, max_retries=0).request("GET", "/campaigns")
    assert f"refused by {shown}/campaigns" in str(info.value) and "SECRETpw" not in str(info.value)


# -- stats --------------------------------------------------------------------------------------


def test_stats_track_requests_retries_and_latency_ewma(make_client, script_factory, clock):
    latencies = iter([0.2, 0.4, 0.1])

    def slow(request):
        clock.now += next(latencies)
        return httpx.Response(200, json={})

    client = make_client(slow)
    client.request("GET", "/a")
    assert client.stats.latency_ewma == pytest.approx(0.2)
    client.request("GET", "/b")
    assert client.stats.latency_ewma == pytest.approx(0.2 * 0.4 + 0.8 * 0.2)
    client.request("GET", "/c")
    stats = client.stats
    assert stats.requests == 3
    assert stats.retries == 0
    assert stats.latency_ewma == pytest.approx(0.2 * 0.1 + 0.8 * 0.24)
    assert client.suggested_concurrency() == 11  # ceil(50 rps * 0.212 s)


def test_clients_of_one_workspace_share_one_limiter():
    a = InstantlyClient(api_key="k1", base_url="http://share.test/api/v2", workspace_id="ws-shared")
    b = InstantlyClient(api_key="k2", base_url="http://share.test/api/v2", workspace_id="ws-shared")
    c = InstantlyClient(api_key="k1", base_url="http://share.test/api/v2", workspace_id="ws-other")
    try:
        assert a._limiter is b._limiter
        assert a._limiter is not c._limiter
    finally:
        for client in (a, b, c):
            client.close()


@pytest.mark.parametrize(
    ("method", "path", "endpoint"),
    [
        ("post", "/leads/list", "POST /leads/list"),
        ("PATCH", "/leads/019ffad2-90b0-7d6d-b877-e244a0d3d2b2", "PATCH /leads/{id}"),
        ("POST", "campaigns/019ffad2-90b0-7d6d-b877-e244a0d3d2b2/activate", "POST /campaigns/{id}/activate"),
        ("GET", "/accounts/a%40b.co", "GET /accounts/{id}"),
        ("POST", "/leads/update-interest-status", "POST /leads/update-interest-status"),
        ("GET", "/workspaces/current?x=1", "GET /workspaces/current"),
    ],
)
def test_endpoint_of_names_the_route_with_ids_replaced(method, path, endpoint):
    assert endpoint_of(method, path) == endpoint


def test_stats_count_every_attempt_per_endpoint_retries_and_lost_connections_included(
    make_client, script_factory
):
    script = script_factory(
        err(503), httpx.Response(200, json={"items": []}),  # a lookup, retried once
        httpx.ConnectError("refused"), httpx.Response(200, json={"id": "l1"}),  # a read, resent
        httpx.Response(200, json={"id": "l2"}),
    )  # fmt: skip
    client = make_client(script)
    assert list(client.leads.list(contacts=["a@b.co"])) == []
    client.leads.get("019ffad2-90b0-7d6d-b877-e244a0d3d2b2")
    client.leads.get("019ffad2-90b0-7d6d-b877-e244a0d3d2b3")
    stats = client.stats
    assert stats.by_endpoint == {"POST /leads/list": 2, "GET /leads/{id}": 3}
    assert stats.sent == len(script.requests) == 5
