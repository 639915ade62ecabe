"""The campaign report: numbers from the warehouse, rendered as one self-contained HTML file (inline SVG, no
scripts, no network) and as markdown for a Prefect artifact.

Sources (named in the report itself):
- daily sent / opened / replied: `instantly.campaign_daily_analytics` (`sent`, `unique_opened`,
  `unique_replies`);
- daily bounced: the API has no daily bounce count, so it is the leads now marked Bounced
  (`instantly.leads.status = -1`) counted on the day they were last contacted: an approximation, labelled so;
- funnel: `instantly.leads`, one row per lead (contacted = has a last-contact time, opened / replied = open /
  reply count > 0, interested = Interested, Meeting Booked, Meeting Completed or Won); when no leads were
  pulled for a campaign, the latest `instantly.campaign_analytics` snapshot (it has no interested count).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

from ops_instantly.errors import OpsError
from warehouse.db import Warehouse

__all__ = [
    "CampaignReport",
    "DayRow",
    "Funnel",
    "collect_report",
    "read_reports",
    "render_html",
    "render_markdown",
    "write_report",
]

# SPEC Lead.lt_interest_status: 1 Interested, 2 Meeting Booked, 3 Meeting Completed, 4 Won.
POSITIVE_INTEREST = (1, 2, 3, 4)
SERIES = (("sent", "#4e79a7"), ("opened", "#f28e2b"), ("replied", "#59a14f"), ("bounced", "#e15759"))


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
class CampaignReport:
    id: str
    name: str
    status_label: str | None
    days: list[DayRow] = field(default_factory=list)
    funnel: Funnel | None = None
    bounced_source: str | None = None


# -- reading ------------------------------------------------------------------------------------------------


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'instantly'"
    ).fetchall()
    return {r[0] for r in rows}


def _campaign_list(con: duckdb.DuckDBPyConnection, tables: set[str]) -> list[tuple[str, str, str | None]]:
    """(id, name, status label) of every campaign the warehouse knows, by name."""
    found: dict[str, tuple[str, str | None]] = {}
    if "campaigns" in tables:
        for cid, name, label in con.execute(
            "SELECT id, name, status_label FROM instantly.campaigns"
        ).fetchall():
            found[cid] = (name or cid, label)
    for table in ("campaign_daily_analytics", "campaign_analytics", "leads"):
        if table in tables:
            for (cid,) in con.execute(
                f"SELECT DISTINCT campaign_id FROM instantly.{table} WHERE campaign_id IS NOT NULL"
            ).fetchall():
                found.setdefault(cid, (cid, None))
    return sorted(((cid, n, s) for cid, (n, s) in found.items()), key=lambda r: (r[1].lower(), r[0]))


def _days(con: duckdb.DuckDBPyConnection, tables: set[str], cid: str) -> tuple[list[DayRow], str | None]:
    counts: dict[date, dict[str, int]] = {}
    if "campaign_daily_analytics" in tables:
        for day, sent, opened, replied in con.execute(
            "SELECT date, coalesce(sent, 0), coalesce(unique_opened, opened, 0),"
            " coalesce(unique_replies, replies, 0) FROM instantly.campaign_daily_analytics"
            " WHERE campaign_id = ? ORDER BY date",
            [cid],
        ).fetchall():
            counts[day] = {"sent": sent, "opened": opened, "replied": replied}
    bounced: dict[date, int] = {}
    source = None
    if "leads" in tables:
        source = "instantly.leads: leads now Bounced, on the day they were last contacted (approximate)"
        bounced = dict(
            con.execute(
                "SELECT CAST(timestamp_last_contact AS DATE), count(*) FROM instantly.leads"
                " WHERE campaign_id = ? AND status = -1 AND timestamp_last_contact IS NOT NULL GROUP BY 1",
                [cid],
            ).fetchall()
        )
    rows = []
    for day in sorted(set(counts) | set(bounced)):
        c = counts.get(day, {})
        rows.append(
            DayRow(
                day=day,
                sent=int(c.get("sent", 0)),
                opened=int(c.get("opened", 0)),
                replied=int(c.get("replied", 0)),
                bounced=int(bounced.get(day, 0)) if source else None,
            )
        )
    return rows, source


def _funnel(con: duckdb.DuckDBPyConnection, tables: set[str], cid: str) -> Funnel | None:
    if "leads" in tables:
        row = con.execute(
            "SELECT count(*), count(timestamp_last_contact), count(*) FILTER (email_open_count > 0),"
            " count(*) FILTER (email_reply_count > 0),"
            f" count(*) FILTER (lt_interest_status IN {POSITIVE_INTEREST})"
            " FROM instantly.leads WHERE campaign_id = ?",
            [cid],
        ).fetchone()
        if row and row[0]:
            return Funnel(*(int(v) for v in row), source="instantly.leads (one row per lead)")
    if "campaign_analytics" in tables:
        row = con.execute(
            "SELECT leads_count, contacted_count, coalesce(open_count_unique, open_count),"
            " coalesce(reply_count_unique, reply_count), snapshot_date FROM instantly.campaign_analytics"
            " WHERE campaign_id = ? ORDER BY snapshot_date DESC LIMIT 1",
            [cid],
        ).fetchone()
        if row:
            return Funnel(
                *(int(v or 0) for v in row[:4]),
                interested=None,
                source=f"instantly.campaign_analytics snapshot of {row[4]} (no interested count)",
            )
    return None


def _matches(wanted: list[str], cid: str, name: str) -> bool:
    return any(w == cid or w.lower() == name.lower() for w in wanted)


def read_reports(con: duckdb.DuckDBPyConnection, campaigns: list[str] | None = None) -> list[CampaignReport]:
    """Each campaign's daily numbers and funnel, read from a warehouse connection.

    Args:
        con: a (read-only) warehouse connection.
        campaigns: campaign ids or names to include; all campaigns when empty.

    Raises:
        OpsError: a named campaign is not in the warehouse.
    """
    tables = _tables(con)
    known = _campaign_list(con, tables)
    if campaigns:
        missing = [w for w in campaigns if not any(_matches([w], cid, name) for cid, name, _ in known)]
        if missing:
            raise OpsError(
                f"Campaign {missing[0]!r} is not in the warehouse.",
                hint="run `ops-instantly sync` first, or check the name with `ops-instantly campaigns list`",
            )
        known = [k for k in known if _matches(campaigns, k[0], k[1])]
    reports = []
    for cid, name, label in known:
        days, bounced_source = _days(con, tables, cid)
        reports.append(CampaignReport(cid, name, label, days, _funnel(con, tables, cid), bounced_source))
    return reports


@task(name="collect-report", cache_policy=NO_CACHE)
def collect_report(warehouse: Warehouse, campaigns: list[str] | None = None) -> list[CampaignReport]:
    """Read the report's numbers from the warehouse (a read-only connection, held for milliseconds).

    Raises:
        OpsError: no warehouse file, or a named campaign is not in it.
    """
    with warehouse.connect(read_only=True) as con:
        return read_reports(con, campaigns)


# -- rendering ----------------------------------------------------------------------------------------------


def _svg_daily(report: CampaignReport, width: int = 720, height: int = 260) -> str:
    left, right, top, bottom = 48, 16, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    days = report.days
    title = f"Daily activity: {report.name}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">',
        f"<title>{html.escape(title)}</title>",
    ]
    if not days:
        out.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No daily data yet</text></svg>'
        )
        return "".join(out)
    series = [(n, c) for n, c in SERIES if n != "bounced" or days[0].bounced is not None]
    peak = max(max(int(getattr(d, n) or 0) for n, _ in series) for d in days) or 1
    step = plot_w / max(len(days) - 1, 1)

    def xy(i: int, value: int) -> tuple[float, float]:
        return left + i * step, top + plot_h - plot_h * value / peak

    for frac in (0, 0.5, 1):  # gridlines and y labels
        y = top + plot_h - plot_h * frac
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{round(peak * frac)}</text>')
    last = len(days) - 1
    for i in sorted({0, last, last // 2}):
        x, _ = xy(i, 0)
        # The first and last labels are anchored inwards so they are not clipped at the chart's edges.
        anchor = "start" if i == 0 else "end" if i == last else "middle"
        out.append(
            f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="{anchor}">{days[i].day}</text>'
        )
    for n, (name, colour) in enumerate(series):
        points = [xy(i, int(getattr(d, name) or 0)) for i, d in enumerate(days)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for (x, y), d in zip(points, days, strict=True):
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}">'
                f"<title>{d.day} {name}: {getattr(d, name)}</title></circle>"
            )
        lx = left + n * 110
        out.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="16">{name}</text>')
    out.append("</svg>")
    return "".join(out)


def _pct(part: int | None, whole: int) -> str:
    return "" if part is None or not whole else f"{100 * part / whole:.1f}%"


def _svg_funnel(report: CampaignReport, width: int = 720) -> str:
    funnel = report.funnel
    if funnel is None:
        return '<p class="muted">No leads or analytics for this campaign in the warehouse.</p>'
    stages = funnel.stages()
    bar_h, gap, label_w = 26, 8, 110
    height = len(stages) * (bar_h + gap) + gap
    top = max(funnel.leads, 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="funnel" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="Funnel: {html.escape(report.name)}">'
    ]
    for i, (label, value) in enumerate(stages):
        y = gap + i * (bar_h + gap)
        bar = 0 if value is None else (width - label_w - 160) * value / top
        shown = "n/a" if value is None else f"{value} {_pct(value, funnel.leads)}".strip()
        out.append(f'<text x="0" y="{y + 18}">{label}</text>')
        out.append(f'<rect x="{label_w}" y="{y}" width="{bar:.1f}" height="{bar_h}" fill="#4e79a7"/>')
        out.append(f'<text x="{label_w + bar + 8:.1f}" y="{y + 18}" class="num">{shown}</text>')
    out.append("</svg>")
    return "".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:780px}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2.5rem;border-top:1px solid #ddd;padding-top:1rem}
svg text{font-size:12px;fill:#333}.grid{stroke:#e5e5e5}.muted{color:#777;font-size:.85rem}
table{border-collapse:collapse;font-size:.9rem}
td,th{padding:.2rem .6rem;text-align:right;border-bottom:1px solid #eee}
td:first-child,th:first-child{text-align:left}
"""


def render_html(reports: list[CampaignReport], *, generated_at: datetime | None = None) -> str:
    """The whole report as one HTML page: a daily chart and a funnel per campaign (no scripts, no network)."""
    stamp = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Instantly campaign report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Instantly campaign report</h1><p class='muted'>Generated {stamp} from the warehouse.</p>",
    ]
    if not reports:
        parts.append("<p>No campaigns in the warehouse yet: run <code>ops-instantly sync</code> first.</p>")
    for r in reports:
        status = f" ({html.escape(r.status_label)})" if r.status_label else ""
        parts.append(f"<section><h2>{html.escape(r.name)}{status}</h2>")
        parts.append(f"<p class='muted'>Campaign id {html.escape(r.id)}</p>")
        parts.append("<h3>Daily</h3>" + _svg_daily(r))
        parts.append(
            "<p class='muted'>Sent, opened (unique) and replied (unique) per day: "
            "instantly.campaign_daily_analytics. Bounced: "
            + html.escape(r.bounced_source or "not available (no leads pulled)")
            + ".</p>"
        )
        parts.append("<h3>Funnel</h3>" + _svg_funnel(r))
        if r.funnel:
            leads = r.funnel.leads
            cells = "".join(
                f"<tr><td>{label}</td><td>{'n/a' if v is None else v}</td><td>{_pct(v, leads)}</td></tr>"
                for label, v in r.funnel.stages()
            )
            parts.append(f"<table><tr><th>Stage</th><th>Leads</th><th>of all</th></tr>{cells}</table>")
            parts.append(f"<p class='muted'>Funnel source: {html.escape(r.funnel.source)}.</p>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def render_markdown(reports: list[CampaignReport], out: str | None = None) -> str:
    """The key numbers as a markdown table (the Prefect artifact)."""
    lines = ["# Campaign report", ""]
    if out:
        lines += [f"Full report: `{out}`", ""]
    lines += [
        "| Campaign | Status | Sent | Leads | Contacted | Opened | Replied | Interested |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in reports:
        f = r.funnel
        nums = [f.leads, f.contacted, f.opened, f.replied, f.interested] if f else [None] * 5
        sent = sum(d.sent for d in r.days)
        cells = " | ".join("n/a" if v is None else str(v) for v in nums)
        lines.append(f"| {r.name} | {r.status_label or ''} | {sent} | {cells} |")
    return "\n".join(lines) + "\n"


def write_report(text: str, out: str | Path) -> Path:
    """Write the HTML file (creating its folder) and return its path."""
    path = Path(out).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
