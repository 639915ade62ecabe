"""The campaign report's rows: plain frozen dataclasses, and the one rule for a rate (part / whole).

Read by `warehouse/report_data.py` (and `warehouse/report_segments.py` for the breakdown by a source column),
drawn by `tasks/report.py` and `tasks/report_charts.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

__all__ = [
    "CampaignReport",
    "DayRow",
    "Funnel",
    "Headline",
    "Report",
    "SegmentRow",
    "StepRow",
    "VariantRow",
    "rate",
]


def rate(part: int | None, whole: int | None) -> float | None:
    """part / whole, None when either is unknown or whole is 0."""
    return None if part is None or not whole else part / whole


@dataclass(frozen=True)
class DayRow:
    day: date
    sent: int = 0
    opened: int = 0
    replied: int = 0
    bounced: int | None = None


@dataclass(frozen=True)
class Funnel:
    leads: int
    contacted: int
    opened: int
    replied: int
    interested: int | None
    source: str

    def stages(self) -> list[tuple[str, int | None]]:
        return [
            ("Leads", self.leads),
            ("Contacted", self.contacted),
            ("Opened", self.opened),
            ("Replied", self.replied),
            ("Interested", self.interested),
        ]


@dataclass(frozen=True)
class Headline:
    """Totals and rates of one campaign (or of all), as of `as_of`.

    `leads_contacted` is distinct leads sent a first email; `contacted_count` is Instantly's field of that
    name (sends per step), kept to show the difference.
    """

    leads: int | None
    leads_contacted: int
    emails_sent: int
    opened: int
    replied: int
    positive: int | None
    bounced: int
    contacted_count: int | None
    as_of: date | None
    source: str

    @property
    def open_rate(self) -> float | None:
        return rate(self.opened, self.leads_contacted)

    @property
    def reply_rate(self) -> float | None:
        return rate(self.replied, self.leads_contacted)

    @property
    def positive_reply_rate(self) -> float | None:
        return rate(self.positive, self.leads_contacted)

    @property
    def bounce_rate(self) -> float | None:
        return rate(self.bounced, self.leads_contacted)


@dataclass(frozen=True)
class StepRow:
    step: int
    variants: int
    sent: int
    opened: int
    replied: int
    positive: int

    @property
    def open_rate(self) -> float | None:
        return rate(self.opened, self.sent)

    @property
    def reply_rate(self) -> float | None:
        return rate(self.replied, self.sent)

    @property
    def positive_reply_rate(self) -> float | None:
        return rate(self.positive, self.sent)


@dataclass(frozen=True)
class VariantRow(StepRow):
    variant: int = 0
    label: str | None = None
    subject: str | None = None
    is_winner: bool = False


@dataclass(frozen=True)
class SegmentRow:
    segment: str | None
    rows: int
    contacted: int
    replied: int
    positive: int

    @property
    def reply_rate(self) -> float | None:
        return rate(self.replied, self.contacted)

    @property
    def positive_reply_rate(self) -> float | None:
        return rate(self.positive, self.contacted)


@dataclass(frozen=True)
class CampaignReport:
    id: str
    name: str
    status_label: str | None
    days: list[DayRow] = field(default_factory=list)
    funnel: Funnel | None = None
    bounced_source: str | None = None
    headline: Headline | None = None
    steps: list[StepRow] = field(default_factory=list)
    variants: list[VariantRow] = field(default_factory=list)
    segments: list[SegmentRow] | None = None
    segment_source: str | None = None


@dataclass(frozen=True)
class Report:
    """The whole report: its date range (every day in it), the chosen source column, each campaign."""

    start: date | None
    end: date | None
    by: str | None
    campaigns: list[CampaignReport]
    total: Headline | None = None

    @property
    def days(self) -> list[date]:
        if self.start is None or self.end is None:
            return []
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]
