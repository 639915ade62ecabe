"""The HTTP client: auth, limits, retries and error mapping. Resources hang off it as attributes."""

from __future__ import annotations

import json as jsonlib
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from pydantic import SecretStr

from ._ratelimit import (
    Limiter,
    RateFeedback,
    RateLimiter,
    SlidingWindowLimiter,
    limiter_key,
    shared_limiter,
    shared_window_limiter,
)
from ._redact import url_without_password
from ._retry import RetryPolicy, Verdict, call_with_retries, classify, parse_retry_after
from ._stats import ClientStats, StatsRecorder, endpoint_of
from ._version import __version__
from .errors import (
    ConnectionFailedError,
    InstantlyError,
    MissingAPIKeyError,
    OutcomeUnknownError,
    RequestTimeoutError,
    error_for_status,
    server_message_from_body,
)
from .resources.accounts import Accounts
from .resources.analytics import Analytics
from .resources.campaigns import Campaigns
from .resources.emails import Emails
from .resources.jobs import Jobs
from .resources.leads import Leads
from .resources.webhook_events import WebhookEvents
from .resources.webhooks import Webhooks
from .resources.workspaces import Workspaces

__all__ = ["DEFAULT_BASE_URL", "USER_AGENT", "InstantlyClient"]

logger = logging.getLogger("instantly_client")

DEFAULT_BASE_URL = "https://api.instantly.ai/api/v2"  # SPEC servers + /api/v2 path prefix
USER_AGENT = f"ops-instantly/{__version__} instantly-client"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _BearerAuth(httpx.Auth):
    """Adds ``Authorization: Bearer`` per request, so the key never sits in the client's default headers."""

    def __init__(self, key: SecretStr) -> None:
        self._key = key

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        yield request

    def __repr__(self) -> str:
        return "_BearerAuth(key=**********)"


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop ``None`` values; lists become repeated keys (``?ids=a&ids=b``), bools ``true``/``false``."""
    if not params:
        return None
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, tuple | list | set | frozenset):
            cleaned[key] = [_scalar(v) for v in value]
        else:
            cleaned[key] = _scalar(value)
    return cleaned or None


def _scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


class InstantlyClient:
    """A synchronous, thread-safe client for the Instantly API v2.

    Example:
        ```python
        with InstantlyClient(api_key=key) as client:
            for campaign in client.campaigns.list():
                print(campaign.name, campaign.status_label)
        ```

    Args:
        api_key: the workspace API key (sent as ``Authorization: Bearer``; never logged or shown).
        base_url: API root including ``/api/v2``; point it at the sandbox in tests.
        rate_per_second: client-side budget per second (the API allows 100 per workspace).
        rate_per_minute: client-side budget per minute (the API allows 6,000 per workspace).
        workspace_id: act on a sub-workspace (``x-as-workspace`` header); also keys the shared limiter.
        timeout: seconds for connect, read, write and pool waits.
        max_retries: resends after the first attempt (see ``_retry.py`` for what is retried).
        limiter: a custom :class:`~instantly_client.Limiter` (e.g. cross-process); default: the
            process-wide limiter shared by every client of this workspace.
        transport: an httpx transport (``httpx.MockTransport`` in tests).
        clock: monotonic clock for limiting and latency. Injecting it (or ``sleep``) gives the client
            private limiters, so tests do not share state.
        sleep: sleep function used by the limiter, retries and job polling.
        wall_clock: Unix time, for HTTP-date ``Retry-After`` values.
        rand: random number in [0, 1) for backoff jitter.
    """

    def __init__(
        self,
        *,
        api_key: str | SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        rate_per_second: float = 50,
        rate_per_minute: float = 3000,
        workspace_id: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 6,
        limiter: Limiter | None = None,
        global_limiter: Limiter | None = None,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        wall_clock: Callable[[], float] | None = None,
        rand: Callable[[], float] | None = None,
    ) -> None:
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        if not isinstance(key, str) or not key.strip():
            raise MissingAPIKeyError("api_key is empty: an Instantly API key is required")
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._api_key = SecretStr(key.strip())
        self.base_url = base_url.rstrip("/")
        self._shown_url = url_without_password(self.base_url)  # what messages and the repr show of it
        self.workspace_id = workspace_id
        self.rate_per_second = rate_per_second
        self.rate_per_minute = rate_per_minute
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._wall_clock = wall_clock or time.time
        self._rand = rand or random.random
        self._policy = RetryPolicy(max_retries=max_retries)
        self._stats = StatsRecorder()

        self._private_limiters = clock is not None or sleep is not None
        self._limiter_key = limiter_key(
            self.base_url, workspace_id=workspace_id, api_key=self._api_key.get_secret_value()
        )
        self._limiter: Limiter = limiter or self._make_limiter(rate_per_second, rate_per_minute)
        self._global_limiter = global_limiter
        self._endpoint_limiters: dict[str, Limiter] = {}
        self._endpoint_limiters_lock = threading.Lock()

        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if workspace_id:
            headers["x-as-workspace"] = workspace_id
        # No default Content-Type: bodyless POST/DELETE must not claim a JSON body (notes §10.5).
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            auth=_BearerAuth(self._api_key),
            headers=headers,
            timeout=httpx.Timeout(timeout),
            # Enough pooled connections for the push and sync fan-out (up to 64 requests in flight)
            # without reconnecting after every request.
            limits=httpx.Limits(max_connections=128, max_keepalive_connections=64),
            transport=transport,
            follow_redirects=False,
        )

        self.campaigns = Campaigns(self)
        self.leads = Leads(self)
        self.jobs = Jobs(self)
        self.analytics = Analytics(self)
        self.webhooks = Webhooks(self)
        self.webhook_events = WebhookEvents(self)
        self.accounts = Accounts(self)
        self.emails = Emails(self)
        self.workspaces = Workspaces(self)

    # -- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> InstantlyClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"InstantlyClient(base_url={self._shown_url!r}, workspace_id={self.workspace_id!r}, "
            f"rate_per_second={self.rate_per_second}, rate_per_minute={self.rate_per_minute})"
        )

    # -- observability ---------------------------------------------------------------------------

    @property
    def stats(self) -> ClientStats:
        """Counts and latency EWMA so far (a snapshot)."""
        return self._stats.snapshot()

    def suggested_concurrency(self, *, maximum: int = 64) -> int:
        """Workers needed to use ``rate_per_second`` at the observed latency."""
        return self.stats.suggested_concurrency(self.rate_per_second, maximum=maximum)

    # -- requests --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send any request and return the decoded JSON (``None`` for an empty body).

        Args:
            method: HTTP method.
            path: path under the base URL, e.g. ``"/campaigns"``.
            params: query parameters (``None`` values dropped, lists repeated).
            json: JSON body; ``None`` sends no body and no Content-Type.
            idempotent: whether it is safe to resend after the request may have arrived. Defaults to
                ``True`` for GET/HEAD/OPTIONS and ``False`` otherwise.

        Raises:
            InstantlyError: a subclass naming what went wrong.
        """
        return self._send(method, path, params=params, json=json, idempotent=idempotent)

    def _make_limiter(self, per_second: float | None, per_minute: float | None) -> Limiter:
        if self._private_limiters:
            return RateLimiter(per_second, per_minute, clock=self._clock, sleep=self._sleep)
        return shared_limiter(self._limiter_key, per_second, per_minute)

    def _endpoint_limiter(self, name: str, *, per_minute: float) -> Limiter:
        """A per-endpoint limiter on top of the workspace one (e.g. GET /emails: 20/min); bursts allowed."""
        with self._endpoint_limiters_lock:
            limiter = self._endpoint_limiters.get(name)
            if limiter is None:
                if self._private_limiters:
                    limiter = SlidingWindowLimiter(None, per_minute, clock=self._clock, sleep=self._sleep)
                else:
                    limiter = shared_window_limiter(f"{self._limiter_key}|endpoint:{name}", None, per_minute)
                self._endpoint_limiters[name] = limiter
            return limiter

    def _redact(self, text: str | None) -> str | None:
        """``text`` without the API key, and with the base URL (a request's URL too) as the repr shows it."""
        if text is None:
            return None
        return text.replace(self._api_key.get_secret_value(), "**********").replace(
            self.base_url, self._shown_url
        )

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        extra_limiter: Limiter | None = None,
        content: bytes | None = None,
        raw: bool = False,
    ) -> Any:
        method = method.upper()
        if idempotent is None:
            idempotent = method in _SAFE_METHODS
        query = _clean_params(params)
        url = path.lstrip("/")
        endpoint = endpoint_of(method, path)

        def attempt() -> httpx.Response:
            # The process's paced limiter goes last: requests that waited for a shared or per-endpoint slot
            # then still leave evenly spaced, not all at once when the slots arrive.
            if self._global_limiter is not None:
                self._global_limiter.acquire()
            if extra_limiter is not None:
                extra_limiter.acquire()
            self._limiter.acquire()
            started = self._clock()
            try:
                if content is not None:  # a body already encoded as JSON (the push's bulk adds)
                    headers = {"Content-Type": "application/json"}
                    response = self._http.request(method, url, params=query, content=content, headers=headers)
                elif json is None:
                    response = self._http.request(method, url, params=query)
                else:
                    response = self._http.request(method, url, params=query, json=json)
            except httpx.TransportError as exc:
                self._stats.record_transport_error(endpoint)
                logger.debug("%s %s failed: %s", method, path, type(exc).__name__)
                raise
            latency = self._clock() - started
            self._stats.record_response(response.status_code, latency, endpoint)
            self._feed_back(response, started)
            logger.debug("%s %s -> %s in %.3fs", method, path, response.status_code, latency)
            return response

        try:
            response = call_with_retries(
                attempt,
                idempotent=idempotent,
                policy=self._policy,
                sleep=self._sleep,
                now=self._wall_clock,
                rand=self._rand,
                on_retry=self._stats.record_retry,
            )
        except httpx.TransportError as exc:
            raise self._transport_error(exc, method, path, idempotent) from exc
        return self._handle(response, method, path, idempotent, raw=raw)

    def _feed_back(self, response: httpx.Response, started: float) -> None:
        """Tell the workspace limiter how the server answered (a 429 slows it down; see _ratelimit.py)."""
        if not isinstance(self._limiter, RateFeedback):
            return
        retry_after = None
        if response.status_code == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._wall_clock())
            if retry_after is not None:
                retry_after = min(retry_after, self._policy.max_retry_after)
        self._limiter.on_response(response.status_code, started=started, retry_after=retry_after)

    def _transport_error(
        self, exc: httpx.TransportError, method: str, path: str, idempotent: bool
    ) -> InstantlyError:
        kind = type(exc).__name__
        if classify(idempotent=idempotent, exc=exc) is Verdict.OUTCOME_UNKNOWN:
            return OutcomeUnknownError(
                f"{kind} after the request may have reached the server; it was not resent",
                method=method,
                path=path,
                cause=exc,
            )
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeoutError(f"request timed out ({kind})", method=method, path=path)
        detail = self._redact(str(exc)) or kind
        return ConnectionFailedError(
            f"could not reach {self._shown_url} ({kind}: {detail})", method=method, path=path
        )

    def _handle(
        self, response: httpx.Response, method: str, path: str, idempotent: bool, *, raw: bool = False
    ) -> Any:
        status = response.status_code
        verdict = classify(idempotent=idempotent, status_code=status)
        if verdict is Verdict.SUCCESS:
            if status == 204 or not response.content:
                return None
            if raw:  # the caller parses the JSON itself (a model's model_validate_json)
                return response.content
            try:
                return response.json()
            except (jsonlib.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InstantlyError(
                    f"HTTP {status} response is not JSON", status_code=status, method=method, path=path
                ) from exc
        try:
            body: Any = response.json()
        except (jsonlib.JSONDecodeError, UnicodeDecodeError):
            body = None
        server_message = self._redact(server_message_from_body(body, response.text))
        error = error_for_status(status, method=method, path=path, server_message=server_message)
        if verdict is Verdict.OUTCOME_UNKNOWN:
            raise OutcomeUnknownError(
                f"HTTP {status} after the request reached the server; it was not resent"
                + (f": {server_message}" if server_message else ""),
                method=method,
                path=path,
                cause=error,
                status_code=status,
                server_message=server_message,
            )
        raise error
