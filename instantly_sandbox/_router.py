"""A tiny decorator router: `@route("POST", "/api/v2/leads/add")`, with `{id}`-style path params.

API routes are registered with the exact OpenAPI path template, which is how a request finds its schemas.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class ApiError(Exception):
    """An error answered with the Fastify envelope `{statusCode, error, message}` (or a custom body)."""

    REASONS = {
        400: "Bad Request",
        401: "Unauthorized",
        402: "Payment Required",
        403: "Forbidden",
        404: "Not Found",
        413: "Payload Too Large",
        415: "Unsupported Media Type",
        429: "Too Many Requests",
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }

    def __init__(self, status: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or {
            "statusCode": status,
            "error": self.REASONS.get(status, "Error"),
            "message": message,
        }


def not_found(message: str = "Resource not found") -> ApiError:
    return ApiError(404, message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


@dataclass
class Request:
    method: str
    path: str
    template: str
    params: dict[str, str]
    query: dict[str, Any]
    body: Any
    headers: dict[str, str]
    raw_query: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Response:
    status: int
    body: Any


Handler = Callable[[Any, Request], Any]


@dataclass
class Route:
    method: str
    template: str
    handler: Handler
    regex: re.Pattern[str]
    static: bool
    status: int
    locked: bool = True


ROUTES: list[Route] = []


def route(
    method: str, template: str, *, status: int = 200, locked: bool = True
) -> Callable[[Handler], Handler]:
    """Register a handler; `locked=False` handlers take the state lock themselves (slow outbound calls)."""

    def register(fn: Handler) -> Handler:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        regex = re.compile(f"^{pattern}$")
        ROUTES.append(Route(method, template, fn, regex, "{" not in template, status, locked))
        return fn

    return register


def match(method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
    """Return (route, path params, path_exists). Static templates win over `{param}` ones."""
    path_exists = False
    for static in (True, False):
        for r in ROUTES:
            if r.static != static:
                continue
            m = r.regex.match(path)
            if not m:
                continue
            path_exists = True
            if r.method == method:
                return r, m.groupdict(), True
    return None, {}, path_exists


DEFAULT_LIMIT = 100  # SPEC documents limit 1-100 but no default


def paginate(
    items: list[dict[str, Any]],
    starting_after: str | None,
    limit: int | None,
    key: Callable[[dict[str, Any]], str] = lambda item: item["id"],
) -> dict[str, Any]:
    """`{items, next_starting_after}` over items already sorted by `key`.

    Quirk (SK-CONV): a full page carries `next_starting_after` even when it is the last page with data; the
    follow-up request then returns `{items: []}` without a cursor.
    """
    limit = limit or DEFAULT_LIMIT
    if starting_after:
        items = [item for item in items if key(item) > starting_after]
    page = items[:limit]
    out: dict[str, Any] = {"items": page}
    if len(page) == limit:
        out["next_starting_after"] = key(page[-1])
    return out
