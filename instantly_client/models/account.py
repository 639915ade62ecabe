"""Sending accounts (SPEC ``GET /accounts``)."""

from __future__ import annotations

from typing import Any

from ._base import ReadModel

__all__ = ["Account"]


class Account(ReadModel):
    """A sending email account."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    status: int | None = None
    status_message: Any = None
    provider_code: int | None = None
    warmup_status: int | None = None
    stat_warmup_score: float | None = None
    daily_limit: float | None = None
    sending_gap: float | None = None
    setup_pending: bool | None = None
    is_managed_account: bool | None = None
    tracking_domain_name: str | None = None
    tags: list[dict[str, Any]] | None = None
    timestamp_created: str | None = None
    timestamp_updated: str | None = None
