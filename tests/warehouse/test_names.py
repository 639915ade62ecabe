"""Names from what people type (warehouse/names.py): the warehouse table a `--table` names."""

from __future__ import annotations

import pytest

from warehouse.names import ops_table_name


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
