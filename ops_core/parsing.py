"""Parsing of parameter values that the Prefect UI's form sends as text (pure)."""

from __future__ import annotations

from datetime import date, datetime

from ops_core.errors import OpsError

__all__ = ["parse_day"]


def parse_day(text: str, name: str) -> date | None:
    """`YYYY-MM-DD` as a date; "" as None.

    Raises:
        OpsError: any other text, naming the parameter.
    """
    if not text.strip():
        return None
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").date()
    except ValueError:
        raise OpsError(f"{name} {text!r} is not a date.", hint="use YYYY-MM-DD, e.g. 2026-01-31") from None
