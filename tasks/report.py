"""The campaign report: one self-contained HTML file (charts as inline SVG, no scripts, no network), and the
same headline numbers as markdown and tables for Prefect artifacts.

The numbers come from `warehouse/report_data.py` (which names each source), the charts from
`tasks/report_charts.py` (altair + vl-convert). Every value that comes from a lead or a campaign (names,
subjects, source-column values) is HTML-escaped here, and Vega escapes what it draws.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from ops_core.text import counted
from tasks.report_charts import daily_chart, funnel_chart, segment_chart, to_svg
from warehouse.db import Warehouse
from warehouse.report_data import (
    CampaignReport,
    DayRow,
    Funnel,
    Headline,
    Report,
    read_report,
    read_reports,
)

__all__ = [
    "CampaignReport",
    "DayRow",
    "Funnel",
    "Report",
    "collect_report",
    "read_report",
    "read_reports",
    "render_html",
    "render_markdown",
    "report_tables",
    "write_report",
]

CONTACTED_NOTE = (
    "Contacted = distinct leads sent a first email (Instantly's new_leads_contacted_count); every rate is "
    "over it. Instantly's own contacted_count can count sends per step rather than distinct leads (it then "
    "grows with each follow-up), so it is shown apart and never used as a denominator."
)


@task(name="collect-report", cache_policy=NO_CACHE)
def collect_report(warehouse: Warehouse, campaigns: list[str] | None = None, by: str | None = None) -> Report:
    """Read the report's numbers from the warehouse (a read-only connection, held for a moment).

    Args:
        warehouse: the warehouse.
        campaigns: campaign ids or names (all when empty).
        by: a source column for the reply-rate breakdown (e.g. "Industry"); none when None.

    Raises:
        OpsError: no warehouse file, a named campaign is not in it, or no source table has the column.
    """
    with warehouse.connect(read_only=True) as con:
        return read_report(con, campaigns, by=by)


# -- formatting ---------------------------------------------------------------------------------------------


def pct(value: float | None, digits: int = 1) -> str:
    """0.1234 -> "12.3%"; None -> "n/a"."""
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def _num(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    cls: str = "",
    row_classes: Sequence[str] | None = None,
    text_columns: Sequence[int] = (0,),
) -> str:
    """An HTML table; `rows` hold cells that are already HTML (escape values before), headers are text.

    Columns in `text_columns` are left-aligned, the others (numbers) right-aligned.
    """
    head = "".join(
        f"<th class='text'>{_e(h)}</th>" if i in text_columns else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for i, row in enumerate(rows):
        row_cls = row_classes[i] if row_classes else ""
        attr = f" class='{row_cls}'" if row_cls else ""
        cells = "".join(
            f"<td class='text'>{cell}</td>" if j in text_columns else f"<td>{cell}</td>"
            for j, cell in enumerate(row)
        )
        body.append(f"<tr{attr}>{cells}</tr>")
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


HEADLINE_COLUMNS = (
    "Leads",
    "Contacted (leads)",
    "Emails sent",
    "Open rate",
    "Reply rate",
    "Positive reply rate",
    "Bounce rate",
    "Instantly contacted_count",
)


def _headline_cells(h: Headline | None) -> list[str]:
    if h is None:
        return ["n/a"] * len(HEADLINE_COLUMNS)
    return [
        _num(h.leads),
        _num(h.leads_contacted),
        _num(h.emails_sent),
        pct(h.open_rate),
        pct(h.reply_rate),
        pct(h.positive_reply_rate),
        pct(h.bounce_rate),
        _num(h.contacted_count),
    ]


def _range_text(report: Report) -> str:
    if report.start is None or report.end is None:
        return "no activity yet"
    return f"{report.start} to {report.end} (UTC days, {len(report.days)} days)"


# -- HTML ---------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;color:#222;max-width:1000px;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.5rem;border-top:2px solid #ddd;padding-top:1rem}
h3{font-size:1rem;margin:1.6rem 0 .4rem}.muted{color:#666;font-size:.85rem}
table{border-collapse:collapse;font-size:.88rem;margin:.4rem 0}
td,th{padding:.25rem .6rem;text-align:right;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f6f6f6}.text{text-align:left}
.cards{display:flex;gap:.8rem;flex-wrap:wrap;margin:.6rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.5rem .9rem;min-width:8.5rem}
.card b{display:block;font-size:1.4rem}.card span{color:#666;font-size:.8rem}
.winner{background:#e8f5e9;font-weight:600}.badge{background:#2e7d32;color:#fff;border-radius:3px;padding:0 .35rem;font-size:.75rem}
details{margin:.4rem 0}summary{cursor:pointer;color:#444}
"""


def _cards(h: Headline | None) -> str:
    if h is None:
        return (
            "<p class='muted'>No analytics for this campaign yet: it has not sent, or it was not synced.</p>"
        )
    cards = [
        ("Contacted (leads)", _num(h.leads_contacted)),
        ("Open rate", pct(h.open_rate)),
        ("Reply rate", pct(h.reply_rate)),
        ("Positive reply rate", pct(h.positive_reply_rate)),
        ("Bounce rate", pct(h.bounce_rate)),
    ]
    inner = "".join(
        f"<div class='card'><b>{value}</b><span>{_e(label)}</span></div>" for label, value in cards
    )
    return f"<div class='cards'>{inner}</div><p class='muted'>Source: {_e(h.source)}.</p>"


def _daily_html(r: CampaignReport) -> str:
    if not r.days:  # not one day of analytics: no empty chart (an axis of "0"), no "0 days" table
        return "<h3>Per day</h3><p class='muted'>No daily analytics for this campaign yet.</p>"
    parts = ["<h3>Per day</h3>", to_svg(daily_chart(r.days, f"Daily activity: {r.name}"))]
    parts.append(
        "<p class='muted'>Sent, opened (unique) and replied (unique) per day: "
        "instantly.campaign_daily_analytics; days without a row are zero. Bounced: "
        + _e(r.bounced_source or "not available (no leads pulled)")
        + ".</p>"
    )
    rows = [(str(d.day), _num(d.sent), _num(d.opened), _num(d.replied), _num(d.bounced)) for d in r.days]
    table = _table(["Day", "Sent", "Opened", "Replied", "Bounced"], rows, cls="daily")
    parts.append(
        f"<details><summary>Every day's numbers ({counted(len(rows), 'day')})</summary>{table}</details>"
    )
    return "".join(parts)


def _funnel_html(funnel: Funnel | None) -> str:
    if funnel is None:
        return "<h3>Funnel</h3><p class='muted'>No leads or analytics for this campaign in the warehouse.</p>"
    note = "" if funnel.interested is not None else " The snapshot has no interested count."
    return (
        "<h3>Funnel (distinct leads)</h3>"
        + to_svg(funnel_chart(funnel))
        + f"<p class='muted'>Source: {_e(funnel.source)}; percentages are of all leads.{note}</p>"
    )


def _steps_html(r: CampaignReport) -> str:
    if not r.steps:
        return "<h3>Steps and variants</h3><p class='muted'>No step analytics yet (run a sync).</p>"
    steps = [
        (f"Step {s.step}" if s.step else "undetermined", _num(s.variants), _num(s.sent), _num(s.replied),
         pct(s.open_rate), pct(s.reply_rate), pct(s.positive_reply_rate))
        for s in r.steps
    ]  # fmt: skip
    parts = [
        "<h3>Steps</h3>",
        _table(
            ["Step", "Variants", "Sent", "Replied", "Open rate", "Reply rate", "Positive reply rate"], steps
        ),
    ]
    rows = []
    for v in r.variants:
        mark = " <span class='badge'>winner</span>" if v.is_winner else ""
        cells = (
            f"Step {v.step}" if v.step else "undetermined",
            _e(v.label or "?") + mark,
            f"<span>{_e(v.subject)}</span>",
            _num(v.sent),
            _num(v.replied),
            pct(v.open_rate),
            pct(v.reply_rate),
            pct(v.positive_reply_rate),
        )
        rows.append(cells)
    headers = [
        "Step",
        "Variant",
        "Subject",
        "Sent",
        "Replied",
        "Open rate",
        "Reply rate",
        "Positive reply rate",
    ]
    winners = ["winner" if v.is_winner else "" for v in r.variants]
    table = _table(headers, rows, cls="variants", row_classes=winners, text_columns=(0, 1, 2))
    parts += [
        "<h3>Variants (A/B)</h3>",
        table,
        "<p class='muted'>Source: ops.step_rates and ops.variant_rates (instantly.campaign_step_analytics, "
        "all-time). Rates are over the emails the step sent (one per lead). The winner of a step with two "
        "or more variants has the best reply rate, then open rate; no significance test is made.</p>",
    ]
    return "".join(parts)


def _segments_html(r: CampaignReport, by: str | None) -> str:
    if not by:
        return ""
    if not r.segments:
        return (
            f"<h3>Reply rate by {_e(by)}</h3><p class='muted'>No lead of this campaign comes from a source "
            "table with that column.</p>"
        )
    rows = [
        (f"<span>{_e(s.segment if s.segment is not None else '(empty)')}</span>", _num(s.rows), _num(s.contacted),
         _num(s.replied), pct(s.reply_rate), pct(s.positive_reply_rate))
        for s in r.segments
    ]  # fmt: skip
    return (
        f"<h3>Reply rate by {_e(by)}</h3>"
        + to_svg(segment_chart(r.segments, by))
        + _table(
            [by, "Rows", "Contacted", "Replied", "Reply rate", "Positive reply rate"], rows, cls="segments"
        )
        + f"<p class='muted'>Source: {_e(r.segment_source)}; rates are over the rows contacted. The leads as "
        "last synced, with the webhook events received since: fresher than the headline's campaign analytics, "
        "so their totals can be higher.</p>"
    )


def render_html(report: Report, *, generated_at: datetime | None = None) -> str:
    """The whole report as one HTML page (no scripts, no network): headline rates for the date range, then per
    campaign the daily chart, the funnel, step and variant tables and the source-column breakdown."""
    stamp = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Instantly campaign report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Instantly campaign report</h1>",
        f"<p class='range'><b>{_e(_range_text(report))}</b></p>",
        f"<p class='muted'>Generated {stamp} from the warehouse.</p>",
    ]
    if not report.campaigns:
        parts.append("<p>No campaigns in the warehouse yet: run <code>ops-instantly sync</code> first.</p>")
    else:
        rows = [
            [f"<span>{_e(r.name)}</span>", _e(r.status_label or ""), *_headline_cells(r.headline)]
            for r in report.campaigns
        ]
        if report.total is not None:
            rows.append(["<b>All campaigns</b>", "", *_headline_cells(report.total)])
        parts += [
            "<h2 style='border:0;margin-top:1rem'>Headline</h2>",
            _table(["Campaign", "Status", *HEADLINE_COLUMNS], rows, cls="headline", text_columns=(0, 1)),
            f"<p class='muted'>{_e(CONTACTED_NOTE)} Totals are all-time, as of each campaign's latest "
            "analytics snapshot; positive = Interested, Meeting Booked, Meeting Completed or Won.</p>",
        ]
    for r in report.campaigns:
        status = f" ({_e(r.status_label)})" if r.status_label else ""
        parts += [
            f"<section><h2>{_e(r.name)}{status}</h2>",
            f"<p class='muted'>Campaign id {_e(r.id)}</p>",
            _cards(r.headline),
            _daily_html(r),
            _funnel_html(r.funnel),
            _steps_html(r),
            _segments_html(r, report.by),
            "</section>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


# -- markdown and table artifacts -----------------------------------------------------------------------------


def _cell(value: object) -> str:
    """Text for a markdown table cell: markup, pipes and line breaks made harmless."""
    return html.escape(" ".join(str(value).split())).replace("|", "&#124;")


def render_markdown(report: Report, out: str | None = None) -> str:
    """The headline numbers and rates per campaign, with the date range (the Prefect markdown artifact)."""
    lines = ["# Campaign report", "", f"Range: {_range_text(report)}.", ""]
    if out:
        lines += [f"HTML report written to `{_cell(out)}` on the machine that ran the flow.", ""]
    lines += [
        "| Campaign | Status | " + " | ".join(HEADLINE_COLUMNS) + " |",
        "|---|---|" + "---:|" * len(HEADLINE_COLUMNS),
    ]
    rows = [(r.name, r.status_label or "", r.headline) for r in report.campaigns]
    if report.total is not None:
        rows.append(("**All campaigns**", "", report.total))
    for name, status, headline in rows:
        cells = " | ".join(_headline_cells(headline))
        shown = name if name.startswith("**") else _cell(name)
        lines.append(f"| {shown} | {_cell(status)} | {cells} |")
    lines += ["", CONTACTED_NOTE]
    winners = [(r, v) for r in report.campaigns for v in r.variants if v.is_winner]
    if winners:
        lines += ["", "Winning variants (best reply rate of their step):", ""]
        for r, v in winners:
            lines.append(
                f"- {_cell(r.name)}, step {v.step}: variant {v.label} "
                f"({pct(v.reply_rate)} reply rate over {v.sent} sent) \u201c{_cell(v.subject or '')}\u201d"
            )
    return "\n".join(lines) + "\n"


def report_tables(report: Report) -> dict[str, list[dict[str, Any]]]:
    """The key tables as rows for Prefect table artifacts: headline, variants, and segments when chosen."""
    headline = [
        {"campaign": r.name, "status": r.status_label or "",
         **dict(zip(HEADLINE_COLUMNS, _headline_cells(r.headline), strict=True))}
        for r in report.campaigns
    ]  # fmt: skip
    variants = [
        {"campaign": r.name, "step": v.step, "variant": v.label or "", "subject": v.subject or "",
         "sent": v.sent, "replied": v.replied, "open rate": pct(v.open_rate), "reply rate": pct(v.reply_rate),
         "winner": "yes" if v.is_winner else ""}
        for r in report.campaigns for v in r.variants
    ]  # fmt: skip
    tables: dict[str, list[dict[str, Any]]] = {"headline": headline, "variants": variants}
    if report.by:
        tables["segments"] = [
            {"campaign": r.name, report.by: s.segment if s.segment is not None else "(empty)",
             "contacted": s.contacted, "replied": s.replied, "reply rate": pct(s.reply_rate)}
            for r in report.campaigns for s in r.segments or []
        ]  # fmt: skip
    return tables


def write_report(text: str, out: str | Path) -> Path:
    """Write the HTML file (creating its folder) and return its path."""
    path = Path(out).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
