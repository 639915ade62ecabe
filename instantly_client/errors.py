"""Errors raised by the client, named by what went wrong.

Every error is an :class:`InstantlyError` with ``status_code`` (``None`` when no HTTP response was
received), ``server_message`` (what the API said, if anything), ``method``/``path`` of the request and a
plain-English ``hint``. ``str(error)`` is always a single line. Errors never carry request headers, so
the API key cannot leak through them.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AmbiguousNameError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConnectionFailedError",
    "InstantlyError",
    "JobTimeoutError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PayloadTooLargeError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServerError",
    "ValidationError",
    "error_for_status",
    "server_message_from_body",
]


def _one_line(text: str) -> str:
    return " ".join(text.split())


class InstantlyError(Exception):
    """Base class of every error raised by ``instantly_client``."""

    default_hint: ClassVar[str] = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        server_message: str | None = None,
        method: str | None = None,
        path: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.server_message = server_message
        self.method = method
        self.path = path
        self.hint = self.default_hint if hint is None else hint
        self.message = _one_line(message)
        super().__init__(self._render())

    @property
    def summary(self) -> str:
        """The error as one line without its hint (for callers that show the hint apart)."""
        return self._render(hint=False)

    def _render(self, *, hint: bool = True) -> str:
        parts = []
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.status_code is not None:
            parts.append(f"HTTP {self.status_code}")
        prefix = " ".join(parts)
        text = f"{prefix}: {self.message}" if prefix else self.message
        if self.hint and hint:
            text = f"{text} (hint: {self.hint})"
        return _one_line(text)

    def __str__(self) -> str:
        return self._render()


class AuthenticationError(InstantlyError):
    """HTTP 401: the API key is missing, invalid or revoked."""

    # The key may come from INSTANTLY_API_KEY, a credentials block or api_key=: this layer cannot tell which.
    default_hint = (
        "check the API key (the credentials block, or INSTANTLY_API_KEY); it may be invalid or revoked"
    )


class MissingAPIKeyError(AuthenticationError, ValueError):
    """The client was constructed without an API key (raised before any request)."""

    default_hint = "set INSTANTLY_API_KEY or pass api_key="


class PaymentRequiredError(InstantlyError):
    """HTTP 402: the workspace has no paid plan with API access. Never retried."""

    default_hint = "the workspace has no active paid plan with API access"


class PermissionDeniedError(InstantlyError):
    """HTTP 403: the API key lacks the scope for this operation."""

    default_hint = "the API key lacks the scope for this call (e.g. leads:create); create a key with it"


class NotFoundError(InstantlyError):
    """HTTP 404, or a lookup by name that matched nothing.

    ``near_names``: after a lookup by name, the names the API's search returned that were not an exact match
    (the same name in another case, or a longer name containing it), for the caller to suggest one.
    """

    default_hint = "unknown id: check it exists in this workspace"

    def __init__(self, message: str, *, near_names: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.near_names = near_names
        super().__init__(message, **kwargs)


class ValidationError(InstantlyError, ValueError):
    """The request is invalid: rejected before sending, or by the server (see BadRequestError)."""

    default_hint = "fix the request arguments"


class BadRequestError(ValidationError):
    """HTTP 400/422: the server rejected the request; ``server_message`` says why."""

    default_hint = "the server rejected the request body or parameters; see the message"


class PayloadTooLargeError(BadRequestError):
    """HTTP 413: the request body is too large; split the batch."""

    default_hint = "the request body is too large; send fewer leads per call"


class RateLimitError(InstantlyError):
    """HTTP 429 after all retries: the workspace rate budget is exhausted."""

    default_hint = "rate budget exceeded; lower INSTANTLY_RATE_PER_SECOND or run fewer jobs at once"


class ServerError(InstantlyError):
    """HTTP 5xx after all retries (for reads)."""

    default_hint = "Instantly had a server error; try again later"


class APIStatusError(InstantlyError):
    """Any other unexpected non-success HTTP status."""

    default_hint = "unexpected HTTP status from the API"


class RequestTimeoutError(InstantlyError):
    """The request timed out (after all retries, for reads)."""

    default_hint = "the API did not answer in time; raise the timeout or try again later"


class ConnectionFailedError(InstantlyError):
    """No connection could be made to the API (after all retries)."""

    default_hint = "is the base URL right, and is the network (or the local sandbox) up?"


class OutcomeUnknownError(InstantlyError):
    """A write may or may not have been applied: it failed after it could have reached the server.

    The API has no idempotency key, so the client does not resend it. Reconcile by reading back
    (e.g. list the campaign's leads) before deciding to send again.
    """

    default_hint = "the write may have been applied; read back and reconcile before resending"

    def __init__(
        self,
        message: str,
        *,
        method: str,
        path: str,
        cause: BaseException,
        status_code: int | None = None,
        server_message: str | None = None,
    ) -> None:
        self.cause = cause
        super().__init__(
            message, method=method, path=path, status_code=status_code, server_message=server_message
        )


class JobTimeoutError(InstantlyError):
    """A background job did not reach a terminal status in time."""

    default_hint = "the job is still running; poll it again later with client.jobs.get(id)"


class AmbiguousNameError(ValidationError):
    """A lookup by name matched more than one object."""

    default_hint = "pass the id instead of the name"


_BY_STATUS: dict[int, type[InstantlyError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: BadRequestError,
    429: RateLimitError,
}


def server_message_from_body(body: Any, text: str = "") -> str | None:
    """Extract the server's message from an error body.

    Instantly uses ``{statusCode, error, message}``, and some endpoints only ``{message}`` or ``{error}``.
    """
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return _one_line(value)
            if isinstance(value, list) and value:  # some frameworks send a list of messages
                return _one_line("; ".join(str(v) for v in value))
    snippet = _one_line(text)[:300]
    return snippet or None


def error_for_status(
    status_code: int, *, method: str, path: str, server_message: str | None
) -> InstantlyError:
    """Build the error matching an HTTP status (pure; no I/O)."""
    cls = _BY_STATUS.get(status_code)
    if cls is None:
        cls = ServerError if status_code >= 500 else APIStatusError
    message = server_message or f"request failed with HTTP {status_code}"
    return cls(message, status_code=status_code, server_message=server_message, method=method, path=path)
