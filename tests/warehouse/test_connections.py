"""Table-to-campaign connections (warehouse/connections.py): stored in ops.connections on a real DuckDB file,
and grouped into one push per table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ops_core.errors import OpsError
from warehouse.connections import (
    Connection,
    list_connections,
    plan_connected_pushes,
    read_connections,
    remove_connections,
    save_connection,
)
from warehouse.db import Warehouse

WHEN = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def test_a_saved_connection_reads_back_with_its_mapping_and_time(warehouse_path: Path) -> None:
    saved = Connection(
        "prospects", "c1", "One", source="/data/p.csv", key_column="id",
        mapping={"fields": {"email": "E-mail"}, "exclude": ["team"]}, created_at=WHEN,
    )  # fmt: skip
    with Warehouse(warehouse_path).connect() as con:
        save_connection(con, saved)
    assert read_connections(Warehouse(warehouse_path)) == [saved]


def test_a_connection_keeps_its_sheet_or_query_and_each_makes_a_push_of_its_own(warehouse: Any) -> None:
    by_sheet = Connection("fair", "c1", "One", source="/data/fair.xlsx", sheet="Leads", created_at=WHEN)
    by_query = Connection(
        "vips", "c2", "Two", source="block:crm", query="SELECT * FROM crm.contacts WHERE vip", created_at=WHEN
    )
    with warehouse.connect() as con:
        save_connection(con, by_sheet)
        save_connection(con, by_query)
    assert read_connections(warehouse) == [by_sheet, by_query]  # a DuckDB file and a DuckLake alike
    assert (by_sheet.read_as, by_query.read_as) == ("/data/fair.xlsx (sheet 'Leads')", "block:crm (a query)")
    first = Connection("fair", "c3", "Three", source="/data/fair.xlsx", created_at=WHEN)  # its first sheet
    plans = plan_connected_pushes([by_sheet, first, by_query])
    assert [(p["table"], p["sheet"], p["query"], p["campaigns"]) for p in plans] == [
        ("fair", "Leads", None, ["c1"]),
        ("fair", None, None, ["c3"]),
        ("vips", None, "SELECT * FROM crm.contacts WHERE vip", ["c2"]),
    ]


def test_saving_the_same_table_and_campaign_again_replaces_it(warehouse_path: Path) -> None:
    with Warehouse(warehouse_path).connect() as con:
        save_connection(con, Connection("prospects", "c1", "Old name", source="a.csv", created_at=WHEN))
        save_connection(con, Connection("prospects", "c1", "New name", source="b.csv", created_at=WHEN))
        found = list_connections(con)
    assert [(c.campaign_name, c.source) for c in found] == [("New name", "b.csv")]


def test_connections_list_by_table_then_campaign_name_and_filter_by_table(warehouse_path: Path) -> None:
    with Warehouse(warehouse_path).connect() as con:
        for table, cid, name in [
            ("z_leads", "c9", "Alpha"),
            ("a_leads", "c2", "Beta"),
            ("a_leads", "c1", "Alpha"),
        ]:
            save_connection(con, Connection(table, cid, name, source="s.csv", created_at=WHEN))
        everything = [(c.table_name, c.campaign_name) for c in list_connections(con)]
        one_table = [c.campaign_id for c in list_connections(con, "a_leads")]
    assert everything == [("a_leads", "Alpha"), ("a_leads", "Beta"), ("z_leads", "Alpha")]
    assert one_table == ["c1", "c2"]


def test_remove_takes_all_of_a_tables_connections_or_only_the_named_campaigns(warehouse_path: Path) -> None:
    with Warehouse(warehouse_path).connect() as con:
        for table, cid in [("prospects", "c1"), ("prospects", "c2"), ("prospects", "c3"), ("other", "c1")]:
            save_connection(con, Connection(table, cid, cid, source="s.csv", created_at=WHEN))
        assert remove_connections(con, "prospects", ["c1", "c3", "not-connected"]) == 2
        assert [c.campaign_id for c in list_connections(con, "prospects")] == ["c2"]
        assert remove_connections(con, "prospects") == 1
        assert remove_connections(con, "prospects") == 0
        assert [(c.table_name, c.campaign_id) for c in list_connections(con)] == [("other", "c1")]


def test_a_table_spelled_with_its_schema_or_without_is_one_table_to_list_remove_and_push(
    warehouse_path: Path,
) -> None:
    with Warehouse(warehouse_path).connect() as con:
        save_connection(con, Connection("ops.hooks", "c1", "One", source="/data/hooks.csv", created_at=WHEN))
        save_connection(con, Connection("ops.hooks", "c2", "Two", source="/data/hooks.csv", created_at=WHEN))
        # The same table and campaign under another spelling replaces that connection: one push, not two.
        save_connection(con, Connection("hooks", "c1", "One", source="/data/hooks.csv", created_at=WHEN))
        assert sorted((c.table_name, c.campaign_id) for c in list_connections(con)) == [
            ("hooks", "c1"),
            ("ops.hooks", "c2"),
        ]
        assert [c.campaign_id for c in list_connections(con, "ops.hooks")] == ["c1", "c2"]
        assert [c.campaign_id for c in list_connections(con, "Hooks")] == ["c1", "c2"]
        plans = plan_connected_pushes(list_connections(con))
        assert [(p["table"], p["campaigns"]) for p in plans] == [("hooks", ["c1", "c2"])]
        assert remove_connections(con, "ops.hooks", ["c2"]) == 1
        assert remove_connections(con, "ops.hooks") == 1
        assert list_connections(con) == []


def test_a_database_sources_schema_names_another_table_to_read_so_it_is_its_own_push() -> None:
    plans = plan_connected_pushes(
        [
            Connection("crm.leads", "c1", "One", source="block:crm"),
            Connection("sales.leads", "c2", "Two", source="block:crm"),
        ]
    )
    assert [(p["table"], p["campaigns"]) for p in plans] == [("crm.leads", ["c1"]), ("sales.leads", ["c2"])]


def test_a_warehouse_from_before_connections_existed_lists_none(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    duckdb.connect(str(path)).close()  # no migrations applied: no ops.connections table
    with duckdb.connect(str(path), read_only=True) as con:
        assert list_connections(con) == []


def test_connections_group_into_one_push_per_table() -> None:
    plans = plan_connected_pushes(
        [
            Connection("prospects", "c1", "One", source="/data/p.csv", key_column="id"),
            Connection("prospects", "c2", "Two", source="/data/p.csv", key_column="id"),
            Connection("crm_leads", "c3", "Three", source="block:crm"),
        ]
    )
    assert plans == [
        {
            "table": "prospects",
            "key": "id",
            "campaigns": ["c1", "c2"],
            "campaign_names": ["One", "Two"],
            "mapping_rules": None,
            "sheet": None,
            "query": None,
            "source": "/data/p.csv",
        },
        {
            "table": "crm_leads",
            "key": None,
            "campaigns": ["c3"],
            "campaign_names": ["Three"],
            "mapping_rules": None,
            "sheet": None,
            "query": None,
            "source_block": "crm",
        },
    ]


def test_one_table_with_two_mappings_makes_two_pushes_each_with_its_rules() -> None:
    plans = plan_connected_pushes(
        [
            Connection("prospects", "c1", "One", source="p.csv", mapping={"exclude": ["team"]}),
            Connection("prospects", "c2", "Two", source="p.csv", mapping={"exclude": ["notes"]}),
        ]
    )
    assert [(p["campaigns"], p["mapping_rules"]) for p in plans] == [
        (["c1"], {"exclude": ["team"]}),
        (["c2"], {"exclude": ["notes"]}),
    ]


def test_a_connection_without_a_source_cannot_be_pushed() -> None:
    with pytest.raises(OpsError, match="has no source"):
        plan_connected_pushes([Connection("prospects", "c1", "One")])
