"""The report's breakdown by a source column: reply rate per value among one campaign's leads.

A campaign can be fed by several source tables (a CSV and a Postgres table pushed to it). The breakdown
covers every one of them that has the column (matched in any case, as `ops.engagement_by()` does): their
`ops.<table>_engagement_by_campaign` rows of the campaign, the column cast to text, are stacked into one
temporary view and grouped once by `ops.engagement_by()`, so a value's counts are summed over the tables.
A lead counts once per value: the same person in two tables (a CSV and the CRM table made from it) is one
lead, not two rows; a lead whose tables disagree on the value counts under each value.
The note names each table used, and each table feeding the campaign without the column (its rows are not in
the breakdown).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from ops_core.engagement import ENGAGEMENT_COLUMNS
from ops_core.sql import quote_ident, quote_literal
from ops_core.text import counted
from warehouse.report_rows import SegmentRow

__all__ = ["MAX_SEGMENTS", "by_hint", "read_segments", "segments_view_sql", "source_columns"]

MAX_SEGMENTS = 15  # the rest of a column's values are folded into one "other values" row
_VIEW = "_report_segment"
_SEGMENT = "segment"  # the stacked column's name: ops.engagement_by() names its output column so too


def _source_table_columns(con: duckdb.DuckDBPyConnection, rels: set[str]) -> list[tuple[str, list[str]]]:
    """(table, its columns in order) of every recorded source table that has its engagement views."""
    if "ops.source_tables" not in rels:
        return []
    found = []
    for (table,) in con.execute("SELECT table_name FROM ops.source_tables ORDER BY table_name").fetchall():
        if f"ops.{table}_engagement_by_campaign" not in rels:
            continue
        columns = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'ops'"
                " AND table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
        found.append((table, columns))
    return found


def source_columns(con: duckdb.DuckDBPyConnection, rels: set[str], by: str) -> list[tuple[str, str | None]]:
    """(table, its column named `by` as the table spells it, or None) of every source table with engagement
    views, by table name. The exact spelling wins, else any case (as `ops.engagement_by()` matches)."""
    found: list[tuple[str, str | None]] = []
    for table, columns in _source_table_columns(con, rels):
        exact = [c for c in columns if c == by] or [c for c in columns if c.lower() == by.lower()]
        found.append((table, exact[0] if exact else None))
    return found


def by_hint(con: duckdb.DuckDBPyConnection, rels: set[str], campaign_ids: Sequence[str] = ()) -> str:
    """The hint for an unknown --by column: the columns the pushed tables do have; with `campaign_ids` (the
    report's --campaign), only those of the tables pushed to these campaigns, when any was."""
    tables = _source_table_columns(con, rels)
    whose = "a pushed table"
    if campaign_ids and tables:
        unknown: list[tuple[str, str | None]] = [(t, None) for t, _ in tables]
        feeding = {t for cid in campaign_ids for t in _feeding(con, unknown, cid)}
        if feeding:
            tables = [(t, columns) for t, columns in tables if t in feeding]
            whose = f"a table pushed to {'this campaign' if len(campaign_ids) == 1 else 'these campaigns'}"
    names = sorted({c for _, columns in tables for c in columns if not c.startswith("_")}, key=str.lower)
    if not names:
        return "push a table first (`ops-instantly push`), then pick one of its columns"
    shown = ", ".join(names[:15]) + (", ..." if len(names) > 15 else "")
    return f"pick a column of {whose}: {shown}"


def _view(table: str) -> str:
    return f"ops.{quote_ident(table + '_engagement_by_campaign')}"


def _feeding(
    con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str | None]], cid: str
) -> dict[str, int]:
    """{table: its rows in the campaign} of the tables feeding the campaign (one query over all of them)."""
    union = " UNION ALL ".join(
        f"SELECT {quote_literal(table)} AS t FROM {_view(table)} WHERE instantly_campaign_id = ?"
        for table, _ in tables
    )
    rows = con.execute(f"SELECT t, count(*) FROM ({union}) GROUP BY t", [cid] * len(tables)).fetchall()
    return {t: int(n) for t, n in rows}


def segments_view_sql(columns: list[tuple[str, str]], cid: str) -> str:
    """The temporary view stacking the campaign's rows of each (table, column), the column as text (pure).

    Only the engagement columns are kept beside it, so tables with different columns stack; the cast makes
    a value the same segment whatever its type in each table.
    """
    keep = ", ".join(quote_ident(c) for c in ENGAGEMENT_COLUMNS)
    # A view cannot hold a parameter: the campaign id goes in as a quoted literal.
    selects = [
        f"SELECT CAST({quote_ident(column)} AS VARCHAR) AS {_SEGMENT}, {keep} FROM {_view(table)}"
        f" WHERE instantly_campaign_id = {quote_literal(cid)}"
        for table, column in columns
    ]
    # One row per lead and value: a lead in two tables (a CSV and the CRM table made from it), or in two rows
    # of one, counts once; rows not linked to a lead yet stay, each on its own.
    once = f"instantly_lead_id IS NULL OR row_number() OVER (PARTITION BY {_SEGMENT}, instantly_lead_id) = 1"
    return (
        f"CREATE OR REPLACE TEMP VIEW {_VIEW} AS SELECT * FROM ({' UNION ALL '.join(selects)}) QUALIFY {once}"
    )


def _note(used: list[tuple[str, str]], lacking: list[str], feeding: dict[str, int], by: str) -> str:
    tables = " + ".join(
        f"ops.{table}_engagement_by_campaign" + ("" if column == by else f" ({column!r})")
        for table, column in used
    )
    note = f"ops.engagement_by() of {by!r} over this campaign's rows of {tables}"
    if lacking:
        missing = ", ".join(f"ops.{t} ({counted(feeding[t], 'row')})" for t in lacking)
        note += f"; not in {missing}: those rows are left out"
    return note


def _ordered(rows: list[SegmentRow]) -> list[SegmentRow]:
    """The most contacted values, best reply rate first; the rest folded into one row at the end."""
    segments = sorted(rows, key=lambda s: (-s.contacted, s.segment or ""))
    rest = segments[MAX_SEGMENTS - 1 :] if len(segments) > MAX_SEGMENTS else []
    segments = sorted(
        segments[: len(segments) - len(rest)],
        key=lambda s: (-(s.reply_rate or 0), -s.contacted, s.segment or ""),
    )
    if rest:
        segments.append(
            SegmentRow(
                f"({len(rest)} other values)",
                sum(s.rows for s in rest),
                sum(s.contacted for s in rest),
                sum(s.replied for s in rest),
                sum(s.positive for s in rest),
            )  # fmt: skip
        )
    return segments


def read_segments(
    con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str | None]], cid: str, by: str
) -> tuple[list[SegmentRow] | None, str | None]:
    """Reply rate by the chosen column among the campaign's leads, over every source table feeding it.

    Args:
        con: a warehouse connection (read-only is enough: only a temporary view is created).
        tables: `source_columns()`'s answer: (table, its column or None).
        cid: the campaign id.
        by: the column's name for the note (as the report's heading spells it).

    Returns:
        The segments and the note naming their source; (None, None) when no table feeding the campaign
        has the column.
    """
    if not tables:
        return None, None
    feeding = _feeding(con, tables, cid)
    used = [(t, c) for t, c in tables if c is not None and t in feeding]
    if not used:
        return None, None
    con.execute(segments_view_sql(used, cid))
    rows = con.execute(
        'SELECT segment, "rows", contacted, replied, positive_replies'
        f" FROM ops.engagement_by({quote_literal(_VIEW)}, {quote_literal(_SEGMENT)})",
    ).fetchall()
    segments = _ordered([SegmentRow(s, int(n), int(c), int(r), int(p)) for s, n, c, r, p in rows])
    lacking = [t for t, c in tables if c is None and t in feeding]
    return segments, _note(used, lacking, feeding, by)
