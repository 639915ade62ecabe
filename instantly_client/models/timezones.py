"""Campaign schedule timezones: the closed enum the API accepts, and a mapper onto it.

``campaign_schedule.schedules[].timezone`` is a closed enum of 102 zones that leaves out common names
such as ``America/New_York``, ``Europe/London`` and ``UTC`` (notes C7). :func:`nearest_timezone` maps any
IANA name onto a member with the same UTC offset, preferring the same continent and DST behaviour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CAMPAIGN_TIMEZONES", "nearest_timezone"]

# SPEC POST /api/v2/campaigns requestBody campaign_schedule.schedules[].timezone enum (102 values,
# copied from instantly_sandbox/spec/instantly-openapi-v2.json; never read at run time).
CAMPAIGN_TIMEZONES: tuple[str, ...] = (
    "Etc/GMT+12",
    "Etc/GMT+11",
    "Etc/GMT+10",
    "America/Anchorage",
    "America/Dawson",
    "America/Creston",
    "America/Chihuahua",
    "America/Boise",
    "America/Belize",
    "America/Chicago",
    "America/Bahia_Banderas",
    "America/Regina",
    "America/Bogota",
    "America/Detroit",
    "America/Indiana/Marengo",
    "America/Caracas",
    "America/Asuncion",
    "America/Glace_Bay",
    "America/Campo_Grande",
    "America/Anguilla",
    "America/Santiago",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Argentina/La_Rioja",
    "America/Araguaina",
    "America/Godthab",
    "America/Montevideo",
    "America/Bahia",
    "America/Noronha",
    "America/Scoresbysund",
    "Atlantic/Cape_Verde",
    "Africa/Casablanca",
    "America/Danmarkshavn",
    "Europe/Isle_of_Man",
    "Atlantic/Canary",
    "Africa/Abidjan",
    "Arctic/Longyearbyen",
    "Europe/Belgrade",
    "Africa/Ceuta",
    "Europe/Sarajevo",
    "Africa/Algiers",
    "Africa/Windhoek",
    "Asia/Nicosia",
    "Asia/Beirut",
    "Africa/Cairo",
    "Asia/Damascus",
    "Europe/Bucharest",
    "Africa/Blantyre",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Asia/Jerusalem",
    "Africa/Tripoli",
    "Asia/Amman",
    "Asia/Baghdad",
    "Europe/Kaliningrad",
    "Asia/Aden",
    "Africa/Addis_Ababa",
    "Europe/Kirov",
    "Europe/Astrakhan",
    "Asia/Tehran",
    "Asia/Dubai",
    "Asia/Baku",
    "Indian/Mahe",
    "Asia/Tbilisi",
    "Asia/Yerevan",
    "Asia/Kabul",
    "Antarctica/Mawson",
    "Asia/Yekaterinburg",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Colombo",
    "Asia/Kathmandu",
    "Antarctica/Vostok",
    "Asia/Dhaka",
    "Asia/Rangoon",
    "Antarctica/Davis",
    "Asia/Novokuznetsk",
    "Asia/Hong_Kong",
    "Asia/Krasnoyarsk",
    "Asia/Brunei",
    "Australia/Perth",
    "Asia/Taipei",
    "Asia/Choibalsan",
    "Asia/Irkutsk",
    "Asia/Dili",
    "Asia/Pyongyang",
    "Australia/Adelaide",
    "Australia/Darwin",
    "Australia/Brisbane",
    "Australia/Melbourne",
    "Antarctica/DumontDUrville",
    "Australia/Currie",
    "Asia/Chita",
    "Antarctica/Macquarie",
    "Asia/Sakhalin",
    "Pacific/Auckland",
    "Etc/GMT-12",
    "Pacific/Fiji",
    "Asia/Anadyr",
    "Asia/Kamchatka",
    "Etc/GMT-13",
    "Pacific/Apia",
)


def _offset_minutes(zone: ZoneInfo, when: datetime) -> int:
    offset = when.astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def nearest_timezone(name: str, *, now: datetime | None = None) -> str | None:
    """Map an IANA timezone name onto the closest member of :data:`CAMPAIGN_TIMEZONES`.

    Members are ranked by: difference of the UTC offset at ``now``; same continent prefix
    (``Europe/...``); difference of the offsets in January and July (same DST behaviour); order in the
    enum. ``America/New_York`` gives ``America/Detroit`` and ``Europe/London`` ``Europe/Isle_of_Man``.

    Args:
        name: an IANA zone name, e.g. ``"America/New_York"``.
        now: the moment whose offset counts (default: the current time); pass it for reproducible results.

    Returns:
        ``name`` itself when the API accepts it, the closest member otherwise, or ``None`` when ``name`` is
        not a known timezone.
    """
    if name in CAMPAIGN_TIMEZONES:
        return name
    source = _zone(name)
    if source is None:
        return None
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    january = datetime(moment.year, 1, 15, 12, tzinfo=UTC)
    july = datetime(moment.year, 7, 15, 12, tzinfo=UTC)
    target = (
        _offset_minutes(source, moment),
        _offset_minutes(source, january),
        _offset_minutes(source, july),
    )
    continent = name.split("/", 1)[0]

    best: tuple[int, bool, int, int] | None = None
    best_name: str | None = None
    for index, candidate in enumerate(CAMPAIGN_TIMEZONES):
        zone = _zone(candidate)
        if zone is None:
            continue
        now_off = _offset_minutes(zone, moment)
        seasonal = abs(_offset_minutes(zone, january) - target[1]) + abs(
            _offset_minutes(zone, july) - target[2]
        )
        key = (abs(now_off - target[0]), candidate.split("/", 1)[0] != continent, seasonal, index)
        if best is None or key < best:
            best, best_name = key, candidate
    return best_name
