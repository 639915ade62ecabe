"""Retry decisions, wait computation and the retry loop, with an injected sleep (no real waiting)."""

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest

from instantly_client._retry import (
    RetryPolicy,
    Verdict,
    backoff_wait,
    call_with_retries,
    classify,
    parse_retry_after,
)

READ, WRITE = True, False


@pytest.mark.parametrize(
    ("status", "idempotent", "verdict"),
    [
        (200, READ, Verdict.SUCCESS),
        (202, WRITE, Verdict.SUCCESS),
        (204, WRITE, Verdict.SUCCESS),
        (400, READ, Verdict.FAIL),
        (401, READ, Verdict.FAIL),
        (402, WRITE, Verdict.FAIL),
        (403, READ, Verdict.FAIL),
        (404, READ, Verdict.FAIL),
        (429, READ, Verdict.RETRY),
        (429, WRITE, Verdict.RETRY),
        (500, READ, Verdict.RETRY),
        (502, READ, Verdict.RETRY),
        (503, READ, Verdict.RETRY),
        (504, READ, Verdict.RETRY),
        (500, WRITE, Verdict.OUTCOME_UNKNOWN),
        (503, WRITE, Verdict.OUTCOME_UNKNOWN),
        (504, WRITE, Verdict.OUTCOME_UNKNOWN),
    ],
)
def test_classify_status_by_method_kind(status, idempotent, verdict):
    assert classify(idempotent=idempotent, status_code=status) is verdict


REQ = httpx.Request("POST", "http://x/leads/add")


@pytest.mark.parametrize(
    ("exc", "read_verdict", "write_verdict"),
    [
        (httpx.ConnectError("refused", request=REQ), Verdict.RETRY, Verdict.RETRY),
        (httpx.ConnectTimeout("slow connect", request=REQ), Verdict.RETRY, Verdict.RETRY),
        (httpx.PoolTimeout("pool", request=REQ), Verdict.RETRY, Verdict.RETRY),
        (httpx.ReadTimeout("slow read", request=REQ), Verdict.RETRY, Verdict.OUTCOME_UNKNOWN),
        (httpx.WriteTimeout("slow write", request=REQ), Verdict.RETRY, Verdict.OUTCOME_UNKNOWN),
        (httpx.ReadError("reset", request=REQ), Verdict.RETRY, Verdict.OUTCOME_UNKNOWN),
        (httpx.RemoteProtocolError("eof", request=REQ), Verdict.RETRY, Verdict.OUTCOME_UNKNOWN),
        (httpx.UnsupportedProtocol("ftp", request=REQ), Verdict.FAIL, Verdict.FAIL),
        (ValueError("bug"), Verdict.FAIL, Verdict.FAIL),
    ],
)
def test_classify_transport_errors_retries_writes_only_when_provably_unsent(exc, read_verdict, write_verdict):
    assert classify(idempotent=READ, exc=exc) is read_verdict
    assert classify(idempotent=WRITE, exc=exc) is write_verdict


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        (" 7 ", 7.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("nan", None),
        (format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True), 30.0),
        (format_datetime(datetime.fromtimestamp(NOW - 30, UTC), usegmt=True), 0.0),
    ],
)
def test_parse_retry_after_reads_seconds_and_http_dates(header, expected):
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "retry_after", "rand", "expected"),
    [
        (1, None, 1.0, 0.5),
        (2, None, 1.0, 1.0),
        (3, None, 1.0, 2.0),
        (6, None, 1.0, 16.0),
        (7, None, 1.0, 30.0),  # capped
        (20, None, 1.0, 30.0),
        (4, None, 0.0, 0.0),  # full jitter reaches zero
        (4, None, 0.5, 2.0),
        (1, 7.0, 1.0, 7.0),  # Retry-After wins over backoff
        (5, 0.0, 1.0, 0.0),
        (1, 1000.0, 1.0, 120.0),  # Retry-After capped
    ],
)
def test_backoff_wait_is_full_jitter_unless_retry_after(attempt, retry_after, rand, expected):
    wait = backoff_wait(
        attempt, retry_after=retry_after, base=0.5, cap=30.0, max_retry_after=120.0, rand=lambda: rand
    )
    assert wait == pytest.approx(expected)


def run(outcomes, *, idempotent, max_retries=6):
    """Drive call_with_retries over scripted outcomes; return (result or exception, attempts, sleeps)."""
    outcomes = list(outcomes)
    attempts = []
    sleeps = []

    def attempt():
        attempts.append(1)
        item = outcomes.pop(0)
        if isinstance(item, BaseException):
            raise item
        status, headers = item if isinstance(item, tuple) else (item, {})
        return httpx.Response(status, headers=headers, request=REQ)

    try:
        result = call_with_retries(
            attempt,
            idempotent=idempotent,
            policy=RetryPolicy(max_retries=max_retries),
            sleep=sleeps.append,
            now=lambda: NOW,
            rand=lambda: 1.0,
        )
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        result = exc
    return result, len(attempts), sleeps


def test_read_retries_5xx_until_success_with_growing_backoff():
    result, attempts, sleeps = run([503, 502, 200], idempotent=READ)
    assert result.status_code == 200
    assert attempts == 3
    assert sleeps == [0.5, 1.0]


def test_write_is_not_resent_after_a_5xx():
    result, attempts, sleeps = run([503, 200], idempotent=WRITE)
    assert result.status_code == 503
    assert attempts == 1
    assert sleeps == []


def test_write_429_is_retried_honouring_retry_after():
    result, attempts, sleeps = run([(429, {"Retry-After": "3"}), 200], idempotent=WRITE)
    assert result.status_code == 200
    assert attempts == 2
    assert sleeps == [3.0]


def test_write_read_timeout_is_raised_without_resending():
    result, attempts, _ = run([httpx.ReadTimeout("t", request=REQ), 200], idempotent=WRITE)
    assert isinstance(result, httpx.ReadTimeout)
    assert attempts == 1


def test_write_connect_error_is_resent_because_nothing_was_sent():
    result, attempts, _ = run([httpx.ConnectError("refused", request=REQ), 200], idempotent=WRITE)
    assert result.status_code == 200
    assert attempts == 2


def test_retries_stop_after_max_retries_and_return_the_last_response():
    result, attempts, sleeps = run([429] * 10, idempotent=READ, max_retries=2)
    assert result.status_code == 429
    assert attempts == 3
    assert len(sleeps) == 2


def test_retries_stop_after_max_retries_and_reraise_the_last_exception():
    errors = [httpx.ConnectError(f"refused {i}", request=REQ) for i in range(5)]
    result, attempts, _ = run(errors, idempotent=READ, max_retries=3)
    assert isinstance(result, httpx.ConnectError)
    assert str(result) == "refused 3"
    assert attempts == 4


def test_client_errors_are_never_retried():
    result, attempts, _ = run([400, 200], idempotent=READ)
    assert result.status_code == 400
    assert attempts == 1
