"""Shared plumbing for resources: request helper, body validation, id quoting, date formatting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

import pydantic

from .._pagination import MAX_PAGE_LIMIT, Page, iter_pages
from .._ratelimit import Limiter
from ..errors import ValidationError
from ..models._base import ReadModel, WriteModel

if TYPE_CHECKING:
    from .._client import InstantlyClient

M = TypeVar("M", bound=ReadModel)
W = TypeVar("W", bound=WriteModel)

DateLike = dt.date | dt.datetime | str


def path_id(value: str) -> str:
    """Quote an id for use as one path segment (so an id can never change the path)."""
    if not isinstance(value, str) or not value:
        raise ValidationError(f"expected a non-empty id string, got {value!r}")
    return quote(value, safe="")


def date_param(value: DateLike | None) -> str | None:
    """``YYYY-MM-DD`` or an ISO 8601 timestamp, as the analytics endpoints accept."""
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def pydantic_message(exc: pydantic.ValidationError) -> str:
    """One line listing each problem as ``field: message``."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def to_body(model: type[W], value: W | Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """Validate ``value`` against the strict write model and return the JSON body."""
    if isinstance(value, model):
        return value.to_body()
    if isinstance(value, WriteModel):
        raise ValidationError(f"{what} expects {model.__name__} or a dict, got {type(value).__name__}")
    try:
        return model.model_validate(value).to_body()
    except pydantic.ValidationError as exc:
        raise ValidationError(f"invalid {what}: {pydantic_message(exc)}") from exc


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE_LIMIT}, got {limit}")
    return limit


class Resource:
    """Base of ``client.<resource>``: a thin layer of verb methods over ``client._send``."""

    def __init__(self, client: InstantlyClient) -> None:
        self._client = client

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        limiter: Limiter | None = None,
        content: bytes | None = None,
        raw: bool = False,
    ) -> Any:
        """The parsed JSON of a successful answer (None when empty); with `raw`, its bytes unparsed."""
        return self._client._send(
            method,
            path,
            params=params,
            json=json,
            idempotent=idempotent,
            extra_limiter=limiter,
            content=content,
            raw=raw,
        )

    def _pages(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        cursor_in: Literal["query", "body"],
        filters: Mapping[str, Any],
        limit: int,
        starting_after: str | None,
        limiter: Limiter | None = None,
    ) -> Iterator[Page[M]]:
        check_limit(limit)

        def send(m: str, p: str, params: Mapping[str, Any] | None, body: Mapping[str, Any] | None) -> Any:
            # List calls are reads, even POST /leads/list: safe to retry.
            return self._request(m, p, params=params, json=body, idempotent=True, limiter=limiter)

        return iter_pages(
            send,
            method,
            path,
            parse_item=model.model_validate,
            cursor_in=cursor_in,
            filters=filters,
            limit=limit,
            starting_after=starting_after,
        )

    @staticmethod
    def _items(pages: Iterator[Page[M]]) -> Iterator[M]:
        for page in pages:
            yield from page.items

    @staticmethod
    def _parse_list(payload: Any, model: type[M]) -> list[M]:
        """A bare-array response (analytics); tolerates ``{items: [...]}`` too."""
        if isinstance(payload, Mapping):
            payload = payload.get("items", [])
        if not isinstance(payload, list):
            return []
        return [model.model_validate(item) for item in payload]
