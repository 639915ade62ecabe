"""Names (warehouse/names.py): the warehouse table a `--table` names; source columns that clash with the
engagement views' own."""

from __future__ import annotations

import duckdb
import pytest

from ops_core.sql import quote_ident
from warehouse.names import VIEW_COLUMNS, engagement_clash, ops_table_name, view_column_sql


@pytest.mark.parametrize(
    ("given", "table"),
    [
        ("prospects", "prospects"),
        ("ops.prospects", "prospects"),
        (" ops.Prospects ", "prospects"),
        ("crm.public.Trade Show Leads", "trade_show_leads"),
        ("public.LeadList", "lead_list"),
    ],
)
def test_a_table_given_with_or_without_its_schema_names_one_warehouse_table(given: str, table: str) -> None:
    assert ops_table_name(given) == table


CLASHES = [
    ("Instantly_Reply_Count", "instantly_reply_count"),  # the breaker's CSV column
    ("INSTANTLY_STATUS", "instantly_status"),
    ("Instantly_Campaign_Name", "instantly_campaign_name"),
    ("instantly_link", "instantly_link"),  # by-campaign: no write-back writes it, so it is the source's own
    ("instantly_reply_count", None),  # written back by an earlier sync: ours, replaced by the views
    ("instantly_campaigns", None),
    ("instantly_reply_count_1", None),
    ("Instantly Reply Count", None),  # another identifier (a space), whatever custom variable it makes
    ("instantly_notes", None),
    ("instantly_lin\u212a", None),  # a Kelvin sign: not a 'k' to DuckDB
    ("\u0130nstantly_status", None),  # a dotted capital I
]


@pytest.mark.parametrize(("column", "ours"), CLASHES)
def test_a_source_column_clashes_with_the_view_column_it_equals_but_for_ascii_case(
    column: str, ours: str | None
) -> None:
    assert engagement_clash(column) == ours


@pytest.mark.parametrize("column", [c for c, _ in CLASHES])
def test_the_views_replace_exactly_the_source_columns_duckdb_would_confuse_with_theirs(column: str) -> None:
    """`view_column_sql` (the views' filter) is true for a name exactly when DuckDB, selecting the source's
    columns and then ours, renames one of ours (`instantly_reply_count_1`)."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE src (email VARCHAR, {quote_ident(column)} VARCHAR)")
    ours = ", ".join(f"1 AS {quote_ident(c)}" for c in VIEW_COLUMNS)
    con.execute(f"CREATE VIEW v AS SELECT *, {ours} FROM src")
    names = [d[0] for d in con.execute("SELECT * FROM v LIMIT 0").description]
    renamed = names[2:] != list(VIEW_COLUMNS)
    replaced = con.execute(f"SELECT {view_column_sql('$1')}", [column]).fetchone()
    assert replaced == (renamed,), names
    # And every name the views replace is a clash, or a column a write-back wrote.
    assert renamed == (engagement_clash(column) is not None or column in VIEW_COLUMNS)
