"""``client.accounts``: SPEC ``GET /api/v2/accounts``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._pagination import Page
from ..models.account import Account
from ._base import Resource

__all__ = ["Accounts"]


class Accounts(Resource):
    """Sending accounts."""

    def pages(
        self,
        *,
        search: str | None = None,
        status: int | None = None,
        provider_code: int | None = None,
        tag_ids: str | None = None,
        limit: int = 100,
        starting_after: str | None = None,
        **more_filters: Any,
    ) -> Iterator[Page[Account]]:
        """Pages of ``GET /accounts``. The cursor is ``timestamp_created&email``-shaped: keep it opaque.

        Args:
            search: match on email.
            status: account status code.
            provider_code: 1 IMAP, 2 Google, 3 Microsoft, ...
            tag_ids: comma-separated tag ids.
            limit: page size, 1-100.
            starting_after: resume after this cursor.
            **more_filters: other query parameters (``filter``, ``include_tags``, ``sort_by``, ...).
        """
        filters = {
            "search": search,
            "status": status,
            "provider_code": provider_code,
            "tag_ids": tag_ids,
            **more_filters,
        }
        return self._pages(
            "GET",
            "/accounts",
            Account,
            cursor_in="query",
            filters=filters,
            limit=limit,
            starting_after=starting_after,
        )

    def list(self, **filters: Any) -> Iterator[Account]:
        """Every account matching the filters; same keyword arguments as :meth:`pages`."""
        return self._items(self.pages(**filters))
