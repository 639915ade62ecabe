"""nearest_timezone maps IANA names onto the API's closed timezone enum by UTC offset."""

from datetime import UTC, datetime

import pytest

from instantly_client import CAMPAIGN_TIMEZONES, nearest_timezone

WINTER = datetime(2026, 1, 20, 12, tzinfo=UTC)
SUMMER = datetime(2026, 7, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize("now", [WINTER, SUMMER])
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("America/New_York", "America/Detroit"),
        ("US/Eastern", "America/Detroit"),
        ("Europe/London", "Europe/Isle_of_Man"),
        ("Europe/Berlin", "Europe/Belgrade"),
        ("Europe/Paris", "Europe/Belgrade"),
        ("America/Chicago", "America/Chicago"),
        ("Asia/Singapore", "Asia/Hong_Kong"),
    ],
)
def test_maps_common_zones_to_a_member_with_the_same_offset_and_continent(name, expected, now):
    assert nearest_timezone(name, now=now) == expected


def test_every_member_maps_to_itself():
    for zone in CAMPAIGN_TIMEZONES:
        assert nearest_timezone(zone) == zone


@pytest.mark.parametrize("name", ["Not/AZone", "", "../etc/passwd"])
def test_unknown_names_give_none(name):
    assert nearest_timezone(name) is None


def test_a_zone_without_an_exact_offset_match_gets_the_closest_offset():
    # US Pacific in winter is UTC-8; no member has that offset, so the result is 1 hour away.
    result = nearest_timezone("America/Los_Angeles", now=WINTER)
    assert result is not None and result.startswith("America/")
    from zoneinfo import ZoneInfo

    offset = WINTER.astimezone(ZoneInfo(result)).utcoffset()
    assert offset is not None and abs(offset.total_seconds() / 3600 - -8) == 1
