"""The one place that decides whether a request is retried, and how long to wait.

Policy (the API has no idempotency key, so a resent write can create duplicates):

* Reads (GET, and POST /leads/list, which is a read despite the verb) retry on 429, 5xx, timeouts and
  connection errors.
* Writes retry only on 429 and on connection failures that provably happened before the request was
  sent (``ConnectError``, ``ConnectTimeout``, ``PoolTimeout``). A write that may have reached the server
  (read/write timeout, broken connection after sending, 5xx) is not resent: the caller gets
  :class:`~instantly_client.errors.OutcomeUnknownError` and must reconcile.
* Waits use exponential backoff with full jitter, unless the server sent ``Retry-After`` (seconds or an
  HTTP date), which is honoured up to a cap.
"""

from __future__ import annotations

import email.utils
import enum
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import httpx
import tenacity

__all__ = [
    "RetryPolicy",
    "Verdict",
    "backoff_wait",
    "call_with_retries",
    "classify",
    "parse_retry_after",
]

T = TypeVar("T")

# Failures that happen before any byte of the request left: always safe to resend.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures that may happen after the request reached the server.
_MAYBE_SENT = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.CloseError,
)


class Verdict(enum.Enum):
    """What to do with the outcome of one attempt."""

    SUCCESS = "success"
    RETRY = "retry"
    FAIL = "fail"
    OUTCOME_UNKNOWN = "outcome_unknown"


def classify(
    *, idempotent: bool, status_code: int | None = None, exc: BaseException | None = None
) -> Verdict:
    """Decide "retry or fail" for one attempt: a response status or a transport exception (pure)."""
    if exc is not None:
        if isinstance(exc, _NOT_SENT):
            return Verdict.RETRY
        if isinstance(exc, _MAYBE_SENT):
            return Verdict.RETRY if idempotent else Verdict.OUTCOME_UNKNOWN
        return Verdict.FAIL
    if status_code is None:
        raise ValueError("classify needs status_code or exc")
    if status_code < 400:
        return Verdict.SUCCESS
    if status_code == 429:
        # The request was refused before being processed: safe to resend, even for writes.
        return Verdict.RETRY
    if status_code >= 500:
        return Verdict.RETRY if idempotent else Verdict.OUTCOME_UNKNOWN
    return Verdict.FAIL


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent/bad.

    Args:
        value: the header value.
        now: current wall-clock time as a Unix timestamp (for the HTTP-date form).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT
            return None
        return max(0.0, when.timestamp() - now)
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def backoff_wait(
    attempt: int,
    *,
    retry_after: float | None,
    base: float,
    cap: float,
    max_retry_after: float,
    rand: Callable[[], float],
) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based) (pure).

    ``Retry-After`` wins when present (capped at ``max_retry_after``); otherwise full jitter:
    ``uniform(0, min(cap, base * 2 ** (attempt - 1)))``.
    """
    if retry_after is not None:
        return min(retry_after, max_retry_after)
    ceiling = min(cap, base * (2.0 ** max(0, attempt - 1)))
    return rand() * ceiling


@dataclass(frozen=True)
class RetryPolicy:
    """Retry knobs. ``max_retries`` counts resends, so ``max_retries=6`` allows 7 attempts."""

    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0


def call_with_retries(
    attempt: Callable[[], httpx.Response],
    *,
    idempotent: bool,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
    now: Callable[[], float],
    rand: Callable[[], float] = random.random,
    on_retry: Callable[[int], None] | None = None,
) -> httpx.Response:
    """Run ``attempt`` until :func:`classify` stops asking for a retry or the retries run out.

    Returns the last response (success or not); re-raises the last transport exception. Turning
    either into an :class:`~instantly_client.errors.InstantlyError` is the caller's job.

    Args:
        attempt: sends the request once.
        idempotent: whether resending is safe (see module docstring).
        policy: retry limits and backoff.
        sleep: sleep function (injected in tests, so they never sleep).
        now: wall clock (Unix seconds) for HTTP-date ``Retry-After`` values.
        rand: random number in [0, 1) for jitter.
        on_retry: called with the failed attempt's number before each wait.
    """

    def should_retry(state: tenacity.RetryCallState) -> bool:
        outcome = state.outcome
        if outcome is None:
            return False
        if outcome.failed:
            verdict = classify(idempotent=idempotent, exc=outcome.exception())
        else:
            verdict = classify(idempotent=idempotent, status_code=outcome.result().status_code)
        return verdict is Verdict.RETRY

    def wait(state: tenacity.RetryCallState) -> float:
        retry_after = None
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            retry_after = parse_retry_after(outcome.result().headers.get("retry-after"), now=now())
        return backoff_wait(
            state.attempt_number,
            retry_after=retry_after,
            base=policy.backoff_base,
            cap=policy.backoff_cap,
            max_retry_after=policy.max_retry_after,
            rand=rand,
        )

    def give_up(state: tenacity.RetryCallState) -> httpx.Response:
        # Out of retries: hand back the last response, or re-raise the last exception.
        assert state.outcome is not None
        result: httpx.Response = state.outcome.result()
        return result

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(policy.max_retries + 1),
        wait=wait,
        retry=should_retry,
        sleep=sleep,
        retry_error_callback=give_up,
        before_sleep=(lambda state: on_retry(state.attempt_number)) if on_retry is not None else None,
        reraise=True,
    )
    response: httpx.Response = retrying(attempt)
    return response
