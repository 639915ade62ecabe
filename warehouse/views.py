"""The engagement views: Instantly engagement joined back onto each source table.

For every table in `ops.source_tables`:

- `ops.<table>_engagement_by_campaign`: one row per source row and campaign it is a lead in;
- `ops.<table>_engagement`: one row per source row (every row, contacted or not): counts summed across
  campaigns, timestamps the latest, statuses the most advanced (ranks from `ops_core/engagement.py`).

Between syncs, webhook events (`instantly.webhook_events`) newer than what a lead's pulled row reflects are
overlaid on it (`live_leads_sql`): a reply, open, click, bounce, unsubscribe or interest change shows as
soon as the ingest commits it, even for a pushed lead no sync has pulled yet. "Newer" compares the event's
Instantly timestamp with the lead's own (`timestamp_last_reply` for replies, and so on), so once a sync
pulls the lead, its row already counts the event and the overlay adds nothing: the sync stays the source of
truth and reconciles.

The columns they add are `warehouse.names.VIEW_COLUMNS`; a source column of one of those names (in any ASCII
case) is replaced by the view's own, never shown beside it (`warehouse.names.view_column_sql`).

Rows are linked to leads through the push ledger (row key -> lead id), and by normalised email for leads
the ledger does not link to this table (leads added outside this project). Views are re-bound at query
time, so they follow the source table when a push replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from instantly_client.models.enums import InterestStatus, LeadStatus
from ops_core.emails import email_key_sql
from ops_core.engagement import (
    EMAIL_STATUS_RANK,
    INTEREST_CUSTOM_RANK,
    INTEREST_NULL_RANK,
    INTEREST_STATUS_RANK,
    INTEREST_VALUE,
    LEAD_STATUS_RANK,
)
from ops_core.sql import quote_ident, quote_literal
from warehouse import ledger
from warehouse.db import table_exists
from warehouse.names import view_column_sql

_NULL_INTEREST = -1_000_000  # stands for "no interest status" (plain Lead) inside the rank CASE


@dataclass(frozen=True)
class SourceTable:
    """A source table as recorded in ops.source_tables."""

    name: str
    key_column: str | None = None
    email_column: str | None = None
    source: str | None = None
    source_table: str | None = None  # a database source's `schema.table` as read (migration 0014)
    source_query: str | None = None  # or its --query


def _rank_sql(expr: str, ranks: dict[str, int] | dict[int, int], default: int) -> str:
    """A SQL rank of `expr` for the lead `ld` (NULL when the lead has not been pulled)."""
    whens = " ".join(f"WHEN {quote_literal(value)} THEN {rank}" for value, rank in ranks.items())
    return f"(CASE WHEN ld.id IS NULL THEN NULL ELSE (CASE {expr} {whens} ELSE {default} END) END)"


EMAIL_RANK_SQL = _rank_sql("ld.email_status", EMAIL_STATUS_RANK, 0)
LEAD_RANK_SQL = _rank_sql("ld.status", LEAD_STATUS_RANK, 0)
INTEREST_RANK_SQL = _rank_sql(
    f"coalesce(ld.lt_interest_status, {_NULL_INTEREST})",
    {_NULL_INTEREST: INTEREST_NULL_RANK, **INTEREST_STATUS_RANK},
    INTEREST_CUSTOM_RANK,
)


def _after(column: str) -> str:
    """The event is newer than what the pulled lead's `column` reflects (or the lead was never pulled)."""
    return f"coalesce(e.event_at, e.received_at) > coalesce(l.{column}, '-infinity'::TIMESTAMPTZ)"


def _email_rank(expr: str) -> str:
    whens = " ".join(f"WHEN {quote_literal(v)} THEN {r}" for v, r in EMAIL_STATUS_RANK.items())
    return f"(CASE {expr} {whens} ELSE -1 END)"


def live_leads_sql() -> str:
    """A relation shaped like `instantly.leads` (the columns the views use) with webhook events overlaid (pure).

    One row per pulled lead, plus one per ledger lead not pulled yet that has webhook events. Events are
    matched on (campaign_id, normalised lead email); only those newer than the lead's matching timestamp
    count. Interest events map to Lead.lt_interest_status (`ops_core.engagement.INTEREST_VALUE`).
    """
    interest_names = ", ".join(quote_literal(name) for name in INTEREST_VALUE)
    interest_value = " ".join(
        f"WHEN {quote_literal(name)} THEN {_NULL_INTEREST if value is None else value}"
        for name, value in INTEREST_VALUE.items()
    )
    labels = " ".join(
        f"WHEN {_NULL_INTEREST if value is None else value} THEN "
        f"{quote_literal('Lead' if value is None else InterestStatus.label_for(value) or str(value))}"
        for value in INTEREST_VALUE.values()
    )
    derived = """(CASE WHEN d.unsubscribed THEN 'unsubscribed' WHEN d.bounced THEN 'bounced'
            WHEN d.replies > 0 THEN 'replied' WHEN d.clicks > 0 THEN 'clicked' WHEN d.opens > 0 THEN 'opened'
            WHEN d.last_sent IS NOT NULL THEN 'sent' END)"""
    return f"""(
    WITH lead_keys AS (
        SELECT id, campaign_id, email_normalized, timestamp_updated, timestamp_last_contact,
            timestamp_last_open, timestamp_last_reply, timestamp_last_click, timestamp_last_interest_change
        FROM instantly.leads
        UNION ALL
        SELECT lead_id, campaign_id, email, NULL, NULL, NULL, NULL, NULL, NULL
        FROM ({ledger.ledger_leads_sql()})
        WHERE lead_id NOT IN (SELECT id FROM instantly.leads)
    ),
    deltas AS (
        SELECT l.id AS lead_id,
            count(*) FILTER (WHERE e.event_type = 'reply_received' AND {_after("timestamp_last_reply")}) AS replies,
            count(*) FILTER (WHERE e.event_type = 'email_opened' AND {_after("timestamp_last_open")}) AS opens,
            count(*) FILTER (WHERE e.event_kind = 'email_link_clicked' AND {_after("timestamp_last_click")})
                AS clicks,
            max(coalesce(e.event_at, e.received_at))
                FILTER (WHERE e.event_type = 'email_sent' AND {_after("timestamp_last_contact")}) AS last_sent,
            coalesce(bool_or(e.event_type = 'email_bounced' AND {_after("timestamp_updated")}), false) AS bounced,
            coalesce(bool_or(e.event_type = 'lead_unsubscribed' AND {_after("timestamp_updated")}), false)
                AS unsubscribed,
            arg_max(CASE e.event_type {interest_value} END, coalesce(e.event_at, e.received_at))
                FILTER (WHERE e.event_type IN ({interest_names}) AND {_after("timestamp_last_interest_change")})
                AS interest
        FROM lead_keys l
        JOIN instantly.webhook_events e ON e.campaign_id = l.campaign_id AND e.lead_email = l.email_normalized
        GROUP BY l.id
    )
    SELECT l.id, l.campaign_id, l.email_normalized,
        CASE WHEN d.unsubscribed THEN {LeadStatus.UNSUBSCRIBED.value} WHEN d.bounced THEN {LeadStatus.BOUNCED.value}
            ELSE ld.status END AS status,
        CASE WHEN d.unsubscribed THEN {quote_literal(LeadStatus.label_for(LeadStatus.UNSUBSCRIBED.value) or "")}
            WHEN d.bounced THEN {quote_literal(LeadStatus.label_for(LeadStatus.BOUNCED.value) or "")}
            ELSE ld.status_label END AS status_label,
        CASE WHEN d.interest IS NULL THEN ld.lt_interest_status ELSE nullif(d.interest, {_NULL_INTEREST}) END
            AS lt_interest_status,
        CASE WHEN d.interest IS NULL THEN ld.interest_status_label ELSE (CASE d.interest {labels} END) END
            AS interest_status_label,
        CASE WHEN {_email_rank(derived)} > {_email_rank("ld.email_status")} THEN {derived} ELSE ld.email_status END
            AS email_status,
        CASE WHEN d.lead_id IS NULL THEN ld.email_open_count
            ELSE coalesce(ld.email_open_count, 0) + d.opens END AS email_open_count,
        CASE WHEN d.lead_id IS NULL THEN ld.email_reply_count
            ELSE coalesce(ld.email_reply_count, 0) + d.replies END AS email_reply_count,
        CASE WHEN d.lead_id IS NULL THEN ld.email_click_count
            ELSE coalesce(ld.email_click_count, 0) + d.clicks END AS email_click_count,
        greatest(ld.timestamp_last_contact, d.last_sent) AS timestamp_last_contact
    FROM lead_keys l
    LEFT JOIN instantly.leads ld ON ld.id = l.id
    LEFT JOIN deltas d ON d.lead_id = l.id
    WHERE ld.id IS NOT NULL OR d.lead_id IS NOT NULL
)"""


_AGGREGATES = f"""
        arg_max(ld.status_label, {LEAD_RANK_SQL}) AS instantly_status,
        coalesce(arg_max(ld.email_status, {EMAIL_RANK_SQL}), 'not_contacted') AS instantly_email_status,
        max(ld.timestamp_last_contact) AS instantly_last_contacted,
        coalesce(sum(ld.email_reply_count), 0)::BIGINT AS instantly_reply_count,
        coalesce(sum(ld.email_open_count), 0)::BIGINT AS instantly_open_count,
        coalesce(sum(ld.email_click_count), 0)::BIGINT AS instantly_click_count,
        arg_max(ld.interest_status_label, {INTEREST_RANK_SQL}) AS instantly_interest_status,
        arg_max(k.lead_id, coalesce({EMAIL_RANK_SQL}, -1) * 10000000000000
            + coalesce(epoch_ms(ld.timestamp_last_contact), 0)) AS instantly_lead_id,
        list_sort(list_distinct(list(coalesce(c.name, p.name, k.campaign_id)))) AS instantly_campaigns"""


def _links_sql(table: SourceTable) -> str:
    """(row key, campaign, lead, how linked) for one source table."""
    links = (
        f"SELECT row_key, campaign_id, lead_id, 'ledger' AS link FROM ({ledger.lead_links_sql(table.name)})"
    )
    if not table.email_column:
        return links
    email = email_key_sql(f"CAST(s.{quote_ident(table.email_column)} AS VARCHAR)")  # the push's own rule
    by_email = (
        "SELECT s._row_key AS row_key, ld.campaign_id, ld.id AS lead_id, 'email' AS link "
        f"FROM ops.{quote_ident(table.name)} s JOIN instantly.leads ld ON ld.email_normalized = {email} "
        f"WHERE ld.id NOT IN (SELECT lead_id FROM ({ledger.lead_links_sql(table.name)}))"
    )
    return f"{links} UNION ALL {by_email}"


def engagement_views_sql(table: SourceTable) -> list[str]:
    """CREATE OR REPLACE VIEW statements for one source table (pure)."""
    # Source columns named like ours (written back to Postgres, then extracted again) are replaced, in any ASCII
    # case: DuckDB would rename ours `instantly_reply_count_1` next to a source's `Instantly_Reply_Count`, and
    # `instantly_reply_count` would read theirs. The extract refuses such a source (names.engagement_clash);
    # this keeps the views right on a table extracted before it did.
    src = f"(SELECT COLUMNS(lambda c: NOT {view_column_sql('c')}) FROM ops.{quote_ident(table.name)})"
    links = f"""
    links AS (
        SELECT k.row_key, coalesce(ld.campaign_id, k.campaign_id) AS campaign_id, k.lead_id, k.link
        FROM ({_links_sql(table)}) k LEFT JOIN instantly.leads ld ON ld.id = k.lead_id
    )"""
    joined = (
        f"links k LEFT JOIN {live_leads_sql()} ld ON ld.id = k.lead_id "
        "LEFT JOIN instantly.campaigns c ON c.id = k.campaign_id "
        "LEFT JOIN ops.pushed_campaigns p ON p.campaign_id = k.campaign_id"  # named before any sync
    )
    by_campaign = f"""CREATE OR REPLACE VIEW ops.{quote_ident(table.name + "_engagement_by_campaign")} AS
WITH {links},
    agg AS (
        SELECT k.row_key, k.campaign_id AS instantly_campaign_id,
            any_value(coalesce(c.name, p.name)) AS instantly_campaign_name,
            string_agg(DISTINCT k.link, ',' ORDER BY k.link) AS instantly_link,{_AGGREGATES}
        FROM {joined}
        GROUP BY k.row_key, k.campaign_id
    )
SELECT s.*, a.* EXCLUDE (row_key)
FROM {src} s JOIN agg a ON a.row_key = s._row_key"""
    per_row = f"""CREATE OR REPLACE VIEW ops.{quote_ident(table.name + "_engagement")} AS
WITH {links},
    agg AS (
        SELECT k.row_key,{_AGGREGATES}
        FROM {joined}
        GROUP BY k.row_key
    )
SELECT s.*,
    a.instantly_status,
    coalesce(a.instantly_email_status, 'not_contacted') AS instantly_email_status,
    a.instantly_last_contacted,
    coalesce(a.instantly_reply_count, 0)::BIGINT AS instantly_reply_count,
    coalesce(a.instantly_open_count, 0)::BIGINT AS instantly_open_count,
    coalesce(a.instantly_click_count, 0)::BIGINT AS instantly_click_count,
    a.instantly_interest_status,
    a.instantly_lead_id,
    coalesce(a.instantly_campaigns, []::VARCHAR[]) AS instantly_campaigns
FROM {src} s LEFT JOIN agg a ON a.row_key = s._row_key"""
    return [by_campaign, per_row]


def source_tables(con: duckdb.DuckDBPyConnection) -> list[SourceTable]:
    """The tables listed in ops.source_tables that exist (none before the first push)."""
    if not table_exists(con, "ops", "source_tables"):
        return []
    cur = con.execute("SELECT * FROM ops.source_tables")  # a read-only connection may predate migration 0014
    names = [d[0] for d in cur.description or []]
    fields = ("table_name", "key_column", "email_column", "source", "source_table", "source_query")
    tables = []
    for values in cur.fetchall():
        row = dict(zip(names, values, strict=True))
        if table_exists(con, "ops", row["table_name"]):
            tables.append(SourceTable(row["table_name"], *(row.get(f) for f in fields[1:])))
    return tables


def create_engagement_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)create both engagement views of every source table; returns the per-row view names."""
    if not ledger.exists(con):
        return []
    created = []
    for table in source_tables(con):
        for statement in engagement_views_sql(table):
            con.execute(statement)
        created.append(f"ops.{table.name}_engagement")
    return created
