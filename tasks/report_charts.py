"""The report's charts: Vega-Lite specs built with altair, rendered to SVG by vl-convert (offline, no browser).

vl-convert embeds the Vega runtime (no network, no Node), so a chart becomes a static SVG that the HTML
report inlines: the page has no scripts and needs no internet. Vega escapes every text it draws.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import date, timedelta

import altair as alt
import vl_convert as vlc

from warehouse.report_data import DayRow, Funnel, SegmentRow

__all__ = ["daily_chart", "funnel_chart", "segment_chart", "to_svg"]

WIDTH = 720
COLOURS = {"sent": "#4e79a7", "opened": "#f28e2b", "replied": "#59a14f", "bounced": "#e15759"}
_counter = itertools.count(1)


def to_svg(chart: alt.TopLevelMixin) -> str:
    """Render a chart to an SVG string; ids are made unique so several SVGs can share one page."""
    svg = vlc.vegalite_to_svg(chart.to_json())
    prefix = f"c{next(_counter)}-"
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", svg)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}\1"', svg)


def daily_chart(days: Sequence[DayRow], title: str) -> alt.TopLevelMixin:
    """Sent per day (bars) above opened / replied / bounced per day (lines), on a UTC day axis.

    Every day of the range is a data point (zero when nothing happened), so gaps show as zeros.
    """
    sent = [{"day": d.day.isoformat(), "value": d.sent} for d in days]
    metrics = ["opened", "replied"] + (["bounced"] if days and days[0].bounced is not None else [])
    rest = [
        {"day": d.day.isoformat(), "metric": m, "value": getattr(d, m) or 0} for d in days for m in metrics
    ]
    x = _day_axis(days)
    top = (
        alt.Chart(alt.Data(values=sent), title=alt.Title(title, subtitle="Emails sent per day (UTC)"))
        .mark_bar(color=COLOURS["sent"])
        .encode(x=x, y=alt.Y("value:Q", title="sent"), tooltip=["day:N", "value:Q"])
        .properties(width=WIDTH, height=140)
    )
    colour = alt.Color(
        "metric:N",
        scale=alt.Scale(domain=metrics, range=[COLOURS[m] for m in metrics]),
        legend=alt.Legend(orient="right", title=None),
    )
    bottom = (
        alt.Chart(alt.Data(values=rest), title=alt.Title("Opened, replied, bounced per day", fontSize=12))
        .mark_line(point=alt.OverlayMarkDef(size=18))
        .encode(x=_day_axis(days, band_position=0.5), y=alt.Y("value:Q", title="leads"), color=colour)
        .properties(width=WIDTH, height=140)
    )
    chart: alt.TopLevelMixin = alt.vconcat(top, bottom).configure_view(stroke=None)
    return chart


def _day_axis(days: Sequence[DayRow], band_position: float | None = None) -> alt.X:
    """The UTC day axis both panels share: from the first day's start to the last day's end.

    Bars fill their day; `band_position=0.5` puts a line's points in the middle of the day.
    """
    domain = [_utc(days[0].day), _utc(days[-1].day + timedelta(days=1))] if days else alt.Undefined
    return alt.X(
        "utcyearmonthdate(day):T",
        title=None,
        bandPosition=alt.Undefined if band_position is None else band_position,
        scale=alt.Scale(domain=domain),
        axis=alt.Axis(format="%d %b", labelAngle=-40, labelOverlap=True),
    )


def _utc(day: date) -> alt.DateTime:
    return alt.DateTime(year=day.year, month=day.month, date=day.day, utc=True)


def funnel_chart(funnel: Funnel) -> alt.TopLevelMixin:
    """One bar per stage (leads, contacted, opened, replied, interested) with its count and share of leads."""
    stages = [(label, v) for label, v in funnel.stages() if v is not None]
    values = [
        {
            "stage": label,
            "order": i,
            "value": v,
            "label": f"{v} ({100 * v / funnel.leads:.1f}%)" if funnel.leads else str(v),
        }
        for i, (label, v) in enumerate(stages)
    ]
    y = alt.Y("stage:N", sort=alt.EncodingSortField("order"), title=None)
    base = alt.Chart(alt.Data(values=values)).encode(y=y, x=alt.X("value:Q", title="leads"))
    bars = base.mark_bar(color=COLOURS["sent"])
    text = base.mark_text(align="left", dx=4).encode(text="label:N")
    chart: alt.TopLevelMixin = (
        (bars + text).properties(width=WIDTH - 160, height=28 * len(values)).configure_view(stroke=None)
    )
    return chart


def segment_chart(segments: Sequence[SegmentRow], column: str) -> alt.TopLevelMixin:
    """Reply rate per value of a source column (bars), labelled with replies of contacted."""
    values = [
        {
            "segment": s.segment if s.segment is not None else "(empty)",
            "rate": s.reply_rate or 0.0,
            "label": f"{100 * (s.reply_rate or 0):.1f}% ({s.replied} of {s.contacted})",
        }
        for s in segments
    ]
    y = alt.Y("segment:N", sort=None, title=column)
    base = alt.Chart(alt.Data(values=values)).encode(
        y=y, x=alt.X("rate:Q", title="reply rate", axis=alt.Axis(format="%"))
    )
    bars = base.mark_bar(color=COLOURS["replied"])
    text = base.mark_text(align="left", dx=4).encode(text="label:N")
    chart: alt.TopLevelMixin = (
        (bars + text).properties(width=WIDTH - 260, height=24 * len(values)).configure_view(stroke=None)
    )
    return chart
