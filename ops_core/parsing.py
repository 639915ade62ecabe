"""Parsing of parameter values that the Prefect UI's form sends as text (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from ops_core.errors import OpsError

__all__ = ["parse_day"]


def parse_day(text: str, name: str) -> date | None:
    """`YYYY-MM-DD` as a date, no later than tomorrow (UTC); "" as None.

    Every day parameter says where a pull starts ("from this day on"): a day after tomorrow (UTC, so any
    time zone's today passes) would pull nothing and look like a sync that found no activity.

    Raises:
        OpsError: any other text, or a later day, naming the parameter.
    """
    if not text.strip():
        return None
    try:
        day = datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise OpsError(f"{name} {text!r} is not a date.", hint="use YYYY-MM-DD, e.g. 2026-01-31") from None
    latest = datetime.now(UTC).date() + timedelta(days=1)
    if day > latest:
        raise OpsError(
            f"{name} {text.strip()} is in the future: nothing would be pulled.",
            hint=f"use a past day (YYYY-MM-DD, {latest.isoformat()} at the latest)",
        )
    return day
