"""Which Postgres tables the write-back writes (tasks/writeback.py: plan_tables, pure)."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from ops_core.errors import OpsError
from tasks.writeback import WriteBackTarget, plan_tables
from warehouse.views import SourceTable

URL = "postgresql://ops@db/crm"
TABLES = [
    SourceTable("contacts", source=URL, source_table="crm.Contacts"),  # read from a schema, mixed case
    SourceTable("hot_leads", source=URL, source_query="SELECT * FROM crm.leads WHERE hot"),  # a --query
    SourceTable("legacy", source=URL),  # recorded before migration 0014
    SourceTable("leads", source="leads.csv"),
    SourceTable("people", source="postgresql://ops@other/db", source_table="public.people"),
]


def test_every_table_of_the_database_goes_to_the_table_it_was_read_from() -> None:
    # Was: public.contacts (the warehouse name in the default schema: no such table), and public.hot_leads
    # for the query, which failed the whole write-back: "The Postgres table public.hot_leads does not exist."
    pairs = plan_tables(TABLES, WriteBackTarget(url=SecretStr(URL)))
    assert [(t.name, pg) for t, pg in pairs] == [("contacts", "crm.Contacts"), ("legacy", "public.legacy")]


@pytest.mark.parametrize("named", ["contacts", "crm.Contacts"])
def test_a_named_table_is_found_by_its_warehouse_or_its_postgres_name(named: str) -> None:
    pairs = plan_tables(TABLES, WriteBackTarget(url=SecretStr(URL), tables=(named,)))
    assert [t.name for t, _ in pairs] == ["contacts"]


def test_a_query_table_is_written_only_where_it_is_named() -> None:
    pairs = plan_tables(TABLES, WriteBackTarget(url=SecretStr(URL), tables=("crm.hot_leads",)))
    assert [(t.name, pg) for t, pg in pairs] == [("hot_leads", "crm.hot_leads")]


def test_an_unknown_named_table_is_a_one_line_error() -> None:
    with pytest.raises(OpsError, match="No source table 'nope'"):
        plan_tables(TABLES, WriteBackTarget(url=SecretStr(URL), tables=("nope",)))
