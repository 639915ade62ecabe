"""The campaign report's numbers, read from the warehouse (pure reads over a DuckDB connection).

Sources, named in the report itself:
- headline: `ops.campaign_rates` (the latest `instantly.campaign_analytics` snapshot). Rates are over
  `leads_contacted` = distinct leads sent a first email (`new_leads_contacted_count`): Instantly's
  `contacted_count` counts sends per step, so the report shows it apart and never divides by it;
- days: `instantly.campaign_daily_analytics` (`sent`, `unique_opened`, `unique_replies`) over every day of
  the report's range (a day without a row is a day with zero); bounced per day is approximate: the API has
  no daily bounce count, so it is the leads now Bounced counted on the day they were last contacted;
- funnel: `instantly.leads`, one row per lead; without leads, the snapshot (no interested count);
- steps and variants: `ops.step_rates`, `ops.variant_rates` (`instantly.campaign_step_analytics`);
- segments: `ops.engagement_by()` over the `ops.<table>_engagement_by_campaign` rows of every source table
  feeding the campaign that has the chosen column, summed per value (`warehouse/report_segments.py`).
"""

from __future__ import annotations

from datetime import date

import duckdb

from ops_core.errors import OpsError, did_you_mean
from warehouse.report_rows import (
    CampaignReport,
    DayRow,
    Funnel,
    Headline,
    Report,
    SegmentRow,
    StepRow,
    VariantRow,
)
from warehouse.report_segments import by_hint, read_segments, source_columns
from warehouse.sync_changes import POSITIVE_INTEREST

__all__ = [
    "CampaignReport",
    "DayRow",
    "Funnel",
    "Headline",
    "Report",
    "SegmentRow",
    "StepRow",
    "VariantRow",
    "read_report",
    "read_reports",
]

# -- reading ------------------------------------------------------------------------------------------------


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables"
        " WHERE table_schema IN ('instantly', 'ops')"
    ).fetchall()
    return {r[0] for r in rows}


def _campaign_list(con: duckdb.DuckDBPyConnection, rels: set[str]) -> list[tuple[str, str, str | None]]:
    """(id, name, status label) of every campaign the warehouse knows, by name."""
    found: dict[str, tuple[str, str | None]] = {}
    if "instantly.campaigns" in rels:
        for cid, name, label in con.execute(
            "SELECT id, name, status_label FROM instantly.campaigns"
        ).fetchall():
            found[cid] = (name or cid, label)
    for table in ("campaign_daily_analytics", "campaign_analytics", "leads"):
        if f"instantly.{table}" in rels:
            for (cid,) in con.execute(
                f"SELECT DISTINCT campaign_id FROM instantly.{table} WHERE campaign_id IS NOT NULL"
            ).fetchall():
                found.setdefault(cid, (cid, None))
    return sorted(((cid, n, s) for cid, (n, s) in found.items()), key=lambda r: (r[1].lower(), r[0]))


def _range(con: duckdb.DuckDBPyConnection, rels: set[str], ids: list[str]) -> tuple[date | None, date | None]:
    """First and last day of the report: daily rows, snapshots and last contacts of the campaigns."""
    if not ids:
        return None, None
    days: list[date] = []
    queries = [
        ("instantly.campaign_daily_analytics", "SELECT min(date), max(date)"),
        ("instantly.campaign_analytics", "SELECT min(snapshot_date), max(snapshot_date)"),
        ("instantly.leads", "SELECT min(timestamp_last_contact)::DATE, max(timestamp_last_contact)::DATE"),
    ]
    for table, select in queries:
        if table in rels:
            row = con.execute(f"{select} FROM {table} WHERE list_contains(?, campaign_id)", [ids]).fetchone()
            days += [d for d in (row or ()) if d is not None]
    return (min(days), max(days)) if days else (None, None)


def _days(
    con: duckdb.DuckDBPyConnection, rels: set[str], cid: str, span: list[date]
) -> tuple[list[DayRow], str | None]:
    counts: dict[date, tuple[int, int, int]] = {}
    if "instantly.campaign_daily_analytics" in rels:
        for day, sent, opened, replied in con.execute(
            "SELECT date, coalesce(sent, 0), coalesce(unique_opened, opened, 0),"
            " coalesce(unique_replies, replies, 0) FROM instantly.campaign_daily_analytics"
            " WHERE campaign_id = ?",
            [cid],
        ).fetchall():
            counts[day] = (int(sent), int(opened), int(replied))
    bounced: dict[date, int] = {}
    source = None
    if "instantly.leads" in rels:
        source = "instantly.leads: leads now Bounced, on the day they were last contacted (approximate)"
        bounced = dict(
            con.execute(
                "SELECT CAST(timestamp_last_contact AS DATE), count(*) FROM instantly.leads"
                " WHERE campaign_id = ? AND status = -1 AND timestamp_last_contact IS NOT NULL GROUP BY 1",
                [cid],
            ).fetchall()
        )
    rows = []
    for day in span:  # every day of the range: a day without a row had nothing
        sent, opened, replied = counts.get(day, (0, 0, 0))
        rows.append(DayRow(day, sent, opened, replied, int(bounced.get(day, 0)) if source else None))
    return rows, source


def _funnel(con: duckdb.DuckDBPyConnection, rels: set[str], cid: str) -> Funnel | None:
    if "instantly.leads" in rels:
        row = con.execute(
            "SELECT count(*), count(timestamp_last_contact), count(*) FILTER (email_open_count > 0),"
            " count(*) FILTER (email_reply_count > 0),"
            f" count(*) FILTER (lt_interest_status IN {POSITIVE_INTEREST})"
            " FROM instantly.leads WHERE campaign_id = ?",
            [cid],
        ).fetchone()
        if row and row[0]:
            leads, contacted, opened, replied, interested = (int(v) for v in row)
            return Funnel(
                leads, contacted, opened, replied, interested, source="instantly.leads (one row per lead)"
            )
    if "instantly.campaign_analytics" in rels:
        row = con.execute(
            "SELECT leads_count, new_leads_contacted_count, coalesce(open_count_unique, open_count),"
            " coalesce(reply_count_unique, reply_count), snapshot_date FROM instantly.campaign_analytics"
            " WHERE campaign_id = ? ORDER BY snapshot_date DESC LIMIT 1",
            [cid],
        ).fetchone()
        if row:
            leads, contacted, opened, replied = (int(v or 0) for v in row[:4])
            return Funnel(
                leads,
                contacted,
                opened,
                replied,
                interested=None,
                source=f"instantly.campaign_analytics snapshot of {row[4]} (no interested count)",
            )
    return None


def _headline(
    con: duckdb.DuckDBPyConnection, rels: set[str], cid: str, funnel: Funnel | None, days: list[DayRow]
) -> Headline | None:
    if "ops.campaign_rates" in rels:
        row = con.execute(
            "SELECT leads_count, leads_contacted, emails_sent, opened, replied, positive_replies, bounced,"
            " contacted_count, snapshot_date FROM ops.campaign_rates WHERE campaign_id = ?",
            [cid],
        ).fetchone()
        if row:
            leads, contacted, sent, opened, replied, positive, bounced, contacted_count, as_of = row
            return Headline(
                leads, int(contacted or 0), int(sent or 0), int(opened or 0), int(replied or 0),
                None if positive is None else int(positive), int(bounced or 0), contacted_count, as_of,
                source=f"instantly.campaign_analytics snapshot of {as_of} (all-time totals)",
            )  # fmt: skip
    if funnel is None or funnel.interested is None:
        return None
    bounced = sum(d.bounced or 0 for d in days)
    return Headline(
        funnel.leads, funnel.contacted, sum(d.sent for d in days), funnel.opened, funnel.replied,
        funnel.interested, bounced, None, None, source="instantly.leads (no analytics snapshot yet)",
    )  # fmt: skip


def _steps(
    con: duckdb.DuckDBPyConnection, rels: set[str], cid: str
) -> tuple[list[StepRow], list[VariantRow]]:
    if "ops.step_rates" not in rels or "ops.variant_rates" not in rels:
        return [], []
    steps = [
        StepRow(*(int(v or 0) for v in row))
        for row in con.execute(
            "SELECT step, variants, sent, opened, replied, positive_replies FROM ops.step_rates"
            " WHERE campaign_id = ? ORDER BY step",
            [cid],
        ).fetchall()
    ]
    variants = [
        VariantRow(
            int(step),
            1,
            int(sent or 0),
            int(opened or 0),
            int(replied or 0),
            int(positive or 0),
            variant=int(variant),
            label=label,
            subject=subject,
            is_winner=bool(winner),
        )  # fmt: skip
        for step, variant, label, subject, sent, opened, replied, positive, winner in con.execute(
            "SELECT step, variant, variant_label, subject, sent, opened, replied, positive_replies, is_winner"
            " FROM ops.variant_rates WHERE campaign_id = ? ORDER BY step, variant",
            [cid],
        ).fetchall()
    ]
    return steps, variants


def _total(heads: list[Headline]) -> Headline | None:
    if not heads:
        return None
    positives = [h.positive for h in heads]
    return Headline(
        leads=sum(h.leads or 0 for h in heads),
        leads_contacted=sum(h.leads_contacted for h in heads),
        emails_sent=sum(h.emails_sent for h in heads),
        opened=sum(h.opened for h in heads),
        replied=sum(h.replied for h in heads),
        positive=None if None in positives else sum(p or 0 for p in positives),
        bounced=sum(h.bounced for h in heads),
        contacted_count=sum(h.contacted_count or 0 for h in heads),
        as_of=max((h.as_of for h in heads if h.as_of), default=None),
        source="the campaigns above, added up",
    )


def _matches(wanted: list[str], cid: str, name: str) -> bool:
    # The exact name, as every other command takes it (docs/troubleshooting.md): "Q3" is not "q3".
    return any(w in (cid, name) for w in wanted)


def read_report(
    con: duckdb.DuckDBPyConnection, campaigns: list[str] | None = None, *, by: str | None = None
) -> Report:
    """The report's numbers, read from a (read-only) warehouse connection.

    Args:
        con: a warehouse connection (read-only is enough: only a temporary view is created).
        campaigns: campaign ids or exact names to include; all campaigns when empty.
        by: a source column (e.g. "Industry", matched case-insensitively) for the reply-rate breakdown,
            over every source table feeding a campaign that has it.

    Raises:
        OpsError: a named campaign is not in the warehouse, or no source table has the column `by`.
    """
    rels = _relations(con)
    known = _campaign_list(con, rels)
    if campaigns:
        missing = [w for w in campaigns if not any(_matches([w], cid, name) for cid, name, _ in known)]
        if missing:
            close = did_you_mean(missing[0], [name for _, name, _ in known])
            raise OpsError(
                f"Campaign {missing[0]!r} is not in the warehouse{close}.",
                hint="run `ops-instantly sync` first, or check the name with `ops-instantly campaigns list`",
            )
        known = [k for k in known if _matches(campaigns, k[0], k[1])]
    tables = source_columns(con, rels, by) if by else []
    # The heading's spelling: as asked when a table spells it so, else the first table's (by name).
    spellings = [c for _, c in tables if c is not None]
    column = by if by in spellings else next(iter(spellings), None)
    if by and column is None:
        raise OpsError(
            f"No source table in the warehouse has a column {by!r}.",
            hint=by_hint(con, rels, [k[0] for k in known] if campaigns else ()),
        )
    start, end = _range(con, rels, [k[0] for k in known])
    span = Report(start, end, by, []).days
    reports = []
    for cid, name, label in known:
        days, bounced_source = _days(con, rels, cid, span)
        funnel = _funnel(con, rels, cid)
        steps, variants = _steps(con, rels, cid)
        segments, segment_source = read_segments(con, tables, cid, column) if column else (None, None)
        reports.append(
            CampaignReport(
                cid,
                name,
                label,
                days,
                funnel,
                bounced_source,
                _headline(con, rels, cid, funnel, days),
                steps,
                variants,
                segments,
                segment_source,
            )  # fmt: skip
        )
    heads = [r.headline for r in reports if r.headline is not None]
    return Report(start, end, column, reports, _total(heads) if len(heads) > 1 else None)


def read_reports(con: duckdb.DuckDBPyConnection, campaigns: list[str] | None = None) -> list[CampaignReport]:
    """Each campaign's report (see `read_report`), without a source-column breakdown."""
    return read_report(con, campaigns).campaigns
