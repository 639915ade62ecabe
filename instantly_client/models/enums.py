"""Integer status codes with human labels (SPEC ``x-enumDescriptions``).

The API may add codes (custom interest labels, new campaign states), so read models keep the raw ``int``
and these enums are used to label it: ``CampaignStatus.label_for(campaign.status)`` returns ``None`` for
an unknown code instead of raising.
"""

from __future__ import annotations

import enum
from typing import ClassVar

__all__ = ["CampaignStatus", "InterestStatus", "LabelledIntEnum", "LeadStatus", "int_code"]


def int_code(value: object) -> int | None:
    """A JSON number as an integer code (``3``, ``3.0``, ``"3"``), else ``None`` (missing, a bool, ``2.5``,
    not a number). The one reading of integer fields that the API may send as floats or strings."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


class LabelledIntEnum(enum.IntEnum):
    """An ``IntEnum`` whose members have a display label."""

    _labels: ClassVar[dict[int, str]]

    @property
    def label(self) -> str:
        return self._labels[int(self)]

    @classmethod
    def label_for(cls, value: object) -> str | None:
        """The label for ``value``, or ``None`` if it is missing or not a known code."""
        code = int_code(value)
        return None if code is None else cls._labels.get(code)


class CampaignStatus(LabelledIntEnum):
    """SPEC ``Campaign.status``."""

    DRAFT = 0
    ACTIVE = 1
    PAUSED = 2
    COMPLETED = 3
    RUNNING_SUBSEQUENCES = 4
    ACCOUNT_SUSPENDED = -99
    ACCOUNTS_UNHEALTHY = -1
    BOUNCE_PROTECT = -2


CampaignStatus._labels = {
    0: "Draft",
    1: "Active",
    2: "Paused",
    3: "Completed",
    4: "Running Subsequences",
    -99: "Account Suspended",
    -1: "Accounts Unhealthy",
    -2: "Bounce Protect",
}


class LeadStatus(LabelledIntEnum):
    """SPEC ``Lead.status`` (read-only)."""

    ACTIVE = 1
    PAUSED = 2
    COMPLETED = 3
    BOUNCED = -1
    UNSUBSCRIBED = -2
    SKIPPED = -3


LeadStatus._labels = {
    1: "Active",
    2: "Paused",
    3: "Completed",
    -1: "Bounced",
    -2: "Unsubscribed",
    -3: "Skipped",
}


class InterestStatus(LabelledIntEnum):
    """SPEC ``Lead.lt_interest_status``. Absent/``None`` means plain "Lead"; other codes are custom labels."""

    OUT_OF_OFFICE = 0
    INTERESTED = 1
    MEETING_BOOKED = 2
    MEETING_COMPLETED = 3
    WON = 4
    NOT_INTERESTED = -1
    WRONG_PERSON = -2
    LOST = -3
    NO_SHOW = -4


InterestStatus._labels = {
    0: "Out of Office",
    1: "Interested",
    2: "Meeting Booked",
    3: "Meeting Completed",
    4: "Won",
    -1: "Not Interested",
    -2: "Wrong Person",
    -3: "Lost",
    -4: "No Show",
}
