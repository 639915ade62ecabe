"""One cursor iterator for every list endpoint.

Instantly lists return ``{items, next_starting_after?}``. The cursor goes in the query string for GET
lists and in the JSON body for ``POST /leads/list``. Treat it as opaque and stop when:

* the page is empty (a last page can still carry a cursor; SK-CONV),
* the cursor is missing, or
* the cursor did not advance (the server returned the one we sent), which would loop forever.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

__all__ = ["MAX_PAGE_LIMIT", "Page", "iter_pages", "next_cursor", "parse_page"]

T = TypeVar("T")

MAX_PAGE_LIMIT = 100  # SPEC list endpoints: limit 1..100

Send = Callable[[str, str, Mapping[str, Any] | None, Mapping[str, Any] | None], Any]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list endpoint.

    ``next_starting_after`` is the cursor the server returned (``None`` if absent). Store it as a
    checkpoint: passing it back as ``starting_after`` resumes after this page.
    """

    items: list[T]
    next_starting_after: str | None


def next_cursor(*, item_count: int, returned: str | None, sent: str | None) -> str | None:
    """The cursor to request next, or ``None`` to stop (pure)."""
    if item_count == 0:
        return None
    if not returned:
        return None
    if returned == sent:
        return None
    return returned


def parse_page(payload: Any) -> tuple[list[Any], str | None]:
    """Split a list response into raw items and the returned cursor; tolerant of odd shapes."""
    if isinstance(payload, list):  # a bare array: a single, final page
        return payload, None
    if not isinstance(payload, Mapping):
        return [], None
    items = payload.get("items")
    cursor = payload.get("next_starting_after")
    return (list(items) if isinstance(items, list) else []), (str(cursor) if cursor else None)


def iter_pages(
    send: Send,
    method: str,
    path: str,
    *,
    parse_item: Callable[[Any], T],
    cursor_in: Literal["query", "body"],
    filters: Mapping[str, Any] | None = None,
    limit: int = MAX_PAGE_LIMIT,
    starting_after: str | None = None,
) -> Iterator[Page[T]]:
    """Yield non-empty pages until :func:`next_cursor` says stop.

    Args:
        send: ``send(method, path, params, json)`` performing one request and returning parsed JSON.
        method: HTTP method (``GET`` for most lists, ``POST`` for ``/leads/list``).
        path: endpoint path.
        parse_item: turns one raw item into a model.
        cursor_in: where ``limit`` and ``starting_after`` go: ``"query"`` or ``"body"``.
        filters: other query parameters or body fields; ``None`` values are dropped.
        limit: page size, 1-100.
        starting_after: cursor to resume from (a previous page's ``next_starting_after``).
    """
    base = {k: v for k, v in (filters or {}).items() if v is not None}
    cursor = starting_after
    while True:
        fields = dict(base, limit=limit)
        if cursor is not None:
            fields["starting_after"] = cursor
        if cursor_in == "body":
            payload = send(method, path, None, fields)
        else:
            payload = send(method, path, fields, None)
        raw_items, returned = parse_page(payload)
        if raw_items:
            yield Page(items=[parse_item(item) for item in raw_items], next_starting_after=returned)
        following = next_cursor(item_count=len(raw_items), returned=returned, sent=cursor)
        if following is None:
            return
        cursor = following
