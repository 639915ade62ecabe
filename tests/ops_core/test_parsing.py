"""Dates that the Prefect UI's form sends as text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ops_core.errors import OpsError
from ops_core.parsing import parse_day


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2026-01-31", date(2026, 1, 31)), (" 2026-02-01 ", date(2026, 2, 1)), ("", None), ("  ", None)],
)
def test_a_day_is_yyyy_mm_dd_and_blank_is_none(text: str, expected: date | None) -> None:
    assert parse_day(text, "since") == expected


@pytest.mark.parametrize("text", ["31/01/2026", "2026-02-30", "yesterday"])
def test_other_text_is_one_line_naming_the_parameter(text: str) -> None:
    with pytest.raises(OpsError, match=f"since '{text}' is not a date"):
        parse_day(text, "since")


def test_a_day_after_tomorrow_is_refused_naming_the_parameter() -> None:
    today = datetime.now(UTC).date()
    assert parse_day((today + timedelta(days=1)).isoformat(), "since") == today + timedelta(days=1)
    with pytest.raises(OpsError, match="since 3000-01-01 is in the future"):
        parse_day("3000-01-01", "since")
    with pytest.raises(OpsError, match="is in the future"):
        parse_day((today + timedelta(days=2)).isoformat(), "since")
